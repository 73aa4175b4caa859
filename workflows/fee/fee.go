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

// PageSize is the due fees listed per activity (keyset by unit and
// schedule): at 100,000 units one list would be some 9 MB, over Temporal's
// 2 MB payload limit.
const PageSize = 500

// HistoryLimit is the history length (events) after which a run continues
// as new, carrying its cursor and counts: a page of 500 fees with an SMS
// for each in arrears adds at most some 3,000 events.
const HistoryLimit = 10000

// PagesPerRun also bounds a run (20 pages: 10,000 fees), whatever the
// history length says.
const PagesPerRun = 20

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
	// AfterUnit and AfterSchedule are the last fee listed by the runs
	// before this one (a run continued as new goes on from it); Sofar is
	// their counts.
	AfterUnit     string  `json:"afterUnit,omitempty"`
	AfterSchedule string  `json:"afterSchedule,omitempty"`
	Sofar         *Result `json:"sofar,omitempty"`
	// PageSize, HistoryLimit and PagesPerRun override the constants (zero:
	// them); tests make them small.
	PageSize     int `json:"pageSize,omitempty"`
	HistoryLimit int `json:"historyLimit,omitempty"`
	PagesPerRun  int `json:"pagesPerRun,omitempty"`
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
	// Since "fee-due-pages" the due fees are listed in pages with
	// continue-as-new; a run started before it (DefaultVersion) lists
	// every fee at once, as it did. The id is written out for
	// tests/harness/record-before.sh and the replay tests.
	if workflow.GetVersion(ctx, "fee-due-pages", workflow.DefaultVersion, 1) >= 1 {
		return bookInPages(ctx, actx, in, day, setStatus)
	}
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

	smsCtx := smsContext(ctx)
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
		sms = append(sms, sendArrearsSMS(smsCtx, in, b))
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

// smsContext is the arrears SMS's activity options.
func smsContext(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 6 * time.Hour,
		HeartbeatTimeout: 12 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
}

// sendArrearsSMS tells the unit's contact of the fee's arrears; the message
// is keyed by the fee, so it goes once whichever run sends it.
func sendArrearsSMS(ctx workflow.Context, in Input, b feestore.Booked) workflow.Future {
	return sendSMS(ctx, smsstore.SendInput{ProjectID: in.ProjectID, WorkflowID: smsWorkflowID(in.ProjectCode),
		AlarmID: b.Key, Stage: SMSStage, Recipient: b.Phone, Kind: SMSStage, MeterNo: b.MeterNo, Template: SMSTemplate,
		Values: map[string]string{"meterNo": b.MeterNo, "fee": string(b.Kind), "amount": b.Amount.String(),
			"arrears": b.Arrears.String()}, Urgent: b.CutOff})
}

// bookInPages is the run since "fee-due-pages": the due fees listed a page at
// a time after a cursor, each page booked in batches and its SMS sent
// before the next page, and the run continued as new after PagesPerRun
// pages or HistoryLimit events with the cursor and the counts, so that
// neither a payload nor the history grows with the project.
func bookInPages(ctx, actx workflow.Context, in Input, day time.Time, setStatus func(string) error) (Result, error) {
	pageSize, historyLimit, pagesPerRun := in.PageSize, in.HistoryLimit, in.PagesPerRun
	if pageSize <= 0 {
		pageSize = PageSize
	}
	if historyLimit <= 0 {
		historyLimit = HistoryLimit
	}
	if pagesPerRun <= 0 {
		pagesPerRun = PagesPerRun
	}
	out := Result{Day: day}
	if in.Sofar != nil {
		out = *in.Sofar
		out.Day = day
	}
	smsCtx := smsContext(ctx)
	afterUnit, afterSchedule := in.AfterUnit, in.AfterSchedule
	for pages := 1; ; pages++ {
		var due feestore.DueResult
		if err := dueFees(actx, feestore.DueInput{ProjectID: in.ProjectID, Day: day, Limit: pageSize,
			AfterUnit: afterUnit, AfterSchedule: afterSchedule}).Get(ctx, &due); err != nil {
			_ = setStatus("failed")
			return out, err
		}
		if err := bookPage(ctx, actx, smsCtx, in, day, due.Fees, &out); err != nil {
			_ = setStatus("failed")
			return out, err
		}
		if len(due.Fees) < pageSize {
			break
		}
		last := due.Fees[len(due.Fees)-1]
		afterUnit, afterSchedule = last.UnitID, last.ScheduleID
		if pages >= pagesPerRun || workflow.GetInfo(ctx).GetCurrentHistoryLength() >= historyLimit {
			// The day goes on in a new run from the cursor: one run's
			// history stays bounded whatever the project's size.
			next := in
			next.Day, next.AfterUnit, next.AfterSchedule, next.Sofar = day, afterUnit, afterSchedule, &out
			return out, workflow.NewContinueAsNewError(ctx, Kind, next)
		}
	}
	if err := setStatus("completed"); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("property fees booked", "project", in.ProjectCode, "day", day, "due", out.Due,
		"booked", out.Booked, "arrears", out.Arrears, "skipped", out.Skipped)
	return out, nil
}

// bookPage books a page of due fees in batches and sends the SMS of each
// fee in arrears, adding to out; it returns once the page's SMS are done
// (sent or failed), so nothing is pending when the run continues as new.
func bookPage(ctx, actx, smsCtx workflow.Context, in Input, day time.Time, fees []feestore.Due, out *Result) error {
	out.Due += len(fees)
	var sms []workflow.Future
	for len(fees) > 0 {
		n := min(BatchSize, len(fees))
		var r feestore.BatchResult
		if err := bookFees(actx, feestore.BatchInput{ProjectID: in.ProjectID, Day: day, Fees: fees[:n]}).Get(ctx, &r); err != nil {
			return err
		}
		fees = fees[n:]
		for _, b := range r.Booked {
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
			if b.Phone != "" {
				sms = append(sms, sendArrearsSMS(smsCtx, in, b))
			}
		}
	}
	for _, f := range sms {
		if err := f.Get(ctx, nil); err != nil {
			// Recorded in sms_messages as failed; the fees stay booked.
			workflow.GetLogger(ctx).Warn("fee arrears SMS not sent", "error", err)
		}
	}
	return nil
}
