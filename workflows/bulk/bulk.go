// Package bulk runs a bulk operation (M11, 批量开户 / 批量充值) as the
// workflow bulk/<id>: every row of a checked sheet, Concurrency at a time,
// one account opening or one recharge (the recharge workflow, as a child,
// recharge/<id>) per row, each row's outcome recorded in PostgreSQL.
package bulk

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	bulkdom "github.com/voltflow/voltflow/domain/bulk"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	bulkstore "github.com/voltflow/voltflow/store/bulk"
	"github.com/voltflow/voltflow/workflows/names"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
)

// Kind is the workflow type.
const Kind = "bulk"

// WorkflowID is the workflow of one batch.
func WorkflowID(batchID string) string { return Kind + "/" + batchID }

// Input starts (or, after continue-as-new, resumes) a batch. The rows are
// read from PostgreSQL a page at a time, so history stays small. New fields
// must have a safe zero value.
type Input struct {
	BatchID     string       `json:"batchId"`
	ProjectID   string       `json:"projectId"`
	ProjectCode string       `json:"projectCode"`
	Kind        bulkdom.Kind `json:"kind"`
	OperatorID  string       `json:"operatorId"`
	// DispatchWindow is each recharge's retry window (the server's).
	DispatchWindow time.Duration `json:"dispatchWindow"`
	// Concurrency is how many rows run at once (default 8): a sheet of a
	// thousand sales must not crowd out the cashiers' own.
	Concurrency  int `json:"concurrency"`
	PageSize     int `json:"pageSize"`     // rows per page (default 200)
	HistoryLimit int `json:"historyLimit"` // continue as new past this (default 10,000 events)
	AfterLine    int `json:"afterLine"`    // where a continued run resumes
}

// Result is the batch's rows counted by state.
type Result struct {
	Counts map[string]int `json:"counts"`
}

// Workflow runs a batch to its end.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	in = withDefaults(in)
	for {
		var items []bulkstore.Item
		if err := listBulkRows(ctx, bulkstore.PageInput{BatchID: in.BatchID, AfterLine: in.AfterLine, Limit: in.PageSize}).
			Get(ctx, &items); err != nil {
			return Result{}, err
		}
		if len(items) == 0 {
			break
		}
		runPage(ctx, in, items)
		in.AfterLine = items[len(items)-1].Line
		info := workflow.GetInfo(ctx)
		if len(items) == in.PageSize && (info.GetCurrentHistoryLength() >= in.HistoryLimit || info.GetContinueAsNewSuggested()) {
			return Result{}, workflow.NewContinueAsNewError(ctx, Kind, in)
		}
	}
	var res Result
	if err := finishBulk(ctx, bulkstore.FinishInput{BatchID: in.BatchID}).Get(ctx, &res.Counts); err != nil {
		return Result{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet("completed")); err != nil {
		return Result{}, err
	}
	return res, nil
}

// runPage runs the page's rows with at most in.Concurrency at once,
// starting the next as soon as one ends. A row never fails the batch: its
// failure is its outcome.
func runPage(ctx workflow.Context, in Input, items []bulkstore.Item) {
	sel := workflow.NewSelector(ctx)
	inflight, next := 0, 0
	for next < len(items) || inflight > 0 {
		for inflight < in.Concurrency && next < len(items) {
			it := items[next]
			next++
			inflight++
			f, set := workflow.NewFuture(ctx)
			workflow.Go(ctx, func(ctx workflow.Context) {
				if in.Kind == bulkdom.Openings {
					openRow(ctx, in, it)
				} else {
					rechargeRow(ctx, in, it)
				}
				set.Set(nil, nil)
			})
			sel.AddFuture(f, func(workflow.Future) { inflight-- })
		}
		sel.Select(ctx)
	}
}

func rowInput(in Input, it bulkstore.Item) bulkstore.RowInput {
	return bulkstore.RowInput{BatchID: in.BatchID, ProjectID: in.ProjectID, Line: it.Line, OperatorID: in.OperatorID}
}

// record writes a row's outcome; a failure to record it (the database
// gone past the activity's retries) leaves the row running, seen as such.
func record(ctx workflow.Context, in Input, it bulkstore.Item, state, outcome, detail string) {
	if err := recordBulkOutcome(ctx, bulkstore.RecordInput{BatchID: in.BatchID, Line: it.Line, State: state,
		Outcome: outcome, Detail: detail}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("bulk: row outcome not recorded", "batch", in.BatchID, "line", it.Line, "error", err)
	}
}

func openRow(ctx workflow.Context, in Input, it bulkstore.Item) {
	var o bulkstore.Opened
	if err := openBulkAccount(ctx, rowInput(in, it)).Get(ctx, &o); err != nil {
		record(ctx, in, it, bulkdom.Failed, "error", err.Error())
	}
}

// rechargeRow stores the row's sale and, when the row created it, runs
// its recharge workflow as a child to its end. A child start is in this
// workflow's history, so a worker restart replays it and never starts a
// second sale; a sale of the same transaction number stored before is
// reported, not sold again.
func rechargeRow(ctx workflow.Context, in Input, it bulkstore.Item) {
	var p bulkstore.Prepared
	if err := prepareBulkRecharge(ctx, rowInput(in, it)).Get(ctx, &p); err != nil {
		record(ctx, in, it, bulkdom.Failed, "error", err.Error())
		return
	}
	if p.Refused != "" {
		return // recorded with the refusal
	}
	if !p.Owned {
		record(ctx, in, it, bulkdom.Done, string(p.Status),
			fmt.Sprintf("transaction number sold before (recharge %s): not sold again", p.RechargeID))
		return
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            p.WorkflowID,
		TaskQueue:             names.MainQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// A sale under way goes on if the batch is ended by hand.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: names.Attributes(in.ProjectCode, rechargewf.Kind, p.MeterNo, string(p.Status)),
	})
	var res rechargewf.Result
	err := workflow.ExecuteChildWorkflow(cctx, rechargewf.Kind, rechargewf.Input{RechargeID: p.RechargeID, ProjectID: in.ProjectID,
		ProjectCode: in.ProjectCode, MeterID: p.MeterID, MeterNo: p.MeterNo, Amount: p.Amount, NeedsApproval: p.NeedsApproval,
		DispatchWindow: in.DispatchWindow, Platform: p.Platform}).Get(ctx, &res)
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	switch {
	case errors.As(err, &started):
		record(ctx, in, it, bulkdom.Running, string(p.Status), "its recharge workflow had started before")
	case err != nil:
		record(ctx, in, it, bulkdom.Failed, "error", err.Error())
	case res.Status == rechargedom.Completed:
		record(ctx, in, it, bulkdom.Done, string(res.Status), "")
	default:
		record(ctx, in, it, bulkdom.Failed, string(res.Status), "")
	}
}

func withDefaults(in Input) Input {
	if in.Concurrency <= 0 {
		in.Concurrency = 8
	}
	if in.PageSize <= 0 {
		in.PageSize = 200
	}
	if in.HistoryLimit <= 0 {
		in.HistoryLimit = 10_000
	}
	return in
}
