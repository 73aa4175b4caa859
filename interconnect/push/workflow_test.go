package push_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/interconnect/push"
)

func TestWorkflowOrderRetryCadenceAndContinueAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.Workflow, workflow.RegisterOptions{Name: push.Kind})
	acts := &push.Activities{}
	env.RegisterActivity(acts)
	legacy(env)

	// Activities of different connectors run concurrently in the test
	// environment, so the mocks' records are guarded.
	var mu sync.Mutex
	var sent []int64
	attempts := map[int64]int{}
	send := func(_ context.Context, in push.SendInput) (push.SendResult, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts[in.PushID]++
		// Push 1 meets an outage twice: retried, and push 2 of the
		// same connector waits for it.
		if in.PushID == 1 && attempts[1] < 3 {
			return push.SendResult{}, temporal.NewApplicationError("regulator unavailable", "retryable")
		}
		if in.PushID == 5 {
			return push.SendResult{Status: push.StatusRejected}, temporal.NewNonRetryableApplicationError("4004", "rejected", nil)
		}
		sent = append(sent, in.PushID)
		return push.SendResult{Status: push.StatusSent}, nil
	}
	mockSend(env, acts, send)
	var ticks []time.Time
	env.OnActivity(acts.PushStationStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in push.PeriodicInput) (push.PeriodicResult, error) {
			mu.Lock()
			defer mu.Unlock()
			ticks = append(ticks, env.Now())
			return push.PeriodicResult{}, nil
		})

	env.RegisterDelayedCallback(func() {
		for _, p := range []push.Pending{{PushID: 1, ConnectorID: "A"}, {PushID: 2, ConnectorID: "A"},
			{PushID: 3, ConnectorID: "B"}, {PushID: 4, ConnectorID: "A"}, {PushID: 5, ConnectorID: "C"},
			{PushID: 3, ConnectorID: "B"}} { // a duplicate signal is ignored
			env.SignalWorkflow(push.SignalStatusChanged, p)
		}
	}, time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(push.SignalFrequency, 30) }, 35*time.Second)
	// The server would suggest continue-as-new when history grows.
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 100*time.Second)
	env.SetTestTimeout(30 * time.Second)

	env.ExecuteWorkflow(push.Kind, push.Input{StationID: "44030000000000000001", Cadence: 10 * time.Second,
		RetryMaxInterval: time.Second})

	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not reach continue-as-new")
	}
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	// Connector A's pushes in order, each after the one before succeeded.
	var a []int64
	for _, id := range sent {
		if id == 1 || id == 2 || id == 4 {
			a = append(a, id)
		}
	}
	if len(a) != 3 || a[0] != 1 || a[1] != 2 || a[2] != 4 {
		t.Fatalf("connector A pushes went out as %v, want [1 2 4]", a)
	}
	if attempts[1] != 3 || attempts[3] != 1 || attempts[5] != 1 {
		t.Fatalf("attempts %v: want push 1 retried to 3, dup 3 and rejected 5 sent once", attempts)
	}
	// B did not wait for A's outage.
	if sent[0] != 3 {
		t.Fatalf("first success %d, want B's push 3 while A retried", sent[0])
	}
	// Periodic every 10 s, then every 30 s after the frequency signal.
	if len(ticks) < 5 {
		t.Fatalf("%d periodic pushes", len(ticks))
	}
	if d := ticks[1].Sub(ticks[0]); d != 10*time.Second {
		t.Fatalf("cadence %s, want 10s", d)
	}
	last := ticks[len(ticks)-1].Sub(ticks[len(ticks)-2])
	if last != 30*time.Second {
		t.Fatalf("cadence after query_frequency %s, want 30s (ticks %v)", last, ticks)
	}
}

