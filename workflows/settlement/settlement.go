// Package settlement is the month-end settlement (月底结算日, issue 20 §8)
// as a Temporal workflow, month-settlement/<project>/<YYYY-MM>: it closes
// every prepaid wallet's month of the project once (store/settlement; a
// second run returns the stored month and books nothing).
//
// A Schedule per project (month-settlement-schedule/<project>) fires after
// each close of the project's settlement day; Temporal names its runs
// "month-settlement/<project>-<time>", so such a run asks which month is
// due and settles it as a child under the month's own ID: one workflow per
// project month, whether started by the Schedule or by hand.
package settlement

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	enumspb "go.temporal.io/api/enums/v1"

	settlementstore "github.com/voltflow/voltflow/store/settlement"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Kind is the workflow type.
const Kind = "month-settlement"

// Status values (search attribute VoltflowStatus).
const (
	StatusScheduled = "scheduled"
	StatusSettling  = "settling"
	StatusSettled   = "settled"
	StatusFailed    = "failed"
)

// errRefused is activities/settlement.ErrRefused (not imported: layers).
const errRefused = "settlement_refused"

// WorkflowID is the settlement of one project month.
func WorkflowID(projectCode, month string) string { return Kind + "/" + projectCode + "/" + month }

// ScheduleID is the project's Schedule.
func ScheduleID(projectCode string) string { return Kind + "-schedule/" + projectCode }

// Input starts a settlement. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	// Month is YYYY-MM; empty in the Schedule's runs: the month closed
	// last before the run's scheduled time.
	Month string `json:"month"`
}

// Result is the settled month (Created false when it had been before).
type Result = settlementstore.Settlement

// scheduledStart is the search attribute Temporal gives a Schedule's runs.
func scheduledStart() temporal.SearchAttributeKeyTime {
	return temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
}

// Workflow settles the month.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	var out Result
	if in.Month == "" {
		at := workflow.Now(ctx)
		if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStart()); ok && !t.IsZero() {
			at = t // a late run (Temporal was down) settles the month it was fired for
		}
		var due settlementstore.DueResult
		if err := settlementDue(options.DB(ctx), settlementstore.DueInput{ProjectID: in.ProjectID, At: at}).Get(ctx, &due); err != nil {
			return out, err
		}
		in.Month = due.Month
	}
	id := WorkflowID(in.ProjectCode, in.Month)
	if workflow.GetInfo(ctx).WorkflowExecution.ID != id {
		return settleAsChild(ctx, in, id)
	}
	setStatus := func(s string) error {
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(s), names.Subject.ValueSet(in.Month))
	}
	if err := setStatus(StatusSettling); err != nil {
		return out, err
	}
	err := settleMonth(options.DB(ctx, errRefused), settlementstore.SettleInput{ProjectID: in.ProjectID, Month: in.Month}).Get(ctx, &out)
	status := StatusSettled
	if err != nil {
		status = StatusFailed
	}
	if uerr := setStatus(status); uerr != nil {
		return out, fmt.Errorf("status %s: %w", status, uerr)
	}
	if err == nil {
		workflow.GetLogger(ctx).Info("month settled", "project", in.ProjectCode, "month", in.Month,
			"accounts", out.Accounts, "created", out.Created)
	}
	return out, err
}

// settleAsChild runs the month under its own ID. A month settled by an
// earlier workflow is not settled again (its ID is taken): the answer is
// the stored month, read by a settlement that books nothing.
func settleAsChild(ctx workflow.Context, in Input, id string) (Result, error) {
	var out Result
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             names.MainQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// The settlement outlives a Schedule run that is cut short.
		ParentClosePolicy:        enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowExecutionTimeout: 12 * time.Hour,
		TypedSearchAttributes:    names.Attributes(in.ProjectCode, Kind, in.Month, StatusSettling),
	})
	err := workflow.ExecuteChildWorkflow(cctx, Kind, in).Get(ctx, &out)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		err = settleMonth(options.DB(ctx, errRefused), settlementstore.SettleInput{ProjectID: in.ProjectID, Month: in.Month}).Get(ctx, &out)
	}
	return out, err
}
