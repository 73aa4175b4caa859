package sweep

import (
	"go.temporal.io/sdk/workflow"

	sweepstore "github.com/voltflow/voltflow/store/sweep"
)

// The sweep activities (activities/sweep, on the devices queue), executed by
// their registered names: the API imports this package to start sweeps and
// reads and must not pull in the activities and what they depend on.

// sweepGateways' result is a sweepstore.GatewaysResult.
func sweepGateways(ctx workflow.Context, in sweepstore.GatewaysInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SweepGateways", in)
}

// sweepBatch's result is a sweepstore.BatchResult.
func sweepBatch(ctx workflow.Context, in sweepstore.BatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SweepBatch", in)
}

// sweepMeter's result is a sweepstore.MeterReading.
func sweepMeter(ctx workflow.Context, in sweepstore.MeterInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SweepMeter", in)
}
