package recharge

import (
	"go.temporal.io/sdk/workflow"

	metersstore "github.com/voltflow/voltflow/store/meters"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// The activities a recharge runs (activities/recharge, activities/meters and
// activities/platformbilling), executed by their registered names: the API imports
// this package to start recharges and must not pull in the activities and
// what they depend on.

func setRechargeStatus(ctx workflow.Context, in rechargestore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetRechargeStatus", in)
}

func bookRecharge(ctx workflow.Context, in rechargestore.BookInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "BookRecharge", in)
}

// dispatchRecharge's result is a meters.DispatchResult.
func dispatchRecharge(ctx workflow.Context, in metersstore.DispatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DispatchRecharge", in)
}

func settleRecharge(ctx workflow.Context, in rechargestore.SettleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettleRecharge", in)
}

// creditRecharge credits a platform-side meter's wallet (its result, the
// wallet balance and any switch-on, is recorded in history; the workflow
// does not need it).
func creditRecharge(ctx workflow.Context, in platformbillingstore.CreditInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CreditRecharge", in)
}
