package options_test

import (
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/workflows/options"
)

// The values every database activity has had; changing them changes how
// each workflow retries its bookings.
func TestDB(t *testing.T) {
	tests := []struct {
		name         string
		nonRetryable []string
	}{
		{"retried until it succeeds", nil},
		{"refusals not retried", []string{"NoRecipients", "Conflict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var got workflow.ActivityOptions
			env.ExecuteWorkflow(func(ctx workflow.Context) error {
				got = workflow.GetActivityOptions(options.DB(ctx, tt.nonRetryable...))
				return nil
			})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			r := got.RetryPolicy
			if got.StartToCloseTimeout != 30*time.Second || r == nil || r.InitialInterval != time.Second ||
				r.BackoffCoefficient != 2 || r.MaximumInterval != time.Minute || r.MaximumAttempts != 0 ||
				!slices.Equal(r.NonRetryableErrorTypes, tt.nonRetryable) {
				t.Errorf("options = %+v, retry %+v", got, r)
			}
		})
	}
}
