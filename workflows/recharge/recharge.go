// Package recharge is the sale of energy to a prepaid meter (售电) as a
// Temporal workflow: approve → book → dispatch to the meter → confirm.
package recharge

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/activities/inbox"
	"github.com/voltflow/voltflow/activities/meters"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	domain "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API.
const (
	Kind             = "recharge"
	TaskKindApproval = "recharge_approval"
	UpdateRedispatch = "redispatch"
	QueryStatus      = "status"
)

// WorkflowID is the workflow of one recharge.
func WorkflowID(rechargeID string) string { return "recharge/" + rechargeID }

// Input starts a recharge. New fields must have a safe zero value: running
// workflows replay with the old input.
type Input struct {
	RechargeID    string       `json:"rechargeId"`
	ProjectID     string       `json:"projectId"`
	ProjectCode   string       `json:"projectCode"`
	MeterID       string       `json:"meterId"`
	MeterNo       string       `json:"meterNo"`
	Amount        money.Amount `json:"amount"`
	NeedsApproval bool         `json:"needsApproval"`
	// ApprovalTimeout ends an undecided approval as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
	// DispatchWindow is how long the meter is retried before dispatch_failed.
	DispatchWindow time.Duration `json:"dispatchWindow"`
}

// Redispatch is an operator's request to send a failed sale again.
type Redispatch struct {
	OperatorID string        `json:"operatorId"`
	Roles      []access.Role `json:"roles"`
}

// ErrNotRedispatched is the redispatch validator's answer when the recharge
// is not waiting in dispatch_failed.
var ErrNotRedispatched = errors.New("the recharge is not in dispatch_failed")

// Result is the end state.
type Result struct {
	Status  domain.Status `json:"status"`
	Counter int           `json:"counter,omitempty"`
}

// Workflow runs one recharge from creation to a final status.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	in = withDefaults(in)
	log := workflow.GetLogger(ctx)
	var acts *rechargeacts.Activities
	var devices *meters.Activities

	status := domain.Approved
	if in.NeedsApproval {
		status = domain.PendingApproval
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (domain.Status, error) { return status, nil }); err != nil {
		return Result{}, err
	}
	setStatus := func(s domain.Status, failure string) error {
		status = s
		if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(s))); err != nil {
			return err
		}
		return workflow.ExecuteActivity(local(ctx), acts.SetRechargeStatus, rechargeacts.StatusInput{
			RechargeID: in.RechargeID, Status: s, Failure: failure}).Get(ctx, nil)
	}

	// Update handlers first, so an Update never finds the workflow without them.
	rev, err := approval.New(ctx)
	if err != nil {
		return Result{}, err
	}
	redispatch := false
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRedispatch,
		func(ctx workflow.Context, r Redispatch) (domain.Status, error) {
			redispatch = true
			return domain.Dispatching, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r Redispatch) error {
			if status != domain.DispatchFailed || redispatch {
				return ErrNotRedispatched
			}
			if !(access.Grants{in.ProjectID: r.Roles}).Can(in.ProjectID, access.Redispatch) {
				return approval.ErrNotYourRole
			}
			return nil
		}}); err != nil {
		return Result{}, err
	}

	if in.NeedsApproval {
		approved, err := review(ctx, rev, in, setStatus)
		if err != nil {
			return Result{}, err
		}
		if !approved {
			return Result{Status: domain.Rejected}, nil
		}
		if err := setStatus(domain.Approved, ""); err != nil {
			return Result{}, err
		}
	}

	// Booking and the move to dispatching commit together: a dispatching
	// recharge is always booked, a rejected one never.
	if err := workflow.ExecuteActivity(local(ctx), acts.BookRecharge, rechargeacts.BookInput{
		RechargeID: in.RechargeID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	status = domain.Dispatching
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(status))); err != nil {
		return Result{}, err
	}

	for {
		var sent meters.DispatchResult
		err := workflow.ExecuteActivity(deviceCtx(ctx, in.DispatchWindow), devices.DispatchRecharge, meters.DispatchInput{
			RechargeID: in.RechargeID, MeterID: in.MeterID, Amount: in.Amount}).Get(ctx, &sent)
		if err == nil {
			if !domain.Confirmed(sent.Counter, sent.PurchaseCount) {
				err = fmt.Errorf("meter counter %d below the recharge's %d", sent.PurchaseCount, sent.Counter)
			} else {
				if err := workflow.ExecuteActivity(local(ctx), acts.SettleRecharge, rechargeacts.SettleInput{
					RechargeID: in.RechargeID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount,
					Counter: sent.Counter}).Get(ctx, nil); err != nil {
					return Result{}, err
				}
				status = domain.Completed
				if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(status))); err != nil {
					return Result{}, err
				}
				return Result{Status: domain.Completed, Counter: sent.Counter}, nil
			}
		}
		log.Warn("dispatch failed", "recharge", in.RechargeID, "error", err)
		if err := setStatus(domain.DispatchFailed, failureText(err)); err != nil {
			return Result{}, err
		}
		// An operator re-dispatches when the meter is back; the meter's
		// counter makes a second send harmless.
		if err := workflow.Await(ctx, func() bool { return redispatch }); err != nil {
			return Result{}, err
		}
		redispatch = false
		if err := setStatus(domain.Dispatching, ""); err != nil {
			return Result{}, err
		}
	}
}

func review(ctx workflow.Context, rev *approval.Review, in Input, setStatus func(domain.Status, string) error) (bool, error) {
	out, err := rev.Request(ctx, inbox.OpenTaskInput{
		ProjectID: in.ProjectID, Kind: TaskKindApproval, Role: access.Approver,
		WorkflowID: WorkflowID(in.RechargeID),
		Subject:    fmt.Sprintf("Recharge %s to meter %s", in.Amount, in.MeterNo),
		Details:    map[string]string{"rechargeId": in.RechargeID, "meterNo": in.MeterNo, "amount": in.Amount.String()},
	}, in.ApprovalTimeout, func() error { return setStatus(domain.PendingApproval, "") })
	if err != nil {
		return false, err
	}
	if !out.Approved {
		reason := "rejected by approver"
		if out.Expired {
			reason = "approval expired"
		}
		if err := setStatus(domain.Rejected, reason); err != nil {
			return false, err
		}
	}
	return out.Approved, nil
}

func withDefaults(in Input) Input {
	if in.ApprovalTimeout <= 0 {
		in.ApprovalTimeout = 7 * 24 * time.Hour
	}
	if in.DispatchWindow <= 0 {
		in.DispatchWindow = 10 * time.Minute
	}
	return in
}

// local is for database activities on the main queue: quick, retried until they succeed.
func local(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// deviceCtx retries the meter with backoff for the dispatch window.
func deviceCtx(ctx workflow.Context, window time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              names.DevicesQueue,
		ScheduleToCloseTimeout: window,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: []string{meters.ErrTypeMeterConfig}},
	})
}

func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		if cause := errors.Unwrap(timeout); cause != nil {
			return "meter not reached within the dispatch window: " + failureText(cause)
		}
		return "meter not reached within the dispatch window"
	}
	return err.Error()
}
