// Package metercmd runs remote meter commands (远程控制) as Temporal
// workflows: meter-command/<id> sends one command to one meter, retrying
// for a dispatch window, and waits for an operator's re-dispatch when the
// meter was not reached; meter-batch/<id> sends one command to up to
// thousands of meters with bounded concurrency and records each meter's
// outcome.
package metercmd

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	metersstore "github.com/voltflow/voltflow/store/meters"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the API.
const (
	KindCommand      = "meter-command"
	KindBatch        = "meter-batch"
	UpdateRedispatch = "redispatch"
	QueryStatus      = "status"
)

// CommandWorkflowID is the workflow of one command.
func CommandWorkflowID(commandID string) string { return KindCommand + "/" + commandID }

// BatchWorkflowID is the workflow of one batch.
func BatchWorkflowID(batchID string) string { return KindBatch + "/" + batchID }

// CommandInput starts a single command. New fields must have a safe zero
// value: running workflows replay with the old input.
type CommandInput struct {
	CommandID string `json:"commandId"`
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
	Command   string `json:"command"`
	// DispatchWindow is how long the meter is retried before the command
	// fails (default 10 minutes).
	DispatchWindow time.Duration `json:"dispatchWindow"`
	// RedispatchTimeout is how long a failed command waits for an
	// operator's re-dispatch before the workflow ends (default 7 days).
	RedispatchTimeout time.Duration `json:"redispatchTimeout"`
}

// Redispatch is an operator's request to send a failed command again.
type Redispatch struct {
	OperatorID string        `json:"operatorId"`
	Roles      []access.Role `json:"roles"`
}

// ErrNotRedispatched is the redispatch validator's answer when the command
// is not waiting in failed.
var ErrNotRedispatched = errors.New("the meter command is not failed")

// CommandResult is the end state of a single command.
type CommandResult struct {
	Status   metercmddom.Status      `json:"status"`
	Response *metercmdstore.Response `json:"response,omitempty"`
	Failure  string                  `json:"failure,omitempty"`
}

// CommandWorkflow sends one command: dispatch → read back → confirm; on
// failure it records why and waits for a re-dispatch.
func CommandWorkflow(ctx workflow.Context, in CommandInput) (CommandResult, error) {
	in = commandDefaults(in)

	status := metercmddom.Pending
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (metercmddom.Status, error) { return status, nil }); err != nil {
		return CommandResult{}, err
	}
	redispatch := false
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRedispatch,
		func(ctx workflow.Context, r Redispatch) (metercmddom.Status, error) {
			// Dispatching at once, so a second request is refused even
			// before the workflow has taken this one up.
			redispatch, status = true, metercmddom.Dispatching
			return metercmddom.Dispatching, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r Redispatch) error {
			if status != metercmddom.Failed || redispatch {
				return ErrNotRedispatched
			}
			if !(access.Grants{in.ProjectID: r.Roles}).Can(in.ProjectID, access.ControlMeter) {
				return approval.ErrNotYourRole
			}
			return nil
		}}); err != nil {
		return CommandResult{}, err
	}
	upsert := func(s metercmddom.Status) error {
		status = s
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(s)))
	}

	for {
		// The device activity marks the row dispatching on each attempt.
		if err := upsert(metercmddom.Dispatching); err != nil {
			return CommandResult{}, err
		}
		var resp metercmdstore.Response
		err := sendMeterCommand(deviceCtx(ctx, in.DispatchWindow), metercmdstore.SendInput{
			CommandID: in.CommandID, MeterID: in.MeterID, Command: in.Command}).Get(ctx, &resp)
		if err == nil {
			if err := finish(ctx, metercmdstore.Result{CommandID: in.CommandID, Status: metercmddom.Done, Response: &resp}); err != nil {
				return CommandResult{}, err
			}
			if err := upsert(metercmddom.Done); err != nil {
				return CommandResult{}, err
			}
			return CommandResult{Status: metercmddom.Done, Response: &resp}, nil
		}
		failure := FailureText(err)
		workflow.GetLogger(ctx).Warn("meter command failed", "command", in.CommandID, "meter", in.MeterNo, "error", err)
		if err := finish(ctx, metercmdstore.Result{CommandID: in.CommandID, Status: metercmddom.Failed, Failure: failure}); err != nil {
			return CommandResult{}, err
		}
		if err := upsert(metercmddom.Failed); err != nil {
			return CommandResult{}, err
		}
		// An operator re-dispatches when the meter is back; every command
		// sets a state, so sending it again is harmless.
		ok, err := workflow.AwaitWithTimeout(ctx, in.RedispatchTimeout, func() bool { return redispatch })
		if err != nil {
			return CommandResult{}, err
		}
		if !ok {
			return CommandResult{Status: metercmddom.Failed, Failure: failure}, nil
		}
		redispatch = false
		if err := setMeterCommandStatus(local(ctx), metercmdstore.StatusInput{
			CommandID: in.CommandID, Status: metercmddom.Dispatching}).Get(ctx, nil); err != nil {
			return CommandResult{}, err
		}
	}
}

func finish(ctx workflow.Context, o metercmdstore.Result) error {
	return finishMeterCommand(local(ctx), o).Get(ctx, nil)
}

func commandDefaults(in CommandInput) CommandInput {
	if in.DispatchWindow <= 0 {
		in.DispatchWindow = 10 * time.Minute
	}
	if in.RedispatchTimeout <= 0 {
		in.RedispatchTimeout = 7 * 24 * time.Hour
	}
	return in
}

// local is for database activities on the main queue: quick, retried until they succeed.
func local(ctx workflow.Context) workflow.Context {
	return options.DB(ctx)
}

// deviceCtx retries the meter with backoff for the dispatch window; refusals,
// unconfirmed states and unknown meters are not retried. A single command
// started on the interactive lane sends on its devices queue; a batch's
// commands, and runs started before the lane, on the bulk one.
func deviceCtx(ctx workflow.Context, window time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DeviceQueue(ctx),
		ScheduleToCloseTimeout: window,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig, metercmdstore.ErrTypeRefused,
				metercmdstore.ErrTypeNotConfirmed}},
	})
}

// FailureText is the operator-facing reason of a failed dispatch.
func FailureText(err error) string {
	// A timeout wraps the last attempt's error, so it is looked for first.
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		if cause := errors.Unwrap(timeout); cause != nil {
			return "meter not reached within the dispatch window: " + FailureText(cause)
		}
		return "meter not reached within the dispatch window"
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
