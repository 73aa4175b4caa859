package payment

import (
	"go.temporal.io/sdk/workflow"

	inboxstore "github.com/voltflow/voltflow/store/inbox"
	paymentstore "github.com/voltflow/voltflow/store/payment"
)

// The activities a payment runs (activities/payment, activities/inbox),
// executed by their registered names.

// creditPayment's result is a paymentstore.Credit.
func creditPayment(ctx workflow.Context, in paymentstore.CreditInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CreditPayment", in)
}

func closePayment(ctx workflow.Context, in paymentstore.CloseInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ClosePayment", in)
}

// queryPayment's result is a paymentstore.QueryResult.
func queryPayment(ctx workflow.Context, in paymentstore.QueryInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "QueryPayment", in)
}

func openTask(ctx workflow.Context, in inboxstore.NewTask) workflow.Future {
	return workflow.ExecuteActivity(ctx, "OpenTask", in)
}

// reconcilePayments' result is a []paymentdom.Mismatch.
func reconcilePayments(ctx workflow.Context, in paymentstore.ReconcileInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ReconcilePayments", in)
}
