package replacement

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	metersacts "github.com/voltflow/voltflow/activities/meters"
	replacementacts "github.com/voltflow/voltflow/activities/replacement"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	replacementstore "github.com/voltflow/voltflow/store/replacement"
	"github.com/voltflow/voltflow/workflows/names"
)

// fake records what the workflow asked of the activities.
type fake struct {
	statuses  []replacementstore.Status
	commands  map[string]metercmddom.Status // command id → final status
	reading   *replacementstore.ReadingInput
	completed *replacementstore.CompleteInput
	written   []money.Amount
	reads     int
}

// env mocks the activities; oldReadable says whether the old meter answers.
func env(t *testing.T, oldReadable bool) (*testsuite.TestWorkflowEnvironment, *fake) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
	e.RegisterActivity(&replacementacts.Activities{})
	e.RegisterActivity(&metercmdacts.Devices{})
	e.RegisterActivity(&metercmdacts.Activities{})
	e.RegisterActivity(&metersacts.Activities{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "OLD", "pending")); err != nil {
		t.Fatal(err)
	}
	f := &fake{commands: map[string]metercmddom.Status{}}
	unreachable := errors.New("read meter OLD: gateway did not answer")
	e.OnActivity("SetReplacementStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in replacementacts.StatusInput) error {
		f.statuses = append(f.statuses, in.Status)
		return nil
	})
	e.OnActivity("SendMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, in metercmdacts.SendInput) (metercmdacts.Response, error) {
		if in.MeterID == "old" && !oldReadable {
			return metercmdacts.Response{}, unreachable
		}
		return metercmdacts.Response{Relay: 1}, nil
	})
	e.OnActivity("FinishMeterCommand", mock.Anything, mock.Anything).Return(func(_ context.Context, o metercmdacts.Outcome) error {
		f.commands[o.CommandID] = o.Status
		return nil
	})
	e.OnActivity("ReadMeter", mock.Anything, mock.Anything).Return(func(_ context.Context, in metersacts.ReadInput) (metersacts.Reading, error) {
		f.reads++
		if !oldReadable {
			return metersacts.Reading{}, unreachable
		}
		return metersacts.Reading{MeterNo: "OLD", Remaining: money.MustParse("37.42"), EnergyKwh: money.MustParse("1234.56"), PurchaseCount: 4}, nil
	})
	e.OnActivity("RecordReplacementReading", mock.Anything, mock.Anything).Return(func(_ context.Context, in replacementacts.ReadingInput) error {
		f.reading = &in
		return nil
	})
	e.OnActivity("DispatchRecharge", mock.Anything, mock.Anything).Return(func(_ context.Context, in metersacts.DispatchInput) (metersacts.DispatchResult, error) {
		f.written = append(f.written, in.Amount)
		return metersacts.DispatchResult{Counter: 1, PurchaseCount: 1, Remaining: in.Amount}, nil
	})
	e.OnActivity("CompleteReplacement", mock.Anything, mock.Anything).Return(func(_ context.Context, in replacementacts.CompleteInput) error {
		f.completed = &in
		return nil
	})
	return e, f
}

func input() Input {
	return Input{ReplacementID: "r1", ProjectID: "p1", ProjectCode: "demo", OldMeterID: "old", OldMeterNo: "OLD",
		NewMeterID: "new", NewMeterNo: "NEW", SwitchOffCommandID: "c-off", ClearCommandID: "c-clear",
		ReadAttempts: 2, DispatchWindow: time.Minute}
}

