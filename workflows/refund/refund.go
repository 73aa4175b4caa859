// Package refund takes money back from a meter-side prepaid meter as a
// Temporal workflow — a refund of its balance (退电) or the reversal of a
// mistaken recharge (冲正): apply → review (always) → book → dispatch the
// meter's refund command → confirm.
package refund

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	metersstore "github.com/voltflow/voltflow/store/meters"
	refundstore "github.com/voltflow/voltflow/store/refund"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/delivery"
)

// Names shared with the API.
const (
	Kind             = "refund"
	TaskKindApproval = "refund_approval"
	UpdateRedispatch = delivery.UpdateRedispatch
	QueryStatus      = delivery.QueryStatus
)

// WorkflowID is the workflow of one refund or reversal.
func WorkflowID(refundID string) string { return "refund/" + refundID }

// Input starts a refund. New fields must have a safe zero value: running
// workflows replay with the old input.
type Input struct {
	RefundID    string         `json:"refundId"`
	ProjectID   string         `json:"projectId"`
	ProjectCode string         `json:"projectCode"`
	MeterID     string         `json:"meterId"`
	MeterNo     string         `json:"meterNo"`
	Amount      money.Amount   `json:"amount"`
	Kind        refunddom.Kind `json:"kind"`
	// ReversesRechargeID and Reason describe a reversal (冲正) to the approver.
	ReversesRechargeID string `json:"reversesRechargeId,omitempty"`
	Reason             string `json:"reason,omitempty"`
	// ApprovalTimeout ends an undecided approval as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
	// DispatchWindow is how long the meter is retried before dispatch_failed.
	DispatchWindow time.Duration `json:"dispatchWindow"`
	// KeepPower (不断电退费) keeps the relay closed: the dispatch puts the
	// meter into protect mode first. It changes an activity's input, not
	// the workflow's steps, so older runs replay unchanged (false).
	KeepPower bool `json:"keepPower,omitempty"`
}

// Result is the end state.
type Result struct {
	Status  rechargedom.Status `json:"status"`
	Counter int                `json:"counter,omitempty"`
}

// Workflow runs one refund from application to a final status.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	in = withDefaults(in)
	// Update handlers first, so an Update never finds the workflow without them.
	status, rev, step, err := delivery.Begin(ctx, rechargedom.PendingApproval, in.ProjectID, func(ctx workflow.Context, s rechargedom.Status, failure string) error {
		return setRefundStatus(delivery.DB(ctx), refundstore.StatusInput{
			RefundID: in.RefundID, Status: s, Failure: failure}).Get(ctx, nil)
	})
	if err != nil {
		return Result{}, err
	}

	// Money leaves the platform: a refund always waits for an approver.
	approved, err := review(ctx, rev, in, status)
	if err != nil {
		return Result{}, err
	}
	if !approved {
		return Result{Status: rechargedom.Rejected}, nil
	}

	// Booking and the move to dispatching commit together. The wallet is
	// checked again at booking: another refund may have spent it since.
	err = bookRefund(delivery.DB(ctx), refundstore.BookInput{
		RefundID: in.RefundID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount, Kind: in.Kind}).Get(ctx, nil)
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) && refused.Type() == refundstore.ErrTypeExceedsBalance {
		return Result{Status: rechargedom.Rejected}, status.Set(ctx, rechargedom.Rejected, refused.Message())
	}
	if err != nil {
		return Result{}, err
	}
	if err := status.Mark(ctx, rechargedom.Dispatching); err != nil {
		return Result{}, err
	}

	sent, err := step.Complete(ctx, string(in.Kind), func(ctx workflow.Context) (metersstore.DispatchResult, error) {
		var sent metersstore.DispatchResult
		err := dispatchRefund(delivery.Device(ctx, in.DispatchWindow), metersstore.RefundDispatchInput{
			RefundID: in.RefundID, MeterID: in.MeterID, Amount: in.Amount, KeepPower: in.KeepPower}).Get(ctx, &sent)
		return sent, err
	}, func(sent metersstore.DispatchResult) error {
		return settleRefund(delivery.DB(ctx), refundstore.SettleInput{
			RefundID: in.RefundID, ProjectID: in.ProjectID, MeterNo: in.MeterNo, Amount: in.Amount, Kind: in.Kind,
			Counter: sent.Counter}).Get(ctx, nil)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Status: rechargedom.Completed, Counter: sent.Counter}, nil
}

func review(ctx workflow.Context, rev *approval.Review, in Input, status *delivery.Tracker) (bool, error) {
	subject := fmt.Sprintf("Refund %s from meter %s", in.Amount, in.MeterNo)
	details := map[string]string{"refundId": in.RefundID, "meterNo": in.MeterNo, "amount": in.Amount.String(), "kind": string(in.Kind)}
	if in.KeepPower {
		details["keepPower"] = "true"
	}
	if in.Kind == refunddom.Reversal {
		subject = fmt.Sprintf("Reverse recharge %s of %s on meter %s", in.ReversesRechargeID, in.Amount, in.MeterNo)
		details["reversesRechargeId"], details["reason"] = in.ReversesRechargeID, in.Reason
	}
	return status.Review(ctx, rev, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindApproval, Role: access.Approver,
		WorkflowID: WorkflowID(in.RefundID), Subject: subject, Details: details,
	}, in.ApprovalTimeout, nil) // the refund was created pending_approval: nothing to project
}

func withDefaults(in Input) Input {
	in.ApprovalTimeout, in.DispatchWindow = delivery.Windows(in.ApprovalTimeout, in.DispatchWindow)
	if in.Kind == "" {
		in.Kind = refunddom.Refund
	}
	return in
}
