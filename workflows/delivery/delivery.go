// Package delivery is what the workflows that move money onto or off a
// meter-side prepaid meter share — the sale (售电), the refund (退电) and the
// reversal (冲正): a status projected to PostgreSQL and the search attributes,
// and delivery of the operation to the meter with backoff, dispatch_failed
// and an operator's re-dispatch.
package delivery

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	metersstore "github.com/voltflow/voltflow/store/meters"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the API.
const (
	UpdateRedispatch = "redispatch"
	QueryStatus      = "status"
)

// Redispatch is an operator's request to send a failed operation again.
type Redispatch struct {
	OperatorID string        `json:"operatorId"`
	Roles      []access.Role `json:"roles"`
}

// ErrNotRedispatched is the redispatch validator's answer when the
// operation is not waiting in dispatch_failed.
var ErrNotRedispatched = errors.New("not in dispatch_failed: nothing to re-dispatch")

// Project writes a status (and failure text) where the API reads it,
// through the workflow's own activity.
type Project func(ctx workflow.Context, s rechargedom.Status, failure string) error

// Tracker is a workflow's status: it answers the status query, mirrors the
// VoltflowStatus search attribute and projects to PostgreSQL (search
// attributes are eventually consistent, the API reads PostgreSQL).
type Tracker struct {
	status  rechargedom.Status
	project Project
}

// NewTracker registers the status query. Call it first in the workflow.
func NewTracker(ctx workflow.Context, initial rechargedom.Status, project Project) (*Tracker, error) {
	t := &Tracker{status: initial, project: project}
	err := workflow.SetQueryHandler(ctx, QueryStatus, func() (rechargedom.Status, error) { return t.status, nil })
	return t, err
}

// Begin registers a delivery workflow's handlers in the order the sale and
// the refund have always used — status query (NewTracker), decide Update
// (approval.New), redispatch Update (NewStep) — before an Update can arrive.
func Begin(ctx workflow.Context, initial rechargedom.Status, projectID string, project Project) (*Tracker, *approval.Review, *Step, error) {
	status, err := NewTracker(ctx, initial, project)
	if err != nil {
		return nil, nil, nil, err
	}
	rev, err := approval.New(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	step, err := NewStep(ctx, status, projectID)
	if err != nil {
		return nil, nil, nil, err
	}
	return status, rev, step, nil
}

// Review asks for approval (rev.Request) and projects the outcome:
// approved, or rejected with the refusal's reason.
func (t *Tracker) Review(ctx workflow.Context, rev *approval.Review, task inboxstore.NewTask, timeout time.Duration, onOpen func() error) (bool, error) {
	out, err := rev.Request(ctx, task, timeout, onOpen)
	if err != nil {
		return false, err
	}
	if !out.Approved {
		return false, t.Set(ctx, rechargedom.Rejected, out.Refusal())
	}
	return true, t.Set(ctx, rechargedom.Approved, "")
}

// Status is the current status.
func (t *Tracker) Status() rechargedom.Status { return t.status }

// Set moves to a status and projects it.
func (t *Tracker) Set(ctx workflow.Context, s rechargedom.Status, failure string) error {
	if err := t.Mark(ctx, s); err != nil {
		return err
	}
	return t.project(ctx, s, failure)
}

// Mark moves to a status an activity has already projected (in the same
// transaction as its bookkeeping).
func (t *Tracker) Mark(ctx workflow.Context, s rechargedom.Status) error {
	t.status = s
	return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(s)))
}

// Step delivers one counted operation to its meter.
type Step struct {
	status     *Tracker
	projectID  string
	redispatch bool
}

// NewStep registers the redispatch Update. Call it at workflow start, so an
// Update never finds the workflow without its handler.
func NewStep(ctx workflow.Context, status *Tracker, projectID string) (*Step, error) {
	s := &Step{status: status, projectID: projectID}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRedispatch,
		func(ctx workflow.Context, r Redispatch) (rechargedom.Status, error) {
			s.redispatch = true
			return rechargedom.Dispatching, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r Redispatch) error {
			if status.Status() != rechargedom.DispatchFailed || s.redispatch {
				return ErrNotRedispatched
			}
			if !(access.Grants{projectID: r.Roles}).Can(projectID, access.Redispatch) {
				return approval.ErrNotYourRole // the API maps it to 403, as for decisions
			}
			return nil
		}})
	return s, err
}

// Send runs the dispatch activity once (with its own retries).
type Send func(ctx workflow.Context) (metersstore.DispatchResult, error)

// Deliver sends until the meter's counter confirms the operation, then
// settles it. A failed send leaves the operation in dispatch_failed until an
// operator re-dispatches it; the meter's counter makes a second send
// harmless. The caller marks the final status (or uses Complete).
func (s *Step) Deliver(ctx workflow.Context, what string, send Send, settle func(metersstore.DispatchResult) error) (metersstore.DispatchResult, error) {
	for {
		sent, err := send(ctx)
		if err == nil {
			if rechargedom.Confirmed(sent.Counter, sent.PurchaseCount) {
				return sent, settle(sent)
			}
			err = fmt.Errorf("meter counter %d below the %s's %d", sent.PurchaseCount, what, sent.Counter)
		}
		workflow.GetLogger(ctx).Warn("dispatch failed", what, workflow.GetInfo(ctx).WorkflowExecution.ID, "error", err)
		if err := s.status.Set(ctx, rechargedom.DispatchFailed, FailureText(err)); err != nil {
			return metersstore.DispatchResult{}, err
		}
		if err := workflow.Await(ctx, func() bool { return s.redispatch }); err != nil {
			return metersstore.DispatchResult{}, err
		}
		s.redispatch = false
		if err := s.status.Set(ctx, rechargedom.Dispatching, ""); err != nil {
			return metersstore.DispatchResult{}, err
		}
	}
}

// Complete delivers the operation (Deliver) and marks it completed: the
// settle activity has projected the status with its bookkeeping.
func (s *Step) Complete(ctx workflow.Context, what string, send Send, settle func(metersstore.DispatchResult) error) (metersstore.DispatchResult, error) {
	sent, err := s.Deliver(ctx, what, send, settle)
	if err != nil {
		return sent, err
	}
	return sent, s.status.Mark(ctx, rechargedom.Completed)
}

// Windows fills in the default approval timeout (7 days: an undecided
// approval then ends as rejected) and dispatch window (10 minutes of meter
// retries before dispatch_failed).
func Windows(approvalTimeout, dispatchWindow time.Duration) (time.Duration, time.Duration) {
	if approvalTimeout <= 0 {
		approvalTimeout = 7 * 24 * time.Hour
	}
	if dispatchWindow <= 0 {
		dispatchWindow = 10 * time.Minute
	}
	return approvalTimeout, dispatchWindow
}

// DB is for database activities on the main queue: quick, retried until they succeed.
func DB(ctx workflow.Context) workflow.Context {
	return options.DB(ctx)
}

// Device retries the meter with backoff for the dispatch window, on the
// interactive devices queue for a sale started on the interactive lane.
func Device(ctx workflow.Context, window time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DeviceQueue(ctx),
		ScheduleToCloseTimeout: window,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: []string{metersstore.ErrTypeMeterConfig, metersstore.ErrTypeInsufficient}},
	})
}

// FailureText is the reason shown with dispatch_failed.
func FailureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		if cause := errors.Unwrap(timeout); cause != nil {
			return "meter not reached within the dispatch window: " + FailureText(cause)
		}
		return "meter not reached within the dispatch window"
	}
	return err.Error()
}
