package metercmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	"github.com/voltflow/voltflow/domain/access"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

func newEnv(kind string) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(CommandWorkflow, workflow.RegisterOptions{Name: KindCommand})
	e.RegisterWorkflowWithOptions(BatchWorkflow, workflow.RegisterOptions{Name: KindBatch})
	e.RegisterActivity(&metercmdacts.Activities{})
	e.RegisterActivity(&metercmdacts.Devices{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", kind, "M1", "pending")); err != nil {
		panic(err)
	}
	return e
}

// outcomes records what the workflow wrote to the projection.
type outcomes struct {
	mu       sync.Mutex
	finished []metercmdacts.Outcome
	statuses []metercmddom.Status
}

func (o *outcomes) mockCommand(e *testsuite.TestWorkflowEnvironment) {
	e.OnActivity("FinishMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, out metercmdacts.Outcome) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.finished = append(o.finished, out)
		return nil
	})
	e.OnActivity("SetMeterCommandStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.StatusInput) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.statuses = append(o.statuses, in.Status)
		return nil
	})
}

func commandInput() CommandInput {
	return CommandInput{CommandID: "c1", ProjectID: "p1", MeterID: "m1", MeterNo: "M1", Command: string(metercmddom.SwitchOff),
		DispatchWindow: time.Minute, RedispatchTimeout: time.Hour}
}

func sendRedispatch(e *testsuite.TestWorkflowEnvironment, roles ...access.Role) *error {
	out := new(error)
	e.UpdateWorkflow(UpdateRedispatch, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { *out = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { *out = err },
	}, Redispatch{OperatorID: "op", Roles: roles})
	return out
}

func TestCommandDoneRecordsTheMeterState(t *testing.T) {
	e := newEnv(KindCommand)
	var o outcomes
	o.mockCommand(e)
	e.OnActivity("SendMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.SendInput) (metercmdacts.Response, error) {
		if in.CommandID != "c1" || in.MeterID != "m1" || in.Command != "switch_off" {
			return metercmdacts.Response{}, fmt.Errorf("unexpected input %+v", in)
		}
		return metercmdacts.Response{Relay: metercmddom.RelayOpen, Attempt: 1}, nil
	})
	e.ExecuteWorkflow(KindCommand, commandInput())
	var res CommandResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != metercmddom.Done || res.Response == nil || res.Response.Relay != metercmddom.RelayOpen {
		t.Fatalf("result %+v", res)
	}
	if len(o.finished) != 1 || o.finished[0].Status != metercmddom.Done || o.finished[0].Response == nil || o.finished[0].Failure != "" {
		t.Fatalf("recorded %+v, want one done outcome with the response", o.finished)
	}
}

func TestCommandNotReachedFailsAfterWindowThenRedispatchSucceeds(t *testing.T) {
	e := newEnv(KindCommand)
	var o outcomes
	o.mockCommand(e)
	var mu sync.Mutex
	attempts, meterBack := 0, false
	e.OnActivity("SendMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.SendInput) (metercmdacts.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if !meterBack {
			return metercmdacts.Response{}, errors.New("meter M1: exception 0x0B: meter unreachable")
		}
		return metercmdacts.Response{Relay: metercmddom.RelayOpen}, nil
	})
	var early, viewer, maintenance, twice *error
	e.RegisterDelayedCallback(func() { early = sendRedispatch(e, access.Maintenance) }, time.Second)
	e.RegisterDelayedCallback(func() {
		mu.Lock()
		meterBack = true
		mu.Unlock()
		viewer = sendRedispatch(e, access.Viewer)
		maintenance = sendRedispatch(e, access.Maintenance)
		twice = sendRedispatch(e, access.Admin)
	}, 10*time.Minute)
	e.ExecuteWorkflow(KindCommand, commandInput())
	var res CommandResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != metercmddom.Done {
		t.Fatalf("result %+v", res)
	}
	if *early == nil || (*early).Error() != ErrNotRedispatched.Error() {
		t.Errorf("redispatch while dispatching: %v, want refused", *early)
	}
	if *viewer == nil || (*viewer).Error() != approval.ErrNotYourRole.Error() {
		t.Errorf("viewer redispatch: %v, want not your role", *viewer)
	}
	if *maintenance != nil {
		t.Errorf("maintenance redispatch: %v", *maintenance)
	}
	if *twice == nil || (*twice).Error() != ErrNotRedispatched.Error() {
		t.Errorf("second redispatch: %v, want refused", *twice)
	}
	if attempts < 3 {
		t.Errorf("%d attempts; the window should retry the meter several times", attempts)
	}
	if len(o.finished) != 2 || o.finished[0].Status != metercmddom.Failed || o.finished[1].Status != metercmddom.Done {
		t.Fatalf("recorded %+v, want failed then done", o.finished)
	}
	// The server gives up when the next retry would pass the window and
	// reports the last attempt's error.
	if !strings.Contains(o.finished[0].Failure, "meter unreachable") {
		t.Errorf("failure %q", o.finished[0].Failure)
	}
	if len(o.statuses) != 1 || o.statuses[0] != metercmddom.Dispatching {
		t.Errorf("statuses %v, want dispatching once on re-dispatch", o.statuses)
	}
}

