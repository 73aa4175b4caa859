// Package alarm runs meter alarms as Temporal workflows, one per open alarm:
// alarm/<meterNo>/low_balance is started (signal-with-start) by the first
// reading at or below the meter's alarm amount, escalates by SMS — staged at
// the alarm amount, 50 % and 20 % of it, or daily — sends the arrears notice
// at zero, and ends when a recharge (or a reading back above the alarm
// amount) resolves it.
package alarm

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
	smsstore "github.com/voltflow/voltflow/store/sms"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the reading hook and the API.
const (
	Kind           = "alarm"
	KindLowBalance = "low_balance"
	// KindLowBalanceWorkflow is the registered name of LowBalance
	// (KindLowBalance is the alarm's kind, Kind the VoltflowKind search
	// attribute's value).
	KindLowBalanceWorkflow = "alarm_low_balance"
	SignalReading          = "reading"
	SignalRecharge         = "recharge"
)

// Resolutions of an alarm.
const (
	Recharged = alarmdom.Recharged
	Recovered = alarmdom.Recovered
)

// WorkflowID is the workflow of a meter's open alarm of one kind.
func WorkflowID(meterNo, kind string) string { return "alarm/" + meterNo + "/" + kind }

// Reading is a meter's remaining money as read (signal reading).
type Reading struct {
	Remaining money.Amount `json:"remaining"`
	At        time.Time    `json:"at"`
}

// Recharge is a recharge that reached the meter (signal recharge).
type Recharge struct {
	Remaining money.Amount `json:"remaining"`
	At        time.Time    `json:"at"`
}

// Input starts the alarm. Carry is set only by continue-as-new.
type Input struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
	Carry     *State `json:"carry,omitempty"`
}

// State is what the alarm knows; it crosses continue-as-new. The embedded
// stage machine's fields encode at the top level, as before it moved to
// domain/alarm.
type State struct {
	AlarmID string            `json:"alarmId"`
	Policy  alarmstore.Policy `json:"policy"`
	alarmdom.LowBalance
}

// Result is how the alarm ended.
type Result struct {
	AlarmID    string   `json:"alarmId"`
	Resolution string   `json:"resolution"`
	Stages     []string `json:"stages"`
}

// continueAfter bounds the history: an alarm in daily mode may live for
// weeks of readings.
const continueAfter = 4000

// LowBalance is the low-balance alarm of one meter.
func LowBalance(ctx workflow.Context, in Input) (Result, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{alarmstore.ErrTypeConfig, smsstore.ErrTypeUndeliverable}},
	})
	a := &alarm{in: in, wfID: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if in.Carry != nil {
		a.st = *in.Carry
	} else if err := a.open(ctx); err != nil {
		return Result{}, err
	}
	p := a.st.Policy
	rules, err := alarmdom.NewLowBalanceRules(p.Mode, p.AlarmAmount, p.Ratios, p.Quiet)
	if err != nil {
		return Result{}, err
	}
	a.rules = rules

	readings := workflow.GetSignalChannel(ctx, SignalReading)
	recharges := workflow.GetSignalChannel(ctx, SignalRecharge)
	for {
		var resolution string
		var recharge *Recharge
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(readings, func(c workflow.ReceiveChannel, _ bool) {
			var r Reading
			c.Receive(ctx, &r)
			resolution = a.onReading(ctx, r)
		})
		sel.AddReceive(recharges, func(c workflow.ReceiveChannel, _ bool) {
			var r Recharge
			c.Receive(ctx, &r)
			recharge, resolution = &r, Recharged
		})
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		if wake, ok := a.st.Wake(); ok {
			d := wake.Sub(workflow.Now(ctx))
			if d < 0 {
				d = 0
			}
			sel.AddFuture(workflow.NewTimer(timerCtx, d), func(workflow.Future) {})
		}
		sel.Select(ctx)
		cancelTimer()

		if resolution != "" {
			return a.close(ctx, resolution, recharge)
		}
		if err := a.due(ctx); err != nil {
			return Result{}, err
		}
		if workflow.GetInfo(ctx).GetCurrentHistoryLength() > continueAfter && readings.Len() == 0 && recharges.Len() == 0 {
			carry := a.st
			return Result{}, workflow.NewContinueAsNewError(ctx, LowBalance, Input{
				ProjectID: in.ProjectID, MeterID: in.MeterID, MeterNo: in.MeterNo, Carry: &carry})
		}
	}
}

type alarm struct {
	in    Input
	wfID  string
	st    State
	rules alarmdom.LowBalanceRules
}

