package alarm

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	alarmacts "github.com/voltflow/voltflow/activities/alarm"
)

// runCondition runs a condition alarm of M0001 that the scan clears after
// clearAfter, and returns its record.
func runCondition(t *testing.T, f *fixture, kind string, clearAfter time.Duration) (Result, string, []alarmacts.Stage) {
	f.env.RegisterWorkflowWithOptions(Condition, workflow.RegisterOptions{Name: KindConditionWorkflow})
	f.env.RegisterDelayedCallback(func() { f.env.SignalWorkflow(SignalRaise, time.Time{}) }, time.Minute)
	f.env.RegisterDelayedCallback(func() { f.env.SignalWorkflow(SignalClear, Clear{}) }, clearAfter)
	f.env.ExecuteWorkflow(KindConditionWorkflow, ConditionInput{ProjectID: f.project, Condition: alarmacts.Condition{
		Kind: kind, MeterID: f.meterID, SubjectNo: "M0001", Detail: "energy 12.00 kWh unchanged"}})
	if !f.env.IsWorkflowCompleted() || f.env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed %v, error %v", f.env.IsWorkflowCompleted(), f.env.GetWorkflowError())
	}
	var r Result
	if err := f.env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	var kindGot, detail string
	if err := f.db.QueryRow(context.Background(), `select kind, detail from alarms`).Scan(&kindGot, &detail); err != nil || kindGot != kind ||
		detail != "energy 12.00 kWh unchanged" {
		t.Fatalf("alarm kind %q detail %q err %v", kindGot, detail, err)
	}
	status, resolution, history := f.alarmRecord(t)
	if status != "closed" || resolution != Cleared {
		t.Fatalf("alarm %s %s", status, resolution)
	}
	return r, resolution, history
}

// A static-meter alarm goes to the area manager — never to the tenant, the
// suspect — once, after quiet hours, and closes when cleared.
func TestConditionAlarmToManagersAfterQuietHours(t *testing.T) {
	f := setup(t, time.Date(2026, 3, 2, 23, 0, 0, 0, cst))
	_, _, history := runCondition(t, f, "static", 12*time.Hour)
	msgs := f.messages(t)
	if len(msgs) != 1 || len(msgs[manager]) != 1 {
		t.Fatalf("SMS %v, want one to the manager only", msgs)
	}
	if m := msgs[manager][0]; m.stage != StageRaised || m.status != "sent" || m.text != "M0001: static alarm. energy 12.00 kWh unchanged" {
		t.Fatalf("SMS %+v", m)
	}
	if len(history) != 1 || history[0].Outcome != "sent" || !history[0].At.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, cst)) {
		t.Fatalf("history %+v, want sent at 08:00", history)
	}
}

// A trip is urgent: sent at once at night. A non-urgent alarm cleared
// during quiet hours is never sent.
func TestConditionAlarmUrgencyAndClearedWhileQuiet(t *testing.T) {
	t.Run("trip at night", func(t *testing.T) {
		f := setup(t, time.Date(2026, 3, 2, 23, 0, 0, 0, cst))
		_, _, history := runCondition(t, f, "overload_trip", time.Hour)
		if len(history) != 1 || history[0].Outcome != "sent" || !history[0].At.Equal(time.Date(2026, 3, 2, 23, 0, 0, 0, cst)) {
			t.Fatalf("history %+v, want sent at 23:00", history)
		}
	})
	t.Run("cleared before morning", func(t *testing.T) {
		f := setup(t, time.Date(2026, 3, 2, 23, 0, 0, 0, cst))
		_, _, history := runCondition(t, f, "over_voltage", 2*time.Hour)
		if len(history) != 1 || history[0].Outcome != "skipped" || len(f.messages(t)) != 0 {
			t.Fatalf("history %+v, SMS %v: want skipped, none", history, f.messages(t))
		}
	})
}
