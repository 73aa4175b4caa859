package refund

import (
	"go.temporal.io/sdk/workflow"

	metersstore "github.com/voltflow/voltflow/store/meters"
	refundstore "github.com/voltflow/voltflow/store/refund"
)

// The activities a refund runs (activities/refund and activities/meters),
// executed by their registered names: the API imports this package to start
// refunds and must not pull in the activities and what they depend on.

func setRefundStatus(ctx workflow.Context, in refundstore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetRefundStatus", in)
}

func bookRefund(ctx workflow.Context, in refundstore.BookInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "BookRefund", in)
}

// dispatchRefund's result is a meters.DispatchResult.
func dispatchRefund(ctx workflow.Context, in metersstore.RefundDispatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DispatchRefund", in)
}

func settleRefund(ctx workflow.Context, in refundstore.SettleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettleRefund", in)
}
