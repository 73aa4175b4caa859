// Package meterprice keeps a meter-side prepaid meter whose profile has no
// price block on its time-of-use tariff: the meter deducts at its single
// unit price (0x010B), so at each boundary of the tariff's day this
// workflow writes the new period's price into it, as a set_unit_price
// meter command (visible, retried and logged like any meter command). One
// workflow per meter, meter-price/<meterNo>; a tariff change is signalled.
package meterprice

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/store/tariffs"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API.
const (
	Kind = "meter-price"
	// SignalTariffChanged wakes the workflow to price the meter now.
	SignalTariffChanged = "tariff-changed"
)

// stepsPerRun bounds the history: a TOU day has a handful of boundaries,
// so a run covers about a week before it continues as new.
const stepsPerRun = 40

// WorkflowID is the meter's workflow.
func WorkflowID(meterNo string) string { return Kind + "/" + meterNo }

// Input starts it. New fields must have a safe zero value.
type Input struct {
	ProjectID      string        `json:"projectId"`
	ProjectCode    string        `json:"projectCode"`
	MeterID        string        `json:"meterId"`
	MeterNo        string        `json:"meterNo"`
	DispatchWindow time.Duration `json:"dispatchWindow,omitempty"`
}

// Result is why it ended.
type Result struct {
	Stopped string `json:"stopped"`
	Steps   int    `json:"steps"`
}

// Workflow writes the price in force, waits for the next boundary (or a
// tariff change) and does it again.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	changed := workflow.GetSignalChannel(ctx, SignalTariffChanged)
	var out Result
	for out.Steps < stepsPerRun {
		var step tariffs.FollowStep
		if err := followTariff(actx, tariffs.FollowInput{ProjectID: in.ProjectID, MeterID: in.MeterID, MeterNo: in.MeterNo,
			At: workflow.Now(ctx)}).Get(ctx, &step); err != nil {
			return out, err
		}
		out.Steps++
		if step.Stop != "" {
			out.Stopped = step.Stop
			_ = workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet("stopped"))
			return out, nil
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            step.WorkflowID,
			TaskQueue:             names.MainQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: names.Attributes(in.ProjectCode, metercmdwf.KindCommand, in.MeterNo, "pending"),
		})
		err := workflow.ExecuteChildWorkflow(cctx, metercmdwf.KindCommand, metercmdwf.CommandInput{CommandID: step.CommandID,
			ProjectID: in.ProjectID, MeterID: in.MeterID, MeterNo: in.MeterNo, Command: "set_unit_price",
			DispatchWindow: in.DispatchWindow}).Get(ctx, nil)
		if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			// Recorded as failed on the command; the next boundary tries again.
			workflow.GetLogger(ctx).Warn("unit price not written", "meter", in.MeterNo, "error", err)
		}
		status := fmt.Sprintf("price %d until %s", step.Price, step.Next.UTC().Format(time.RFC3339))
		if step.Next.IsZero() {
			status = fmt.Sprintf("price %d", step.Price)
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(status)); err != nil {
			return out, err
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		if !step.Next.IsZero() {
			// A second past the boundary, so the step prices the new period.
			wait := step.Next.Sub(workflow.Now(ctx)) + time.Second
			sel.AddFuture(workflow.NewTimer(ctx, max(wait, time.Second)), func(workflow.Future) {})
		}
		sel.Select(ctx)
	}
	return out, workflow.NewContinueAsNewError(ctx, Kind, in)
}
