package safety

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	metersstore "github.com/voltflow/voltflow/store/meters"
	safetystore "github.com/voltflow/voltflow/store/safety"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// The safety activities (activities/safety: Activities on the main queue,
// Devices on the devices queue), executed by their registered names.

// safetyLimits' result is a safety.Limits.
func safetyLimits(ctx workflow.Context, in safetystore.LimitsInput) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "SafetyLimits", in)
}

func setSafetyState(ctx workflow.Context, s safetystore.State) workflow.Future {
	return workflow.ExecuteActivity(options.DB(ctx), "SetSafetyState", s)
}

// safetySwitch is retried for a while: a meter that cannot be reached now
// is switched when it answers again.
func safetySwitch(ctx workflow.Context, in safetystore.SwitchInput) workflow.Future {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DevicesQueue,
		ScheduleToCloseTimeout: 10 * time.Minute,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig}},
	})
	return workflow.ExecuteActivity(ctx, "SafetySwitch", in)
}