// open loads the policy and records the alarm. The alarm id is this first
// run's id: the workflow id is reused by the meter's next alarm.
func (a *alarm) open(ctx workflow.Context) error {
	a.st.AlarmID = workflow.GetInfo(ctx).WorkflowExecution.RunID
	if err := loadPolicy(ctx, alarmstore.PolicyInput{MeterID: a.in.MeterID}).Get(ctx, &a.st.Policy); err != nil {
		return err
	}
	a.st.Remaining = a.st.Policy.AlarmAmount
	next := a.st.Policy.AlarmAmount
	return openAlarm(ctx, alarmstore.NewAlarm{
		AlarmID: a.st.AlarmID, ProjectID: a.st.Policy.ProjectID, MeterID: a.in.MeterID, MeterNo: a.in.MeterNo,
		Kind: KindLowBalance, WorkflowID: a.wfID, Mode: a.st.Policy.Mode, AlarmAmount: a.st.Policy.AlarmAmount,
		At: workflow.Now(ctx), NextThreshold: &next}).Get(ctx, nil)
}

// onReading takes a reading in; it returns a resolution when the balance is
// back above the alarm amount.
func (a *alarm) onReading(ctx workflow.Context, r Reading) string {
	if a.st.Read(a.rules, r.Remaining, workflow.Now(ctx)) {
		return Recovered
	}
	return ""
}

// due takes the steps due now, one after the other.
func (a *alarm) due(ctx workflow.Context) error {
	for _, step := range a.st.Due(a.rules, workflow.Now(ctx)) {
		if err := a.take(ctx, step, a.st.Policy.Recipients); err != nil {
			return err
		}
	}
	return nil
}

// take sends a step's SMS to recipients, or records it skipped.
func (a *alarm) take(ctx workflow.Context, step alarmdom.Step, to []alarmstore.Recipient) error {
	if step.Skip {
		return a.record(ctx, step.Stage, nil, "skipped")
	}
	return a.send(ctx, step, to)
}

// send sends one stage to every recipient in parallel and records it. Each
// SMS is keyed by (workflow, alarm, stage, recipient): a replay or a retry
// after a crash finds the sent row and sends nothing.
func (a *alarm) send(ctx workflow.Context, step alarmdom.Step, to []alarmstore.Recipient) error {
	smsCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 6 * time.Hour,
		// Above the providers' 10 s HTTP timeout: SendSMS heartbeats before each call.
		HeartbeatTimeout: 12 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
	p := a.st.Policy
	stage := step.Stage
	values := map[string]string{"meterNo": a.in.MeterNo, "remaining": a.st.Remaining.String(),
		"threshold": a.rules.Threshold(stage).String()}
	futures := make([]workflow.Future, len(to))
	for i, r := range to {
		futures[i] = sendSMS(smsCtx, smsstore.SendInput{
			ProjectID: p.ProjectID, WorkflowID: a.wfID, AlarmID: a.st.AlarmID, Stage: stage, Recipient: r.Phone,
			Kind: KindLowBalance, MeterNo: a.in.MeterNo, Template: step.Template, Values: values,
			Urgent: step.Urgent()})
	}
	outcome := "sent"
	phones := make([]string, len(to))
	for i, f := range futures {
		phones[i] = to[i].Phone
		if err := f.Get(ctx, nil); err != nil {
			// Recorded in sms_messages as failed; the alarm goes on.
			workflow.GetLogger(ctx).Warn("alarm SMS not sent", "stage", stage, "recipient", to[i].Phone, "error", err)
			outcome = "failed"
		}
	}
	return a.record(ctx, stage, phones, outcome)
}

func (a *alarm) record(ctx workflow.Context, stage string, phones []string, outcome string) error {
	a.st.MarkDone(stage)
	return recordStage(ctx, alarmstore.StageInput{AlarmID: a.st.AlarmID, Stage: stage,
		At: workflow.Now(ctx), Recipients: phones, Outcome: outcome, NextThreshold: a.st.NextThreshold(a.rules)}).Get(ctx, nil)
}

// close resolves the alarm: the "recharge received" SMS to the tenant when
// configured, the record closed, the search attribute set.
func (a *alarm) close(ctx workflow.Context, resolution string, r *Recharge) (Result, error) {
	if r != nil {
		var tenants []alarmstore.Recipient
		if a.st.Policy.RechargeSMS {
			for _, rc := range a.st.Policy.Recipients {
				if rc.Role == "tenant" {
					tenants = append(tenants, rc)
				}
			}
		}
		for _, step := range a.st.Recharge(r.Remaining, len(tenants) > 0) {
			if err := a.take(ctx, step, tenants); err != nil {
				return Result{}, err
			}
		}
	}
	if err := closeAlarm(ctx, alarmstore.CloseInput{AlarmID: a.st.AlarmID,
		At: workflow.Now(ctx), Resolution: resolution}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet("closed")); err != nil {
		return Result{}, err
	}
	return Result{AlarmID: a.st.AlarmID, Resolution: resolution, Stages: a.st.Done}, nil
}