func TestRefusedCommandIsNotRetriedAndExpires(t *testing.T) {
	e := newEnv(KindCommand)
	var o outcomes
	o.mockCommand(e)
	attempts := 0
	e.OnActivity("SendMeterCommand", mock.Anything, mock.Anything).Return(func(context.Context, metercmdacts.SendInput) (metercmdacts.Response, error) {
		attempts++
		return metercmdacts.Response{}, temporal.NewNonRetryableApplicationError("meter M1 refused switch_off", metercmdacts.ErrTypeRefused, nil)
	})
	e.ExecuteWorkflow(KindCommand, commandInput())
	var res CommandResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != metercmddom.Failed || res.Failure != "meter M1 refused switch_off" || attempts != 1 {
		t.Fatalf("result %+v after %d attempts; want failed once with the refusal, ended by the redispatch timeout", res, attempts)
	}
}

// batchDB is an in-memory stand-in for the batch's rows.
type batchDB struct {
	mu       sync.Mutex
	items    []metercmdacts.BatchItem
	recorded map[string]metercmdacts.Outcome
	records  int
	finished int
	inflight int
	maxIn    int
	attempts map[string]int
}

func newBatchDB(n int) *batchDB {
	b := &batchDB{recorded: map[string]metercmdacts.Outcome{}, attempts: map[string]int{}}
	for i := 1; i <= n; i++ {
		b.items = append(b.items, metercmdacts.BatchItem{CommandID: fmt.Sprintf("c%04d", i), MeterID: fmt.Sprintf("m%04d", i),
			MeterNo: fmt.Sprintf("M%04d", i)})
	}
	return b
}

func (b *batchDB) totals() metercmdacts.Totals {
	t := metercmdacts.Totals{Total: len(b.items)}
	for _, o := range b.recorded {
		if o.Status == metercmddom.Done {
			t.Done++
		} else {
			t.Failed++
		}
	}
	return t
}

