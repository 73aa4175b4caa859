package credit

import (
	"go.temporal.io/sdk/workflow"

	creditstore "github.com/voltflow/voltflow/store/credit"
)

// The credit activities (activities/credit), executed by their registered
// names: the API imports this package to start workflows and must not pull
// in the activities and what they depend on.

func setEnterpriseRechargeStatus(ctx workflow.Context, in creditstore.RechargeStatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetEnterpriseRechargeStatus", in)
}

func bookEnterpriseRecharge(ctx workflow.Context, in creditstore.BookRechargeInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "BookEnterpriseRecharge", in)
}

func setApplicationStatus(ctx workflow.Context, in creditstore.ApplicationStatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetApplicationStatus", in)
}

// applyCreditLimit's result is a creditstore.ApplyLimitResult.
func applyCreditLimit(ctx workflow.Context, in creditstore.ApplyLimitInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ApplyCreditLimit", in)
}
