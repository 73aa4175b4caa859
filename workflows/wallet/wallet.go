// Package wallet runs the recharges (充值) and refunds (退款) of a charging
// card's prepaid wallet as Temporal workflows, the chain meter sales take
// without the meter: apply → review (an approver in the task inbox, when
// the policy asks; a refund always) → book (记账).
//
//   - wallet-recharge/<id>: cash or transfer into the wallet;
//   - wallet-refund/<id>: the wallet paid out in cash; refused at booking
//     when the wallet no longer covers it.
//
// Both kinds are one Workflow registered under two names.
package wallet

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	walletstore "github.com/voltflow/voltflow/store/wallet"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/options"
)

// Workflow types (also the first part of their IDs) and inbox task kinds.
const (
	KindRecharge        = "wallet-recharge"
	KindRefund          = "wallet-refund"
	TaskRechargeReview  = "wallet_recharge_approval" // 充值审核
	TaskRefundReview    = "wallet_refund_approval"   // 退款审核
	defaultReviewWindow = 7 * 24 * time.Hour
)

// KindOf is the workflow type of a request kind.
func KindOf(k card.WalletKind) string {
	if k == card.WalletRefund {
		return KindRefund
	}
	return KindRecharge
}

// WorkflowID is the workflow of one wallet request.
func WorkflowID(k card.WalletKind, id string) string { return KindOf(k) + "/" + id }

// Input starts a wallet request. New fields need a safe zero value.
type Input struct {
	RequestID     string          `json:"requestId"`
	ProjectID     string          `json:"projectId"`
	ProjectCode   string          `json:"projectCode"`
	Kind          card.WalletKind `json:"kind"`
	CardNo        string          `json:"cardNo"`
	AccountNo     string          `json:"accountNo"`
	Method        card.Method     `json:"method,omitempty"`
	Amount        money.Amount    `json:"amount"`
	NeedsApproval bool            `json:"needsApproval"`
	// ApprovalTimeout ends an undecided review as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
}

// Result is the end state.
type Result struct {
	Status  rechargedom.Status `json:"status"`
	Failure string             `json:"failure,omitempty"`
}

// Workflow runs one wallet request from application to booked or rejected.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	rev, err := approval.New(ctx) // before anything else: an Update may come at once
	if err != nil {
		return Result{}, err
	}
	dbctx := options.DB(ctx, walletstore.ErrTypeExceedsBalance)
	reject := func(failure string) (Result, error) {
		return Result{Status: rechargedom.Rejected, Failure: failure}, setStatus(dbctx, walletstore.StatusInput{
			RequestID: in.RequestID, Status: rechargedom.Rejected, Failure: failure}).Get(ctx, nil)
	}
	// Money leaving the platform always waits for an approver.
	if in.NeedsApproval || in.Kind == card.WalletRefund {
		timeout := in.ApprovalTimeout
		if timeout <= 0 {
			timeout = defaultReviewWindow
		}
		out, err := rev.Request(ctx, reviewTask(in), timeout, nil)
		if err != nil {
			return Result{}, err
		}
		if !out.Approved {
			return reject(out.Refusal())
		}
	}
	err = book(dbctx, walletstore.BookInput{RequestID: in.RequestID, ProjectID: in.ProjectID, Kind: in.Kind,
		Method: in.Method, AccountNo: in.AccountNo, Amount: in.Amount}).Get(ctx, nil)
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) && refused.Type() == walletstore.ErrTypeExceedsBalance {
		return reject(refused.Message())
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Status: rechargedom.Completed}, nil
}

func reviewTask(in Input) inboxstore.NewTask {
	kind, subject := TaskRechargeReview, fmt.Sprintf("Recharge %s (%s) to card %s", in.Amount, in.Method, in.CardNo)
	if in.Kind == card.WalletRefund {
		kind, subject = TaskRefundReview, fmt.Sprintf("Refund %s from card %s", in.Amount, in.CardNo)
	}
	return inboxstore.NewTask{ProjectID: in.ProjectID, Kind: kind, Role: access.Approver,
		WorkflowID: WorkflowID(in.Kind, in.RequestID), Subject: subject,
		Details: map[string]string{"requestId": in.RequestID, "cardNo": in.CardNo, "accountNo": in.AccountNo,
			"amount": in.Amount.String(), "method": string(in.Method), "kind": string(in.Kind)}}
}
