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

// Names of the condition alarms (static meter, over-limit, trips, lost
// contact): one generic workflow, alarm/<subject>/<kind>, open while the
// condition holds.
const (
	// KindConditionWorkflow is the registered name of Condition.
	KindConditionWorkflow = "alarm_condition"
	SignalRaise           = "raise" // the scan found the condition (again)
	SignalClear           = "clear" // the scan found it gone
	StageRaised           = "raised"
	Cleared               = "cleared" // resolution
)

// ConditionWorkflowID is the workflow of a condition alarm. A gateway has no
// meter number: its code is unique only in its project, so the project's
// code qualifies it.
func ConditionWorkflowID(projectCode string, c alarmstore.Condition) string {
	if c.MeterID == "" {
		return "alarm/" + projectCode + "." + c.SubjectNo + "/" + c.Kind
	}
	return WorkflowID(c.SubjectNo, c.Kind)
}

// ConditionInput starts a condition alarm.
type ConditionInput struct {
	ProjectID string               `json:"projectId"`
	Condition alarmstore.Condition `json:"condition"`
}

// Clear is the scan finding the condition gone (signal clear).
type Clear struct {
	At time.Time `json:"at"`
}

// Condition is one condition alarm: it records the alarm open, sends one
// SMS to the project's and meter's recipients (after quiet hours unless the
// meter tripped), and ends when the scan signals the condition cleared.
func Condition(ctx workflow.Context, in ConditionInput) (Result, error) {
	raises := workflow.GetSignalChannel(ctx, SignalRaise)
	clears := workflow.GetSignalChannel(ctx, SignalClear)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{alarmstore.ErrTypeConfig}},
	})
	c := in.Condition
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID
	alarmID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	var policy alarmstore.Policy
	if err := loadConditionPolicy(ctx, alarmstore.ConditionPolicyInput{ProjectID: in.ProjectID,
		MeterID: c.MeterID}).Get(ctx, &policy); err != nil {
		return Result{}, err
	}
	if err := openAlarm(ctx, alarmstore.NewAlarm{AlarmID: alarmID, ProjectID: in.ProjectID,
		MeterID: c.MeterID, MeterNo: c.SubjectNo, Kind: c.Kind, WorkflowID: wfID, Mode: "condition", AlarmAmount: money.Zero,
		At: workflow.Now(ctx), Detail: c.Detail}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	var stages []string
	cleared := false
	// wait blocks until the condition clears or d passes (d < 0: forever);
	// repeated raises from later scans are taken and ignored.
	wait := func(d time.Duration) {
		timerCtx, cancel := workflow.WithCancel(ctx)
		defer cancel()
		timedOut := false
		var timer workflow.Future
		if d >= 0 {
			timer = workflow.NewTimer(timerCtx, d)
		}
		for !cleared && !timedOut {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(raises, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
			sel.AddReceive(clears, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil); cleared = true })
			if timer != nil {
				sel.AddFuture(timer, func(workflow.Future) { timedOut = true })
			}
			sel.Select(ctx)
		}
	}
	now := workflow.Now(ctx)
	if until := policy.Quiet.Until(now); !alarmdom.Urgent(c.Kind) && until.After(now) {
		wait(until.Sub(now))
	}
	outcome := "skipped" // cleared during quiet hours: nobody needs to hear of it
	var phones []string
	if !cleared {
		outcome, phones = sendCondition(ctx, in.ProjectID, wfID, alarmID, c, policy.Recipients)
	}
	stages = append(stages, StageRaised)
	if err := recordStage(ctx, alarmstore.StageInput{AlarmID: alarmID, Stage: StageRaised,
		At: workflow.Now(ctx), Recipients: phones, Outcome: outcome}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	wait(-1)
	if err := closeAlarm(ctx, alarmstore.CloseInput{AlarmID: alarmID,
		At: workflow.Now(ctx), Resolution: Cleared}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet("closed")); err != nil {
		return Result{}, err
	}
	return Result{AlarmID: alarmID, Resolution: Cleared, Stages: stages}, nil
}

// sendCondition sends the alarm to every recipient in parallel, each SMS
// keyed by (workflow, alarm, stage, recipient) like the low-balance stages.
func sendCondition(ctx workflow.Context, projectID, wfID, alarmID string, c alarmstore.Condition, to []alarmstore.Recipient) (string, []string) {
	if len(to) == 0 {
		return "no_recipients", nil
	}
	smsCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 6 * time.Hour, HeartbeatTimeout: 12 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
	values := map[string]string{"subject": c.SubjectNo, "alarm": c.Kind, "detail": c.Detail}
	futures := make([]workflow.Future, len(to))
	phones := make([]string, len(to))
	for i, r := range to {
		phones[i] = r.Phone
		futures[i] = sendSMS(smsCtx, smsstore.SendInput{ProjectID: projectID, WorkflowID: wfID,
			AlarmID: alarmID, Stage: StageRaised, Recipient: r.Phone, Kind: c.Kind, MeterNo: c.SubjectNo,
			Template: "meter_alarm", Values: values, Urgent: alarmdom.Urgent(c.Kind)})
	}
	outcome := "sent"
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("alarm SMS not sent", "kind", c.Kind, "recipient", to[i].Phone, "error", err)
			outcome = "failed"
		}
	}
	return outcome, phones
}

// ScanInput scans one project's meters for condition alarms.
type ScanInput struct {
	ProjectID   string    `json:"projectId"`
	ProjectCode string    `json:"projectCode"`
	At          time.Time `json:"at"` // zero: the workflow's time
}

// ScanResult counts what a scan did.
type ScanResult struct {
	Raised  int `json:"raised"`
	Cleared int `json:"cleared"`
}

// Scan is the scheduled scan of a project (alarm-scan/<project>): one
// activity evaluates every meter and opens or clears the condition alarms.
func Scan(ctx workflow.Context, in ScanInput) (ScanResult, error) {
	if in.At.IsZero() {
		in.At = workflow.Now(ctx).UTC().Truncate(time.Second)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 5},
	})
	var r ScanResult
	err := workflow.ExecuteActivity(ctx, scanner.ScanAlarmConditions, in).Get(ctx, &r)
	return r, err
}

var scanner *Scanner