// TestAlarmJumpsTheQueue: with every push slot taken by connectors whose
// pushes meet an outage, an alarm signalled after them still goes out at
// once (alarm-priority, version 1).
func TestAlarmJumpsTheQueue(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.Workflow, workflow.RegisterOptions{Name: push.Kind})
	acts := &push.Activities{}
	env.RegisterActivity(acts)
	legacy(env)
	const alarmID, connectors = 9999, 70
	var mu sync.Mutex
	attempts := map[int64]int{}
	var alarmAt time.Time
	send := func(_ context.Context, in push.SendInput) (push.SendResult, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts[in.PushID]++
		if in.PushID == alarmID {
			alarmAt = env.Now()
			return push.SendResult{Status: push.StatusSent}, nil
		}
		if attempts[in.PushID] < 3 {
			return push.SendResult{}, temporal.NewApplicationError("regulator unavailable", "retryable")
		}
		return push.SendResult{Status: push.StatusSent}, nil
	}
	mockSend(env, acts, send)
	env.OnActivity(acts.PushStationStatus, mock.Anything, mock.Anything).Return(push.PeriodicResult{}, nil)
	var signalled time.Time
	env.RegisterDelayedCallback(func() {
		for i := range connectors {
			env.SignalWorkflow(push.SignalStatusChanged, push.Pending{PushID: int64(i + 1), ConnectorID: fmt.Sprintf("C%03d", i)})
		}
		env.SignalWorkflow(push.SignalStatusChanged, push.Pending{PushID: alarmID, ConnectorID: push.LaneAlarm})
		signalled = env.Now()
	}, time.Second)
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, time.Minute)
	env.SetTestTimeout(30 * time.Second)
	env.ExecuteWorkflow(push.Kind, push.Input{StationID: "44030000000000000001", Cadence: time.Hour, RetryMaxInterval: time.Second})

	mu.Lock()
	defer mu.Unlock()
	if alarmAt.IsZero() {
		t.Fatal("the alarm was never pushed")
	}
	// Without priority it would wait for a slot, i.e. at least one retry
	// backoff (500 ms) after the signal.
	if d := alarmAt.Sub(signalled); d >= 500*time.Millisecond {
		t.Fatalf("alarm pushed %s after its signal; it waited for a slot", d)
	}
	for i := range connectors {
		if attempts[int64(i+1)] != 3 {
			t.Fatalf("push %d attempted %d times, want 3", i+1, attempts[int64(i+1)])
		}
	}
}

// mockSend mocks SendPush with send, and SendPushes (batch-push, version 1)
// as send per row the way the real one works: rows already final are not
// sent again on a retry, rejected rows do not fail the batch, any other
// failure does (Temporal retries the batch).
func mockSend(env *testsuite.TestWorkflowEnvironment, acts *push.Activities,
	send func(context.Context, push.SendInput) (push.SendResult, error)) {
	env.OnActivity(acts.SendPush, mock.Anything, mock.Anything).Return(send)
	var mu sync.Mutex
	final := map[int64]string{}
	env.OnActivity(acts.SendPushes, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in push.SendBatchInput) (push.SendBatchResult, error) {
			res := push.SendBatchResult{Statuses: make([]string, len(in.PushIDs))}
			var failed error
			for i, id := range in.PushIDs {
				mu.Lock()
				st, done := final[id]
				mu.Unlock()
				if !done {
					r, err := send(ctx, push.SendInput{PushID: id})
					var app *temporal.ApplicationError
					switch {
					case err == nil:
						st = r.Status
					case errors.As(err, &app) && app.NonRetryable():
						st = push.StatusRejected
					default:
						failed = err
						continue
					}
					mu.Lock()
					final[id] = st
					mu.Unlock()
				}
				res.Statuses[i] = st
			}
			return res, failed
		})
}

// legacy replays the per-station workflow as runs started before the pump
// do (no "pump" marker in their history).
func legacy(env *testsuite.TestWorkflowEnvironment) {
	env.OnGetVersion("pump", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// TestLegacyWorkflowRetiresUnderThePump: a run of the per-station workflow
// started by the new code (or continued as new) ends at once, sending
// nothing; its pushes are rows the pump sends.
func TestLegacyWorkflowRetiresUnderThePump(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.Workflow, workflow.RegisterOptions{Name: push.Kind})
	acts := &push.Activities{}
	env.RegisterActivity(acts)
	env.ExecuteWorkflow(push.Kind, push.Input{StationID: "s", Queued: []push.Pending{{PushID: 1, ConnectorID: "c"}}})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
}

// TestPumpWorkflowRestartsThePump: the supervisor runs the pump activity
// again after it fails or ends, and continues as new after a while.
func TestPumpWorkflowRestartsThePump(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(push.PumpWorkflow, workflow.RegisterOptions{Name: push.PumpKind})
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
	env.ExecuteWorkflow(push.PumpKind, push.PumpInput{Cadence: 5 * time.Second})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue as new, got %v", err)
	}
	if runs < 3 {
		t.Fatalf("pump ran %d times", runs)
	}
}
