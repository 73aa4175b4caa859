package enterprisebill

import (
	"go.temporal.io/sdk/workflow"

	creditstore "github.com/voltflow/voltflow/store/credit"
)

// The billing-cycle activities (activities/credit), executed by their
// registered names: the API imports this package and must not pull in the
// activities and what they depend on.

// closeCycle's result is a creditstore.Bill.
func closeCycle(ctx workflow.Context, in creditstore.CloseInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CloseCycle", in)
}

func emailBill(ctx workflow.Context, in creditstore.BillInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "EmailBill", in)
}

func escalate(ctx workflow.Context, in creditstore.EscalateInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "Escalate", in)
}
