package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/interconnect/push"
)

// TestRetiredLegacyWorkflowEnds: a start of the legacy per-station type
// (an old starter's, with the old input) ends at once, sending nothing;
// its pushes are rows the pump sends.
func TestRetiredLegacyWorkflowEnds(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.Retired, workflow.RegisterOptions{Name: push.Kind})
	env.RegisterActivity(&push.Activities{})
	old := map[string]any{"stationId": "s", "cadence": 5 * time.Second, "maxHistory": 10,
		"queued": []map[string]any{{"pushId": 1, "connectorId": "c"}}}
	env.ExecuteWorkflow(push.Kind, old)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
}

// TestPumpWorkflowRestartsThePump: the supervisor runs the pump activity
// again after it fails or ends, and continues as new after a while.
func TestPumpWorkflowRestartsThePump(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.PumpWorkflow, workflow.RegisterOptions{Name: push.KindPump})
	acts := &push.Activities{}
	env.RegisterActivity(acts)
	runs := 0
	env.OnActivity(acts.RunPump, mock.Anything, mock.Anything).Return(func(_ context.Context, in push.PumpInput) error {
		runs++
		if in.Cadence != 5*time.Second || in.Concurrency != 32 {
			t.Errorf("pump input %+v: want the cadence given and defaults", in)
		}
		if runs == 2 {
			return temporal.NewNonRetryableApplicationError("database gone", "test", nil)
		}
		return nil
	})
	env.ExecuteWorkflow(push.KindPump, push.PumpInput{Cadence: 5 * time.Second})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue as new, got %v", err)
	}
	if runs < 3 {
		t.Fatalf("pump ran %d times", runs)
	}
}