func result(t *testing.T, e *testsuite.TestWorkflowEnvironment) Result {
	t.Helper()
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := e.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReadableMeterMovesItsReading(t *testing.T) {
	e, f := env(t, true)
	e.ExecuteWorkflow(Kind, input())
	res := result(t, e)
	want := money.MustParse("37.42")
	if res.Status != replacementstore.Completed || res.Manual || !res.Moved.Equal(want) {
		t.Fatalf("result %+v, want completed, read, 37.42 moved", res)
	}
	if f.reading == nil || f.reading.Manual || !f.reading.SwitchedOff || !f.reading.Remaining.Equal(want) ||
		f.reading.EnergyKwh.String() != "1234.56" {
		t.Fatalf("recorded reading %+v", f.reading)
	}
	if len(f.written) != 1 || !f.written[0].Equal(want) {
		t.Fatalf("written into the new meter: %v", f.written)
	}
	if f.completed == nil || !f.completed.Moved.Equal(want) || f.completed.NewPurchaseCount == nil || *f.completed.NewPurchaseCount != 1 {
		t.Fatalf("completed with %+v", f.completed)
	}
	if f.commands["c-off"] != metercmddom.Done || f.commands["c-clear"] != metercmddom.Done {
		t.Fatalf("commands %v", f.commands)
	}
}

func TestUnreadableMeterUsesTheManualReadingSent(t *testing.T) {
	e, f := env(t, false)
	in := input()
	in.Manual = &ManualReading{Remaining: money.MustParse("12.30"), CounterKwh: money.MustParse("88.00"), Reason: "display only"}
	e.ExecuteWorkflow(Kind, in)
	res := result(t, e)
	if res.Status != replacementstore.Completed || !res.Manual || res.Moved.String() != "12.30" {
		t.Fatalf("result %+v, want completed with the manual 12.30", res)
	}
	if f.reading == nil || !f.reading.Manual || f.reading.SwitchedOff || f.reading.Reason != "display only" ||
		f.reading.EnergyKwh.String() != "88.00" {
		t.Fatalf("recorded reading %+v", f.reading)
	}
	if f.reads != in.ReadAttempts {
		t.Fatalf("old meter read %d times, want the bounded %d", f.reads, in.ReadAttempts)
	}
	if f.commands["c-off"] != metercmddom.Failed {
		t.Fatalf("switch-off of an unreachable meter recorded as %q", f.commands["c-off"])
	}
}

func TestUnreadableMeterWaitsForTheManualReading(t *testing.T) {
	e, f := env(t, false)
	e.RegisterDelayedCallback(func() {
		// A reading without a reason is refused by the validator.
		e.UpdateWorkflow(UpdateManualReading, "u0", &testsuite.TestUpdateCallback{
			OnReject: func(error) {}, OnAccept: func() { t.Error("reading without reason accepted") }, OnComplete: func(any, error) {},
		}, ManualReading{Remaining: money.MustParse("5.00")})
		e.UpdateWorkflow(UpdateManualReading, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("manual reading rejected: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, ManualReading{Remaining: money.MustParse("5.00"), CounterKwh: money.MustParse("10.00"), Reason: "meter dead"})
	}, time.Hour)
	e.ExecuteWorkflow(Kind, input())
	res := result(t, e)
	if res.Status != replacementstore.Completed || !res.Manual || res.Moved.String() != "5.00" {
		t.Fatalf("result %+v", res)
	}
	waited := false
	for _, s := range f.statuses {
		waited = waited || s == replacementstore.AwaitingReading
	}
	if !waited {
		t.Fatalf("statuses %v: never awaiting_reading", f.statuses)
	}
	if f.reading == nil || !f.reading.Manual || f.reading.Reason != "meter dead" {
		t.Fatalf("recorded reading %+v", f.reading)
	}
}

func TestNoManualReadingInTimeFails(t *testing.T) {
	e, f := env(t, false)
	in := input()
	in.ManualTimeout = time.Hour
	e.ExecuteWorkflow(Kind, in)
	res := result(t, e)
	if res.Status != replacementstore.Failed || f.completed != nil || len(f.written) != 0 {
		t.Fatalf("result %+v, completed %+v, written %v: want failed and nothing moved", res, f.completed, f.written)
	}
}
