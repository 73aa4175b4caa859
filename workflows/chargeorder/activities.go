package chargeorder

import (
	"go.temporal.io/sdk/workflow"

	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	chargercmdstore "github.com/voltflow/voltflow/store/chargercmd"
)

// The activities an order runs (activities/chargeorder on the main queue,
// activities/chargercmd on the chargers' queue), executed by their
// registered names: the API imports this package to start orders and must
// not pull in the activities and what they depend on.

// openChargingOrder's result is an orders.Opened.
func openChargingOrder(ctx workflow.Context, in chargeorderstore.Transaction) workflow.Future {
	return workflow.ExecuteActivity(ctx, "OpenChargingOrder", in)
}

// settleChargingOrder's result is an orders.Settled.
func settleChargingOrder(ctx workflow.Context, in chargeorderstore.SettleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SettleChargingOrder", in)
}

func failAppStart(ctx workflow.Context, in chargeorderstore.FailStartInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FailAppStart", in)
}

// remoteStart's result is a chargercmd.Result.
func remoteStart(ctx workflow.Context, in chargercmdstore.Start) workflow.Future {
	return workflow.ExecuteActivity(ctx, "Start", in)
}

// remoteStop's result is a chargercmd.Result.
func remoteStop(ctx workflow.Context, in chargercmdstore.Stop) workflow.Future {
	return workflow.ExecuteActivity(ctx, "Stop", in)
}