func (b *batchDB) mock(e *testsuite.TestWorkflowEnvironment, dead func(meterID string) bool) {
	e.OnActivity("ListMeterBatchPage", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.PageInput) ([]metercmdacts.BatchItem, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		var out []metercmdacts.BatchItem
		for _, it := range b.items {
			if _, done := b.recorded[it.CommandID]; !done && it.MeterNo > in.AfterMeterNo && len(out) < in.Limit {
				out = append(out, it)
			}
		}
		return out, nil
	})
	e.OnActivity("SendMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.SendInput) (metercmdacts.Response, error) {
		b.mu.Lock()
		b.inflight++
		b.maxIn = max(b.maxIn, b.inflight)
		b.attempts[in.CommandID]++
		b.mu.Unlock()
		time.Sleep(2 * time.Millisecond) // real time, so commands overlap
		b.mu.Lock()
		b.inflight--
		b.mu.Unlock()
		if dead(in.MeterID) {
			return metercmdacts.Response{}, temporal.NewNonRetryableApplicationError("meter "+in.MeterID+" unreachable", "test", nil)
		}
		return metercmdacts.Response{Relay: metercmddom.RelayOpen}, nil
	})
	e.OnActivity("RecordMeterBatchOutcomes", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.RecordInput) (metercmdacts.Totals, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.records++
		for _, o := range in.Outcomes {
			if _, dup := b.recorded[o.CommandID]; dup {
				return metercmdacts.Totals{}, fmt.Errorf("outcome of %s recorded twice", o.CommandID)
			}
			b.recorded[o.CommandID] = o
		}
		return b.totals(), nil
	})
	e.OnActivity("FinishMeterBatch", mock.Anything, mock.Anything).Return(func(context.Context, metercmdacts.FinishInput) (metercmdacts.Totals, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.finished++
		return b.totals(), nil
	})
}

func TestBatchSlidingWindowRecordsEveryMeter(t *testing.T) {
	e := newEnv(KindBatch)
	b := newBatchDB(100)
	dead := func(id string) bool { return id == "m0007" || id == "m0050" || id == "m0099" }
	b.mock(e, dead)
	e.ExecuteWorkflow(KindBatch, BatchInput{BatchID: "b1", ProjectID: "p1", Command: "switch_off",
		Concurrency: 8, PageSize: 40, FlushEvery: 10, DispatchWindow: time.Minute})
	var res BatchResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != metercmddom.BatchCompletedWithFailures || res.Total != 100 || res.Done != 97 || res.Failed != 3 {
		t.Fatalf("result %+v, want 97 done, 3 failed", res)
	}
	if len(b.recorded) != 100 || b.finished != 1 {
		t.Fatalf("%d outcomes recorded, finished %d times", len(b.recorded), b.finished)
	}
	for id, o := range b.recorded {
		if failed := o.Status == metercmddom.Failed; failed != dead("m"+id[1:]) || (failed && o.Failure == "") || (!failed && o.Response == nil) {
			t.Errorf("outcome of %s: %+v", id, o)
		}
	}
	for id, n := range b.attempts {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	if b.maxIn > 8 || b.maxIn < 2 {
		t.Errorf("at most %d commands in flight; want a window of 2..8", b.maxIn)
	}
	// Outcomes are written in groups, not one activity per meter.
	if b.records > 30 {
		t.Errorf("%d record calls for 100 meters", b.records)
	}
}

func TestBatchAllDoneIsCompleted(t *testing.T) {
	e := newEnv(KindBatch)
	b := newBatchDB(5)
	b.mock(e, func(string) bool { return false })
	e.ExecuteWorkflow(KindBatch, BatchInput{BatchID: "b1", ProjectID: "p1", Command: "protect"})
	var res BatchResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != metercmddom.BatchCompleted || res.Done != 5 || res.Failed != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestBatchContinuesAsNewAtPageBoundaryWhenHistoryIsLong(t *testing.T) {
	e := newEnv(KindBatch)
	b := newBatchDB(50)
	b.mock(e, func(string) bool { return false })
	e.SetCurrentHistoryLength(20_000)
	e.ExecuteWorkflow(KindBatch, BatchInput{BatchID: "b1", ProjectID: "p1", Command: "switch_on", PageSize: 20})
	var can *workflow.ContinueAsNewError
	if err := e.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new", err)
	}
	var next BatchInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if can.WorkflowType.Name != KindBatch || next.AfterMeterNo != "M0020" || next.BatchID != "b1" || next.PageSize != 20 {
		t.Fatalf("continued as %s with %+v; want %s after M0020", can.WorkflowType.Name, next, KindBatch)
	}
	if len(b.recorded) != 20 || b.finished != 0 {
		t.Fatalf("%d recorded, finished %d; want exactly the first page recorded before continuing", len(b.recorded), b.finished)
	}
}
