package dispatch

import (
	"go.temporal.io/sdk/workflow"

	chargercmdstore "github.com/voltflow/voltflow/store/chargercmd"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
)

// The activities dispatch runs (activities/dispatch on the main queue,
// activities/chargercmd on the chargers' queue), executed by their
// registered names: the API imports this package to start dispatch and must
// not pull in the activities and what they depend on.

// dispatchSnapshot's result is a []dispatchstore.Active.
func dispatchSnapshot(ctx workflow.Context, in dispatchstore.SnapshotInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DispatchSnapshot", in)
}

// remoteStart, remoteStop, setLimit and clearLimit answer a chargercmd.Result.

func remoteStart(ctx workflow.Context, in chargercmdstore.Start) workflow.Future {
	return workflow.ExecuteActivity(ctx, "Start", in)
}

func remoteStop(ctx workflow.Context, in chargercmdstore.Stop) workflow.Future {
	return workflow.ExecuteActivity(ctx, "Stop", in)
}

func setLimit(ctx workflow.Context, in chargercmdstore.Limit) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetLimit", in)
}

func clearLimit(ctx workflow.Context, in chargercmdstore.Release) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ClearLimit", in)
}
