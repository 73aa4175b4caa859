// Package alarm runs meter alarms as Temporal workflows, one per open alarm:
// alarm/<meterNo>/low_balance is started (signal-with-start) by the first
// reading at or below the meter's alarm amount, escalates by SMS — staged at
// the alarm amount, 50 % and 20 % of it, or daily — sends the arrears notice
// at zero, and ends when a recharge (or a reading back above the alarm
// amount) resolves it.
package alarm

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	alarmacts "github.com/voltflow/voltflow/activities/alarm"
	"github.com/voltflow/voltflow/activities/sms"
	domain "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
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
	Recharged = "recharged" // a recharge reached the meter
	Recovered = "recovered" // a reading came back above the alarm amount
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

// State is what the alarm knows; it crosses continue-as-new.
type State struct {
	AlarmID   string           `json:"alarmId"`
	Policy    alarmacts.Policy `json:"policy"`
	Remaining money.Amount     `json:"remaining"`
	Done      []string         `json:"done"`      // stages sent or skipped
	Pending   string           `json:"pending"`   // a non-urgent stage waiting for quiet hours to end
	PendingAt time.Time        `json:"pendingAt"` // when it may go out
	Daily     int              `json:"daily"`     // daily reminders queued so far
	NextDaily time.Time        `json:"nextDaily"` // when the next one is due (daily mode)
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
			NonRetryableErrorTypes: []string{alarmacts.ErrTypeConfig, sms.ErrTypeUndeliverable}},
	})
	a := &alarm{in: in, wfID: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if in.Carry != nil {
		a.st = *in.Carry
	} else if err := a.open(ctx); err != nil {
		return Result{}, err
	}
	thresholds, err := domain.Thresholds(a.st.Policy.AlarmAmount, a.st.Policy.Ratios)
	if err != nil {
		return Result{}, err
	}
	a.thresholds = thresholds

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
		if wake, ok := a.wake(); ok {
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
	in         Input
	wfID       string
	st         State
	thresholds []money.Amount
	arrearsDue bool
}

// Activity receivers: nil pointers name the methods (the SDK's idiom).
var (
	acts    *alarmacts.Activities
	smsActs *sms.Activities
)

// open loads the policy and records the alarm. The alarm id is this first
// run's id: the workflow id is reused by the meter's next alarm.
func (a *alarm) open(ctx workflow.Context) error {
	a.st.AlarmID = workflow.GetInfo(ctx).WorkflowExecution.RunID
	if err := workflow.ExecuteActivity(ctx, acts.LoadPolicy, alarmacts.PolicyInput{MeterID: a.in.MeterID}).Get(ctx, &a.st.Policy); err != nil {
		return err
	}
	a.st.Remaining = a.st.Policy.AlarmAmount
	next := a.st.Policy.AlarmAmount
	return workflow.ExecuteActivity(ctx, acts.OpenAlarm, alarmacts.OpenInput{
		AlarmID: a.st.AlarmID, ProjectID: a.st.Policy.ProjectID, MeterID: a.in.MeterID, MeterNo: a.in.MeterNo,
		Kind: KindLowBalance, WorkflowID: a.wfID, Mode: a.st.Policy.Mode, AlarmAmount: a.st.Policy.AlarmAmount,
		At: workflow.Now(ctx), NextThreshold: &next}).Get(ctx, nil)
}

func (a *alarm) done(stage string) bool {
	for _, s := range a.st.Done {
		if s == stage {
			return true
		}
	}
	return false
}

// onReading takes a reading in; it returns a resolution when the balance is
// back above the alarm amount.
func (a *alarm) onReading(ctx workflow.Context, r Reading) string {
	a.st.Remaining = r.Remaining
	if r.Remaining.GreaterThan(a.st.Policy.AlarmAmount) {
		return Recovered
	}
	if !r.Remaining.IsPositive() && !a.done(domain.StageArrears) {
		a.arrearsDue = true
	}
	switch a.st.Policy.Mode {
	case domain.Daily:
		if a.st.Daily == 0 && a.st.NextDaily.IsZero() {
			a.st.NextDaily = workflow.Now(ctx)
		}
	default:
		if i := domain.Deepest(r.Remaining, a.thresholds); i >= 0 && !a.done(domain.LowStage(i)) {
			// A deeper stage replaces a shallower one still waiting.
			a.st.Pending, a.st.PendingAt = domain.LowStage(i), time.Time{}
		}
	}
	return ""
}

// wake is when the loop must run without a signal: the end of quiet hours
// for a waiting stage, or the next daily reminder.
func (a *alarm) wake() (time.Time, bool) {
	t := a.st.PendingAt
	if !a.st.NextDaily.IsZero() && (t.IsZero() || a.st.NextDaily.Before(t)) {
		t = a.st.NextDaily
	}
	return t, !t.IsZero()
}

// due sends what is due now: the arrears notice at once, a waiting stage
// unless quiet hours hold it back, the daily reminder when its day comes.
func (a *alarm) due(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	if a.arrearsDue {
		a.arrearsDue = false
		if a.st.Pending != "" && a.st.Policy.Mode != domain.Daily {
			// The cut-off notice says more than a low-balance one still waiting.
			if err := a.record(ctx, a.st.Pending, nil, "skipped"); err != nil {
				return err
			}
			a.st.Pending, a.st.PendingAt = "", time.Time{}
		}
		if err := a.send(ctx, domain.StageArrears, "arrears", a.st.Policy.Recipients); err != nil {
			return err
		}
	}
	if a.st.Policy.Mode == domain.Daily && !a.st.NextDaily.IsZero() && !now.Before(a.st.NextDaily) && a.st.Pending == "" {
		a.st.Daily++
		a.st.Pending = domain.DailyStage(a.st.Daily)
		a.st.NextDaily = a.st.NextDaily.Add(24 * time.Hour)
	}
	if a.st.Pending == "" {
		return nil
	}
	if at := a.st.Policy.Quiet.Until(now); at.After(now) {
		a.st.PendingAt = at
		return nil
	}
	stage := a.st.Pending
	a.st.Pending, a.st.PendingAt = "", time.Time{}
	template := "daily_low_balance"
	if a.st.Policy.Mode != domain.Daily {
		template = "low_balance"
		for i := range a.thresholds {
			if s := domain.LowStage(i); s == stage {
				break
			} else if !a.done(s) {
				if err := a.record(ctx, s, nil, "skipped"); err != nil {
					return err
				}
			}
		}
	}
	return a.send(ctx, stage, template, a.st.Policy.Recipients)
}

// nextThreshold is the reading the hook must pass on: the next staged
// threshold, else zero until the arrears notice went, else none.
func (a *alarm) nextThreshold() *money.Amount {
	if a.st.Policy.Mode != domain.Daily {
		for i, th := range a.thresholds {
			if !a.done(domain.LowStage(i)) {
				return &th
			}
		}
	}
	if !a.done(domain.StageArrears) {
		zero := money.Zero
		return &zero
	}
	return nil
}

// send sends one stage to every recipient in parallel and records it. Each
// SMS is keyed by (workflow, alarm, stage, recipient): a replay or a retry
// after a crash finds the sent row and sends nothing.
func (a *alarm) send(ctx workflow.Context, stage, template string, to []alarmacts.Recipient) error {
	smsCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 6 * time.Hour,
		// Above the providers' 10 s HTTP timeout: SendSMS heartbeats before each call.
		HeartbeatTimeout: 12 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{sms.ErrTypeUndeliverable}},
	})
	p := a.st.Policy
	values := map[string]string{"meterNo": a.in.MeterNo, "remaining": a.st.Remaining.String(), "threshold": p.AlarmAmount.String()}
	if i := indexOf(stage); i >= 0 && i < len(a.thresholds) {
		values["threshold"] = a.thresholds[i].String()
	}
	futures := make([]workflow.Future, len(to))
	for i, r := range to {
		futures[i] = workflow.ExecuteActivity(smsCtx, smsActs.SendSMS, sms.SendInput{
			ProjectID: p.ProjectID, WorkflowID: a.wfID, AlarmID: a.st.AlarmID, Stage: stage, Recipient: r.Phone,
			Kind: KindLowBalance, MeterNo: a.in.MeterNo, Template: template, Values: values,
			Urgent: stage == domain.StageArrears})
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
	if !a.done(stage) {
		a.st.Done = append(a.st.Done, stage)
	}
	return workflow.ExecuteActivity(ctx, acts.RecordStage, alarmacts.StageInput{AlarmID: a.st.AlarmID, Stage: stage,
		At: workflow.Now(ctx), Recipients: phones, Outcome: outcome, NextThreshold: a.nextThreshold()}).Get(ctx, nil)
}

