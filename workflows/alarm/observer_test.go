package alarm

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
)

// The hook starts an alarm for a reading at or below the alarm amount, stays
// silent while nothing new can be raised, passes deeper readings and a
// recovery to the open alarm, and sends a recharge as a recharge.
func TestObserverSignalsOnlyWhatMatters(t *testing.T) {
	f := setup(t, time.Now())
	ctx := context.Background()
	var starts, signals []string
	c := &mocks.Client{}
	c.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, nil).Run(func(a mock.Arguments) {
		starts = append(starts, a.String(1)+" "+a.Get(3).(Reading).Remaining.String())
	})
	c.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).
		Return(nil).Run(func(a mock.Arguments) { signals = append(signals, a.String(1)+" "+a.String(3)) })
	o := &Observer{Client: c, DB: f.db}
	var other string
	if err := f.db.QueryRow(ctx, `select id from meters where meter_no='M0002'`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	obs := func(meter, remaining string) alarmdom.Observation {
		return alarmdom.Observation{MeterID: meter, Remaining: money.MustParse(remaining)}
	}

	// No open alarm: 25.00 is nothing, 19.00 on M0001 starts one.
	if err := o.ObserveMany(ctx, []alarmdom.Observation{obs(f.meterID, "19.00"), obs(other, "25.00")}); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 1 || starts[0] != "alarm/M0001/low_balance 19.00" || len(signals) != 0 {
		t.Fatalf("starts %v signals %v", starts, signals)
	}
	// The alarm is open and waits for 10.00: 15.00 changes nothing.
	if _, err := f.db.Exec(ctx, `insert into alarms(id, project_id, meter_id, meter_no, kind, workflow_id, mode, alarm_amount,
		status, opened_at, next_threshold) values('run-1',$1,$2,'M0001','low_balance','alarm/M0001/low_balance','staged',20.00,'open',now(),10.00)`,
		f.project, f.meterID); err != nil {
		t.Fatal(err)
	}
	if err := o.ObserveMany(ctx, []alarmdom.Observation{obs(f.meterID, "15.00")}); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 1 || len(signals) != 0 {
		t.Fatalf("15.00 signalled: starts %v signals %v", starts, signals)
	}
	// 9.00 reaches the next stage; 30.00 is a recovery; a recharge is a recharge.
	if err := o.ObserveMany(ctx, []alarmdom.Observation{obs(f.meterID, "9.00")}); err != nil {
		t.Fatal(err)
	}
	if err := o.ObserveMany(ctx, []alarmdom.Observation{obs(f.meterID, "30.00")}); err != nil {
		t.Fatal(err)
	}
	if err := o.Observe(ctx, alarmdom.Observation{MeterID: f.meterID, Remaining: money.MustParse("80.00"), Recharged: true}); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 || starts[1] != "alarm/M0001/low_balance 9.00" ||
		len(signals) != 2 || signals[0] != "alarm/M0001/low_balance reading" || signals[1] != "alarm/M0001/low_balance recharge" {
		t.Fatalf("starts %v signals %v", starts, signals)
	}
}

// A recharge with no alarm running is not an error.
func TestObserverRechargeWithoutAlarm(t *testing.T) {
	f := setup(t, time.Now())
	c := &mocks.Client{}
	c.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).
		Return(serviceerror.NewNotFound("workflow not found"))
	o := &Observer{Client: c, DB: f.db}
	if err := o.Observe(context.Background(), alarmdom.Observation{MeterID: f.meterID, Remaining: money.MustParse("80.00"), Recharged: true}); err != nil {
		t.Fatal(err)
	}
	c.AssertNumberOfCalls(t, "SignalWorkflow", 1)
}
