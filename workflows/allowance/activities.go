package allowance

import (
	"go.temporal.io/sdk/workflow"

	allowancestore "github.com/voltflow/voltflow/store/allowance"
)

// The allowance activities (activities/allowance), executed by their
// registered names.

// dueAllowances' result is an allowancestore.DueResult.
func dueAllowances(ctx workflow.Context, in allowancestore.DueInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DueAllowances", in)
}

// grantAllowances' result is an allowancestore.BatchResult.
func grantAllowances(ctx workflow.Context, in allowancestore.BatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "GrantAllowances", in)
}