// close resolves the alarm: the "recharge received" SMS to the tenant when
// configured, the record closed, the search attribute set.
func (a *alarm) close(ctx workflow.Context, resolution string, r *Recharge) (Result, error) {
	if r != nil {
		a.st.Remaining = r.Remaining
		if a.st.Policy.RechargeSMS {
			var tenants []alarmacts.Recipient
			for _, rc := range a.st.Policy.Recipients {
				if rc.Role == "tenant" {
					tenants = append(tenants, rc)
				}
			}
			if len(tenants) > 0 {
				if err := a.send(ctx, domain.StageRecharge, "recharge_received", tenants); err != nil {
					return Result{}, err
				}
			}
		}
	}
	if err := workflow.ExecuteActivity(ctx, acts.CloseAlarm, alarmacts.CloseInput{AlarmID: a.st.AlarmID,
		At: workflow.Now(ctx), Resolution: resolution}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet("closed")); err != nil {
		return Result{}, err
	}
	return Result{AlarmID: a.st.AlarmID, Resolution: resolution, Stages: a.st.Done}, nil
}

// indexOf is the threshold index of a staged stage name, or -1.
func indexOf(stage string) int {
	var i int
	if _, err := fmt.Sscanf(stage, "low_%d", &i); err != nil {
		return -1
	}
	return i - 1
}
