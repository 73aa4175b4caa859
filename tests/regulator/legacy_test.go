package regulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/workflows/names"
)

// TestPumpStartEndsLegacyPushRuns: the legacy per-station push workflows
// are gone from the code, so a run of theirs still going must be ended by
// the pump's start (EnsureRunning), whatever its station and without a
// workflow task (a run on a queue no worker polls stands in for one whose
// code is gone); another project's run is left alone; and a fresh start
// of the legacy type (an old starter's) just ends.
func TestPumpStartEndsLegacyPushRuns(t *testing.T) {
	e := setup(t, push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second})
	ctx := context.Background()
	const stuckQueue = "voltflow-interconnect-legacy-test" // polled by no worker
	legacy := func(project, station, queue string) client.WorkflowRun {
		t.Helper()
		run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: push.Kind + "/" + station, TaskQueue: queue,
			TypedSearchAttributes: names.Attributes(project, push.Kind, station, "running"),
		}, push.Kind, map[string]any{"stationId": station, "cadence": 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	ours := legacy("demo", "removed-from-registry", stuckQueue)
	theirs := legacy("other", "other-project-station", stuckQueue)
	t.Cleanup(func() { _ = stack.Temporal.TerminateWorkflow(ctx, theirs.GetID(), "", "test done") })

	// Visibility is eventually consistent: wait until both runs are listed.
	eventually.True(t, 30*time.Second, "legacy runs listed", func() (bool, string) {
		resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", push.Kind)})
		if err != nil {
			return false, err.Error()
		}
		return len(resp.Executions) >= 2, fmt.Sprint(len(resp.Executions), " listed")
	})
	if err := e.starter.EnsureRunning(ctx, stack.DB); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		run  client.WorkflowRun
		want enumspb.WorkflowExecutionStatus
	}{
		{ours, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED},
		{theirs, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING},
	} {
		desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, c.run.GetID(), c.run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		if got := desc.GetWorkflowExecutionInfo().GetStatus(); got != c.want {
			t.Errorf("%s: status %v, want %v", c.run.GetID(), got, c.want)
		}
	}

	fresh := legacy("demo", "started-by-old-code", names.InterconnectQueue)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := fresh.Get(wctx, nil); err != nil {
		t.Fatalf("fresh legacy run: %v", err)
	}
}
