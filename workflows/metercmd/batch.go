package metercmd

import (
	"time"

	"go.temporal.io/sdk/workflow"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

// BatchInput starts (or, after continue-as-new, resumes) a batch. The
// meters are not in the input: they are read from PostgreSQL a page at a
// time, so the input and history stay small for thousands of meters.
type BatchInput struct {
	BatchID   string `json:"batchId"`
	ProjectID string `json:"projectId"`
	Command   string `json:"command"`
	// DispatchWindow is how long each meter is retried (default 10 minutes).
	DispatchWindow time.Duration `json:"dispatchWindow"`
	// Concurrency is the sliding window: commands in flight at once (default 32).
	Concurrency int `json:"concurrency"`
	// PageSize is how many meters are read per page (default 256).
	PageSize int `json:"pageSize"`
	// FlushEvery records outcomes once this many are waiting (default 16)...
	FlushEvery int `json:"flushEvery"`
	// ...or once the oldest has waited FlushInterval (default 1 s).
	FlushInterval time.Duration `json:"flushInterval"`
	// HistoryLimit: past this many history events the batch continues as
	// new at the next page boundary (default 10,000).
	HistoryLimit int `json:"historyLimit"`
	// AfterMeterNo is where a continued run resumes.
	AfterMeterNo string `json:"afterMeterNo"`
}

// BatchResult is the end state of a batch.
type BatchResult struct {
	Status metercmddom.BatchStatus `json:"status"`
	metercmdstore.Totals
}

// QueryProgress answers the batch's totals as last recorded.
const QueryProgress = "progress"

// BatchWorkflow sends one command to every meter of a batch, Concurrency at
// a time in a sliding window, page by page in meter number order. Each
// meter's outcome is recorded with the batch totals; a meter not reached in
// its dispatch window counts as failed and does not hold up the others.
func BatchWorkflow(ctx workflow.Context, in BatchInput) (BatchResult, error) {
	in = batchDefaults(in)
	var totals metercmdstore.Totals
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (metercmdstore.Totals, error) { return totals, nil }); err != nil {
		return BatchResult{}, err
	}
	for {
		var items []metercmdstore.BatchItem
		if err := listMeterBatchPage(local(ctx), metercmdstore.PageInput{
			BatchID: in.BatchID, AfterMeterNo: in.AfterMeterNo, Limit: in.PageSize}).Get(ctx, &items); err != nil {
			return BatchResult{}, err
		}
		if len(items) == 0 {
			break
		}
		if err := runPage(ctx, in, items, &totals); err != nil {
			return BatchResult{}, err
		}
		in.AfterMeterNo = items[len(items)-1].MeterNo
		info := workflow.GetInfo(ctx)
		if len(items) == in.PageSize && (info.GetCurrentHistoryLength() >= in.HistoryLimit || info.GetContinueAsNewSuggested()) {
			// A fresh run keeps history bounded however many meters there are.
			return BatchResult{}, workflow.NewContinueAsNewError(ctx, KindBatch, in)
		}
	}
	if err := finishMeterBatch(local(ctx), metercmdstore.FinishInput{BatchID: in.BatchID}).
		Get(ctx, &totals); err != nil {
		return BatchResult{}, err
	}
	status := metercmddom.BatchEnd(totals.Failed)
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(status))); err != nil {
		return BatchResult{}, err
	}
	return BatchResult{Status: status, Totals: totals}, nil
}

// runPage sends the page's commands with at most in.Concurrency in flight,
// starting the next as soon as one ends, and records outcomes in groups.
func runPage(ctx workflow.Context, in BatchInput, items []metercmdstore.BatchItem, totals *metercmdstore.Totals) error {
	dctx := deviceCtx(ctx, in.DispatchWindow)
	timerCtx, cancelTimers := workflow.WithCancel(ctx)
	defer cancelTimers()

	sel := workflow.NewSelector(ctx)
	var waiting []metercmdstore.Result
	var flushes []workflow.Future
	inflight, next := 0, 0
	timerSet, flushDue := false, false
	for next < len(items) || inflight > 0 {
		for inflight < in.Concurrency && next < len(items) {
			it := items[next]
			next++
			inflight++
			f := sendMeterCommand(dctx, metercmdstore.SendInput{
				CommandID: it.CommandID, MeterID: it.MeterID, Command: in.Command})
			sel.AddFuture(f, func(f workflow.Future) {
				inflight--
				var resp metercmdstore.Response
				if err := f.Get(ctx, &resp); err != nil {
					waiting = append(waiting, metercmdstore.Result{CommandID: it.CommandID, Status: metercmddom.Failed, Failure: FailureText(err)})
				} else {
					waiting = append(waiting, metercmdstore.Result{CommandID: it.CommandID, Status: metercmddom.Done, Response: &resp})
				}
			})
		}
		sel.Select(ctx)
		if len(waiting) > 0 && !timerSet {
			// Outcomes that trickle in (the tail of a page, meters retried
			// to the end of their window) are recorded within FlushInterval.
			timerSet = true
			sel.AddFuture(workflow.NewTimer(timerCtx, in.FlushInterval), func(workflow.Future) { timerSet, flushDue = false, true })
		}
		if len(waiting) >= in.FlushEvery || (inflight == 0 && next == len(items)) || (flushDue && len(waiting) > 0) {
			// Recorded in the background so the window keeps refilling;
			// groups are disjoint and totals are recounted, so they may overlap.
			flushes = append(flushes, recordMeterBatchOutcomes(local(ctx), metercmdstore.RecordInput{
				BatchID: in.BatchID, Outcomes: waiting}))
			waiting, flushDue = nil, false
		}
	}
	for _, f := range flushes {
		var t metercmdstore.Totals
		if err := f.Get(ctx, &t); err != nil {
			return err
		}
		if t.Done+t.Failed >= totals.Done+totals.Failed {
			*totals = t
		}
	}
	return nil
}

func batchDefaults(in BatchInput) BatchInput {
	if in.DispatchWindow <= 0 {
		in.DispatchWindow = 10 * time.Minute
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 32
	}
	if in.PageSize <= 0 {
		in.PageSize = 256
	}
	if in.FlushEvery <= 0 {
		in.FlushEvery = 16
	}
	if in.FlushInterval <= 0 {
		in.FlushInterval = time.Second
	}
	if in.HistoryLimit <= 0 {
		in.HistoryLimit = 10_000
	}
	return in
}
