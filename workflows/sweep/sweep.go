// Package sweep is scheduled reading (抄表) as Temporal workflows: a
// Schedule per project starts a sweep every interval; the sweep lists the
// project's gateways and reads them in batches, one activity per batch, a
// few batches at a time. It also holds the on-demand read of one meter.
package sweep

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	metersstore "github.com/voltflow/voltflow/store/meters"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API and the schedules.
const (
	Kind          = "sweep"
	KindMeterRead = "meter-read"
)

// Defaults; Input fields of zero take them.
const (
	DefaultBatchSize = 200 // gateways per activity, in sweeps started before the even split
	MaxBatchSize     = 500 // gateways per activity, at most, when the sweep splits them evenly
	DefaultParallel  = 8   // batches at once
	DefaultInterval  = 30 * time.Minute
)

// WorkflowID is the ID of a sweep started by hand (the bench, an operator).
// A Schedule's sweeps are ScheduleWorkflowID with the scheduled time
// appended by Temporal ("sweep/demo-2026-11-23T10:00:00Z").
func WorkflowID(projectCode string, at time.Time) string {
	return fmt.Sprintf("sweep/%s/%s", projectCode, at.UTC().Format(time.RFC3339))
}

// ScheduleWorkflowID is the workflow ID a project's Schedule gives its sweeps.
func ScheduleWorkflowID(projectCode string) string { return "sweep/" + projectCode }

// ScheduleID is the project's Schedule.
func ScheduleID(projectCode string) string { return "sweep-schedule/" + projectCode }

// MeterReadWorkflowID is one on-demand read.
func MeterReadWorkflowID(meterNo, requestID string) string {
	return "meter-read/" + meterNo + "/" + requestID
}

// Input starts a sweep. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	// At is the slot every reading carries; zero means the workflow's start
	// time to the second (what a Schedule's sweeps use).
	At time.Time `json:"at"`
	// BatchSize is gateways per activity; zero splits them evenly over
	// Parallel batches, at most MaxBatchSize each.
	BatchSize int `json:"batchSize"`
	Parallel  int `json:"parallel"`
}

// Result counts the sweep.
type Result struct {
	At      time.Time `json:"at"`
	Batches int       `json:"batches"`
	sweepstore.BatchResult
}

// Workflow reads every gateway of a project. Device failures are counted,
// not raised: the sweep completes with whatever the meters answered.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	if in.Parallel <= 0 {
		in.Parallel = DefaultParallel
	}
	at := in.At.UTC()
	if at.IsZero() {
		at = workflow.Now(ctx).UTC().Truncate(time.Second)
	}
	out := Result{At: at}
	setStatus := func(s string) error {
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(s))
	}
	if err := setStatus("reading"); err != nil {
		return out, err
	}

	var list sweepstore.GatewaysResult
	if err := sweepGateways(listCtx(ctx),
		sweepstore.GatewaysInput{ProjectID: in.ProjectID}).Get(ctx, &list); err != nil {
		return out, err
	}

	// A sliding window of batches: a new one starts when one ends, so a slow
	// batch (dead meters timing out) does not hold the others back.
	size := in.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
		// Fewer, larger batches: every activity costs the Temporal server
		// its events and the database the batch's set-up queries, whatever
		// its size; inside a batch 64 gateways are read at once anyway.
		if workflow.GetVersion(ctx, "even-batches", workflow.DefaultVersion, 1) == 1 {
			size = min(MaxBatchSize, max(1, (len(list.GatewayIDs)+in.Parallel-1)/in.Parallel))
		}
	}
	var batches [][]string
	for ids := list.GatewayIDs; len(ids) > 0; {
		n := min(size, len(ids))
		batches = append(batches, ids[:n])
		ids = ids[n:]
	}
	out.Batches = len(batches)
	bctx := batchCtx(ctx)
	running := 0
	var firstErr error
	sel := workflow.NewSelector(ctx)
	for i := 0; i < len(batches) || running > 0; {
		if i < len(batches) && running < in.Parallel {
			f := sweepBatch(bctx, sweepstore.BatchInput{
				ProjectID: in.ProjectID, At: at, GatewayIDs: batches[i]})
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				var r sweepstore.BatchResult
				if err := f.Get(ctx, &r); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				out.BatchResult = out.BatchResult.Add(r)
			})
			running++
			i++
			continue
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		_ = setStatus("failed")
		return out, firstErr
	}
	if err := setStatus("completed"); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("sweep done", "project", in.ProjectCode, "at", at, "read", out.Read,
		"failed", out.Failed, "gatewaysDown", out.GatewaysDown)
	return out, nil
}

func listCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.DevicesQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
}

// batchCtx: a batch of 200 gateways takes seconds when they answer, and up
// to a few minutes when many meters time out; the heartbeat notices a dead
// worker long before that, and the retry skips what was written.
func batchCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DevicesQueue,
		StartToCloseTimeout:    15 * time.Minute,
		ScheduleToCloseTimeout: 25 * time.Minute,
		HeartbeatTimeout:       20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second},
	})
}

// MeterReadInput reads one meter now.
type MeterReadInput struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
}

// MeterRead is the on-demand read: one short activity, tried twice, since an
// operator is waiting for the answer (on the interactive devices queue when
// started on the interactive lane).
func MeterRead(ctx workflow.Context, in MeterReadInput) (sweepstore.MeterReading, error) {
	var out sweepstore.MeterReading
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.DeviceQueue(ctx),
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 2,
			NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig}},
	})
	err := sweepMeter(actx, sweepstore.MeterInput{
		ProjectID: in.ProjectID, MeterID: in.MeterID}).Get(ctx, &out)
	return out, err
}
