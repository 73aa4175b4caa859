package invoice

import (
	"go.temporal.io/sdk/workflow"

	invoicestore "github.com/voltflow/voltflow/store/invoice"
)

// The invoice activities (activities/invoice), executed by their registered
// names: the API imports this package to start workflows and must not pull
// in the activities and what they depend on.

func rejectInvoice(ctx workflow.Context, in invoicestore.DecideInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RejectInvoice", in)
}

// issueInvoice's result is the invoice number (a string).
func issueInvoice(ctx workflow.Context, in invoicestore.DecideInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "IssueInvoice", in)
}
