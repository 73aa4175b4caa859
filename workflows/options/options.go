// Package options holds the activity options workflows share, so a database
// activity is retried the same way in every workflow.
package options

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DB is ctx for database activities on the workflow's queue: quick, retried
// with backoff until they succeed. nonRetryable names the application error
// types that retrying cannot fix (refusals, conflicts).
func DB(ctx workflow.Context, nonRetryable ...string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: nonRetryable},
	})
}
