// Package fee is the daily property-fee run (M13) as a Temporal workflow: a
// Schedule per project starts it every day; it lists the fees due that day
// (rent, management, capacity), books them in batches, each once (the
// ledger key and fee_charges row per schedule, unit and month make a rerun
// or a run resumed after a crash book nothing twice), and sends an SMS for
// each fee that left arrears.
package fee

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	feedom "github.com/voltflow/voltflow/domain/fee"
	feestore "github.com/voltflow/voltflow/store/fee"
	smsstore "github.com/voltflow/voltflow/store/sms"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API and the schedules.
const (
	Kind = "property-fees"
	// SMSStage and SMSTemplate are the arrears notice's.
	SMSStage    = "fee_arrears"
	SMSTemplate = "fee_arrears"
)

// BatchSize is fees per activity: small enough that a retried batch
// redoes little, large enough to keep the history short.
const BatchSize = 25

// WorkflowID is the run of one project's fees on one day.
func WorkflowID(projectCode string, day time.Time) string {
	return fmt.Sprintf("%s/%s/%s", Kind, projectCode, day.Format("2006-01-02"))
}

// ScheduleID is the project's daily Schedule.
func ScheduleID(projectCode string) string { return Kind + "-schedule/" + projectCode }

// smsWorkflowID keys the arrears SMS: one per fee (its ledger key) and
// recipient, whichever run sends it.
func smsWorkflowID(projectCode string) string { return Kind + "/" + projectCode }

// scheduledStart is the search attribute Temporal gives a Schedule's runs.
func scheduledStart() temporal.SearchAttributeKeyTime {
	return temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
}

// Input starts a run. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	// Day is the calendar day whose fees are booked; zero means the local
	// day the run was scheduled for, or started on (what the Schedule's
	// runs use).
	Day time.Time `json:"day"`
}

// Result counts the run.
type Result struct {
	Day     time.Time `json:"day"`
	Due     int       `json:"due"`
	Done    int       `json:"done"`    // booked, now or before (an attempt that died, an earlier run)
	Booked  int       `json:"booked"`  // booked by a completed attempt of this run
	Arrears int       `json:"arrears"` // fees that left arrears
	Skipped int       `json:"skipped"` // no open account, no area
}

// Workflow books the project's fees due on the day.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	day := in.Day
	if day.IsZero() {
		// A Schedule's run books its scheduled day, also when it runs late
		// (a catch-up after Temporal was down).
		at := workflow.Now(ctx)
		if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStart()); ok && !t.IsZero() {
			at = t
		}
		day = feedom.LocalDay(at)
	}
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	out := Result{Day: day}
	setStatus := func(s string) error {
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(s))
	}
	if err := setStatus("booking"); err != nil {
		return out, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		// A killed worker is noticed by the heartbeat, and the retry books
		// only what the first try did not commit.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	var due feestore.DueResult
	if err := dueFees(actx, feestore.DueInput{ProjectID: in.ProjectID, Day: day}).Get(ctx, &due); err != nil {
		return out, err
	}
	out.Due = len(due.Fees)
	var booked []feestore.Booked
	for fees := due.Fees; len(fees) > 0; {
		n := min(BatchSize, len(fees))
		var r feestore.BatchResult
		if err := bookFees(actx, feestore.BatchInput{ProjectID: in.ProjectID, Day: day, Fees: fees[:n]}).Get(ctx, &r); err != nil {
			_ = setStatus("failed")
			return out, err
		}
		booked = append(booked, r.Booked...)
		fees = fees[n:]
	}

	smsCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 6 * time.Hour,
		HeartbeatTimeout: 12 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
	var sms []workflow.Future
	for _, b := range booked {
		switch {
		case b.Skipped != "":
			out.Skipped++
			continue
		case b.Created:
			out.Booked++
		}
		out.Done++
		if !b.Arrears.IsPositive() {
			continue
		}
		out.Arrears++
		if b.Phone == "" {
			continue
		}
		// Sent for every fee in arrears, booked by this run or an earlier
		// one that crashed before its SMS: the message is keyed by the fee,
		// so it goes once.
		sms = append(sms, sendSMS(smsCtx, smsstore.SendInput{ProjectID: in.ProjectID, WorkflowID: smsWorkflowID(in.ProjectCode),
			AlarmID: b.Key, Stage: SMSStage, Recipient: b.Phone, Kind: SMSStage, MeterNo: b.MeterNo, Template: SMSTemplate,
			Values: map[string]string{"meterNo": b.MeterNo, "fee": string(b.Kind), "amount": b.Amount.String(),
				"arrears": b.Arrears.String()}, Urgent: b.CutOff}))
	}
	for _, f := range sms {
		if err := f.Get(ctx, nil); err != nil {
			// Recorded in sms_messages as failed; the fees stay booked.
			workflow.GetLogger(ctx).Warn("fee arrears SMS not sent", "error", err)
		}
	}
	if err := setStatus("completed"); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("property fees booked", "project", in.ProjectCode, "day", day, "due", out.Due,
		"booked", out.Booked, "arrears", out.Arrears, "skipped", out.Skipped)
	return out, nil
}
