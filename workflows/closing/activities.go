package closing

import (
	"go.temporal.io/sdk/workflow"

	closingstore "github.com/voltflow/voltflow/store/closing"
)

// The closing activities (activities/closing), executed by their registered
// names: the API imports this package to start closings and must not pull in
// the activities and what they depend on.

func rejectClosing(ctx workflow.Context, in closingstore.RejectInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RejectClosing", in)
}

// settleClosing's result is a closingstore.Settled.
func settleClosing(ctx workflow.Context, in closingstore.SettleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettleClosing", in)
}
