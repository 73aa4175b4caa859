// Package allowance is the monthly allowance (月补电量, issue 20 §4) as a
// Temporal workflow: a Schedule per project starts it every month; it lists
// the meters owed the month's allowance, grants each once (a grant row and
// an allowance recharge committed together, keyed by meter and month) and
// starts each grant's recharge workflow, which books it from the allowance
// account and takes it to the meter the way a sale goes: through the
// purchase counter of a meter-side meter, into the wallet of a
// platform-side one.
package allowance

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	allowancedom "github.com/voltflow/voltflow/domain/allowance"
	allowancestore "github.com/voltflow/voltflow/store/allowance"
	"github.com/voltflow/voltflow/workflows/names"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
)

// Kind names the workflow type, its IDs and its search attribute.
const Kind = "monthly-allowance"

// BatchSize is meters per activity: a retried batch redoes little, the
// history stays short.
const BatchSize = 25

// PageSize is the due meters listed per activity (keyset by meter id): a
// project of 100,000 meters never lists them in one result.
const PageSize = 500

// HistoryLimit is the history length (events) after which a run continues
// as new, carrying its cursor and counts: a page of 500 meters with their
// recharge children adds some 2,500 events, well under Temporal's limits
// (50,000 events, 50 MB) with this bound.
const HistoryLimit = 10000

// PagesPerRun also bounds a run (20 pages: 10,000 meters), whatever the
// history length says.
const PagesPerRun = 20

// WorkflowID is the run of one project's allowance of one month (YYYY-MM).
func WorkflowID(projectCode, period string) string {
	return fmt.Sprintf("%s/%s/%s", Kind, projectCode, period)
}

// ScheduleID is the project's monthly Schedule.
func ScheduleID(projectCode string) string { return Kind + "-schedule/" + projectCode }

func scheduledStart() temporal.SearchAttributeKeyTime {
	return temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
}

// Input starts a run. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	// Period is the month granted (YYYY-MM); empty means the month (China
	// time) the run was scheduled for, or started in.
	Period string `json:"period"`
	// DispatchWindow is passed to the recharges (zero: their default).
	DispatchWindow time.Duration `json:"dispatchWindow,omitempty"`
	// After is the last meter id listed by the runs before this one (a run
	// continued as new goes on from it); Sofar is their counts.
	After string  `json:"after,omitempty"`
	Sofar *Result `json:"sofar,omitempty"`
	// PageSize, HistoryLimit and PagesPerRun override the constants (zero:
	// them); tests make them small.
	PageSize     int `json:"pageSize,omitempty"`
	HistoryLimit int `json:"historyLimit,omitempty"`
	PagesPerRun  int `json:"pagesPerRun,omitempty"`
}

// Result counts the run.
type Result struct {
	Period  string `json:"period"`
	Due     int    `json:"due"`
	Granted int    `json:"granted"` // granted by this run
	Done    int    `json:"done"`    // granted now or before
	Skipped int    `json:"skipped"`
	Started int    `json:"started"` // recharge workflows started by this run
}

// Workflow grants the project's allowance of the month.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	period := in.Period
	if period == "" {
		// A Schedule's run grants its scheduled month, also when late.
		at := workflow.Now(ctx)
		if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStart()); ok && !t.IsZero() {
			at = t
		}
		period = allowancedom.Period(at)
	}
	out := Result{Period: period}
	setStatus := func(s string) error {
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(s))
	}
	if err := setStatus("granting"); err != nil {
		return out, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		// A killed worker is noticed by the heartbeat; the retry grants
		// only what the first try did not commit.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
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
	if in.Sofar != nil {
		out = *in.Sofar
		out.Period = period
	}
	after := in.After
	for pages := 1; ; pages++ {
		var due allowancestore.DueResult
		if err := dueAllowances(actx, allowancestore.DueInput{ProjectID: in.ProjectID, Period: period, After: after, Limit: pageSize}).Get(ctx, &due); err != nil {
			_ = setStatus("failed")
			return out, err
		}
		if err := grantPage(ctx, actx, in, period, due.MeterIDs, &out); err != nil {
			_ = setStatus("failed")
			return out, err
		}
		if len(due.MeterIDs) < pageSize {
			break
		}
		after = due.MeterIDs[len(due.MeterIDs)-1]
		if pages >= pagesPerRun || workflow.GetInfo(ctx).GetCurrentHistoryLength() >= historyLimit {
			// The month goes on in a new run from the cursor: one run's
			// history stays bounded whatever the project's size.
			next := in
			next.Period, next.After, next.Sofar = period, after, &out
			return out, workflow.NewContinueAsNewError(ctx, Kind, next)
		}
	}
	if err := setStatus("completed"); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("monthly allowance granted", "project", in.ProjectCode, "period", period,
		"due", out.Due, "granted", out.Granted, "skipped", out.Skipped)
	return out, nil
}

// grantPage grants a page of due meters in batches and starts their
// recharges, adding to out.
func grantPage(ctx, actx workflow.Context, in Input, period string, ids []string, out *Result) error {
	out.Due += len(ids)
	for len(ids) > 0 {
		n := min(BatchSize, len(ids))
		var r allowancestore.BatchResult
		if err := grantAllowances(actx, allowancestore.BatchInput{ProjectID: in.ProjectID, Period: period, MeterIDs: ids[:n]}).Get(ctx, &r); err != nil {
			return err
		}
		ids = ids[n:]
		var starts []workflow.ChildWorkflowFuture
		for _, g := range r.Granted {
			switch {
			case g.Skipped != "":
				out.Skipped++
				continue
			case g.Created:
				out.Granted++
			}
			out.Done++
			if g.Status.Final() {
				continue
			}
			starts = append(starts, startRecharge(ctx, in, g))
		}
		for _, f := range starts {
			err := f.GetChildWorkflowExecution().Get(ctx, nil)
			switch {
			case err == nil:
				out.Started++
			case temporal.IsWorkflowExecutionAlreadyStartedError(err):
				// Started by an earlier run of the month: it goes on.
			default:
				return err
			}
		}
	}
	return nil
}

// startRecharge starts the grant's recharge as a child that outlives this
// run (a meter offline for days keeps its recharge waiting, not the
// month); a recharge started before, running or closed, is not started
// again.
func startRecharge(ctx workflow.Context, in Input, g allowancestore.Granted) workflow.ChildWorkflowFuture {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            g.WorkflowID,
		TaskQueue:             names.MainQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: names.Attributes(in.ProjectCode, rechargewf.Kind, g.MeterNo, string(g.Status)),
	})
	return workflow.ExecuteChildWorkflow(cctx, rechargewf.Kind, rechargewf.Input{
		RechargeID: g.RechargeID, ProjectID: in.ProjectID, ProjectCode: in.ProjectCode, MeterID: g.MeterID,
		MeterNo: g.MeterNo, Amount: g.Amount, DispatchWindow: in.DispatchWindow, Platform: g.Platform})
}
