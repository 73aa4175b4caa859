// Package recharge is the sale of energy to a prepaid meter (售电) as a
// Temporal workflow: approve → book → dispatch to the meter → confirm.
package recharge

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	metersstore "github.com/voltflow/voltflow/store/meters"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/delivery"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names shared with the API.
const (
	Kind             = "recharge"
	TaskKindApproval = "recharge_approval"
	UpdateRedispatch = delivery.UpdateRedispatch
	QueryStatus      = delivery.QueryStatus
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
	// Platform: the meter is platform-side prepaid (主站费控); the sale is
	// credited to its wallet in the ledger, nothing is written into the
	// meter (false in older runs: they replay the meter-side path).
	Platform bool `json:"platform,omitempty"`
}

// Redispatch is an operator's request to send a failed sale again.
type Redispatch = delivery.Redispatch

// ErrNotRedispatched is the redispatch validator's answer when the recharge
// is not waiting in dispatch_failed.
var ErrNotRedispatched = delivery.ErrNotRedispatched

// Result is the end state.
type Result struct {
	Status  rechargedom.Status `json:"status"`
	Counter int                `json:"counter,omitempty"`
}

// Workflow runs one recharge from creation to a final status.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	in = withDefaults(in)
	initial := rechargedom.Approved
	if in.NeedsApproval {
		initial = rechargedom.PendingApproval
	}
	// Update handlers first, so an Update never finds the workflow without them.
	status, rev, step, err := delivery.Begin(ctx, initial, in.ProjectID, func(ctx workflow.Context, s rechargedom.Status, failure string) error {
		return setRechargeStatus(delivery.DB(ctx), rechargestore.StatusInput{
			RechargeID: in.RechargeID, Status: s, Failure: failure}).Get(ctx, nil)
	})
	if err != nil {
		return Result{}, err
	}

	if in.NeedsApproval {
		approved, err := review(ctx, rev, in, status)
		if err != nil {
			return Result{}, err
		}
		if !approved {
			return Result{Status: rechargedom.Rejected}, nil
		}
	}

	// Booking and the move to dispatching commit together: a dispatching
	// recharge is always booked, a rejected one never.
	if err := bookRecharge(delivery.DB(ctx), rechargestore.BookInput{
		RechargeID: in.RechargeID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := status.Mark(ctx, rechargedom.Dispatching); err != nil {
		return Result{}, err
	}

	if in.Platform {
		return platform(ctx, in, status)
	}

	sent, err := step.Complete(ctx, Kind, func(ctx workflow.Context) (metersstore.DispatchResult, error) {
		var sent metersstore.DispatchResult
		err := dispatchRecharge(delivery.Device(ctx, in.DispatchWindow), metersstore.DispatchInput{
			RechargeID: in.RechargeID, MeterID: in.MeterID, Amount: in.Amount}).Get(ctx, &sent)
		return sent, err
	}, func(sent metersstore.DispatchResult) error {
		return settleRecharge(delivery.DB(ctx), rechargestore.SettleInput{
			RechargeID: in.RechargeID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount,
			Counter: sent.Counter}).Get(ctx, nil)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Status: rechargedom.Completed, Counter: sent.Counter}, nil
}

// platform credits a booked sale to a platform-side meter's wallet; the
// activity also switches on a meter billing cut off for arrears.
func platform(ctx workflow.Context, in Input, status *delivery.Tracker) (Result, error) {
	// Billing activities run with the sweep's, on the devices queue (the
	// interactive one for a sale started on the interactive lane).
	actx := workflow.WithTaskQueue(delivery.DB(ctx), names.DeviceQueue(ctx))
	if err := creditRecharge(actx, platformbillingstore.CreditInput{
		RechargeID: in.RechargeID, ProjectID: in.ProjectID, MeterID: in.MeterID, MeterNo: in.MeterNo,
		Amount: in.Amount}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := status.Mark(ctx, rechargedom.Completed); err != nil {
		return Result{}, err
	}
	return Result{Status: rechargedom.Completed}, nil
}

func review(ctx workflow.Context, rev *approval.Review, in Input, status *delivery.Tracker) (bool, error) {
	return status.Review(ctx, rev, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindApproval, Role: access.Approver,
		WorkflowID: WorkflowID(in.RechargeID),
		Subject:    fmt.Sprintf("Recharge %s to meter %s", in.Amount, in.MeterNo),
		Details:    map[string]string{"rechargeId": in.RechargeID, "meterNo": in.MeterNo, "amount": in.Amount.String()},
	}, in.ApprovalTimeout, func() error { return status.Set(ctx, rechargedom.PendingApproval, "") })
}

func withDefaults(in Input) Input {
	in.ApprovalTimeout, in.DispatchWindow = delivery.Windows(in.ApprovalTimeout, in.DispatchWindow)
	return in
}
