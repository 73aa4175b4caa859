package aircon

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	airconstore "github.com/voltflow/voltflow/store/aircon"
	"github.com/voltflow/voltflow/workflows/names"
)

// The activities an allocation runs, executed by their registered names
// (activities/aircon): the controller read on the devices queue, the
// allocation on the main queue. The API imports this package to start
// allocations and must not pull in the activities.

// readController's result is an airconstore.ReadResult.
func readController(ctx workflow.Context, in airconstore.ReadInput) workflow.Future {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.DevicesQueue,
		StartToCloseTimeout: time.Minute,
		// A controller that is down is asked again until it answers: the
		// reading then shows how late it was taken (read_at).
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{errRefused}},
	})
	return workflow.ExecuteActivity(ctx, "ReadAirconController", in)
}

// allocate's result is an airconstore.AllocateResult.
func allocate(ctx workflow.Context, in airconstore.AllocateInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "AllocateAircon", in)
}
