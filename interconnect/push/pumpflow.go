package push

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// pumpRunsPerWorkflow: the workflow continues as new after this many
// activity runs (each RunFor long), so its history stays short.
const pumpRunsPerWorkflow = 24

// PumpWorkflow supervises the pump of one regulator (regulator-pump/<name>):
// it runs the RunPump activity again and again for ever. Temporal restarts
// the activity on any worker when its heartbeat stops (a crashed worker)
// or it fails (the database went away), with backoff; the pump then carries
// on from the outbox, where every undelivered push is a pending row.
func PumpWorkflow(ctx workflow.Context, in PumpInput) error {
	in = in.withDefaults()
	var acts *Activities
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: in.RunFor + time.Minute,
		HeartbeatTimeout:    in.HeartbeatTimeout,
		// No MaximumAttempts: the pump is retried until it runs again.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	for range pumpRunsPerWorkflow {
		if err := workflow.ExecuteActivity(actx, acts.RunPump, in).Get(ctx, nil); err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // cancelled: an operator stopped the pushes
			}
			workflow.GetLogger(ctx).Warn("regulator pump ended", "error", err)
			if err := workflow.Sleep(ctx, time.Second); err != nil {
				return err
			}
		}
	}
	return workflow.NewContinueAsNewError(ctx, KindPump, in)
}
