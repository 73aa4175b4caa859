package settlement

import (
	"go.temporal.io/sdk/workflow"

	settlementstore "github.com/voltflow/voltflow/store/settlement"
)

// The activities a settlement runs, executed by their registered names
// (activities/settlement, main queue).

// settlementDue's result is a settlementstore.DueResult.
func settlementDue(ctx workflow.Context, in settlementstore.DueInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettlementDue", in)
}

// settleMonth's result is a settlementstore.Settlement.
func settleMonth(ctx workflow.Context, in settlementstore.SettleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettleMonth", in)
}
