// Package payment is one online payment order as a Temporal workflow
// (payment/<order number>): it waits for the provider's verified callback,
// or asks the provider itself when the callback is late, and turns the paid
// order into an ordinary recharge (recharge/<id>, a child that outlives it)
// exactly once.
package payment

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	paymentstore "github.com/voltflow/voltflow/store/payment"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
)

// Names shared with the API.
const (
	Kind = "payment"
	// SignalPaid carries a verified callback's paymentstore.CreditInput.
	SignalPaid = "paid"
	// TaskKindMismatch is finance's task for an order paid with another
	// amount than ordered.
	TaskKindMismatch = "payment_mismatch"
)

// WorkflowID is the workflow of one order.
func WorkflowID(orderNo string) string { return "payment/" + orderNo }

// Input starts a payment. New fields must have a safe zero value.
type Input struct {
	OrderNo     string `json:"orderNo"`
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	Provider    string `json:"provider"`
	// QueryAfter is how long a callback is waited for before the provider
	// is asked (default 1 minute); the order is asked again each time.
	QueryAfter time.Duration `json:"queryAfter"`
	// Expiry closes an order never paid (default 30 minutes).
	Expiry time.Duration `json:"expiry"`
	// DispatchWindow is passed to the recharge.
	DispatchWindow time.Duration `json:"dispatchWindow"`
}

// Result is the end state.
type Result struct {
	Status     string `json:"status"`
	RechargeID string `json:"rechargeId,omitempty"`
}

// Workflow runs one order to credited, closed or amount_mismatch.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	if in.QueryAfter <= 0 {
		in.QueryAfter = time.Minute
	}
	if in.Expiry <= 0 {
		in.Expiry = 30 * time.Minute
	}
	db := options.DB(ctx)
	paid := workflow.GetSignalChannel(ctx, SignalPaid)
	deadline := workflow.Now(ctx).Add(in.Expiry)
	for {
		var credit *paymentstore.CreditInput
		tctx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(paid, func(c workflow.ReceiveChannel, _ bool) {
			var n paymentstore.CreditInput
			c.Receive(ctx, &n)
			credit = &n
		})
		sel.AddFuture(workflow.NewTimer(tctx, in.QueryAfter), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if credit == nil {
			// The callback is late (or lost): ask the provider. A provider
			// that does not answer is asked again at the next turn.
			qctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 15 * time.Second,
				RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3}})
			var q paymentstore.QueryResult
			err := queryPayment(qctx, paymentstore.QueryInput{Provider: in.Provider, OrderNo: in.OrderNo}).Get(ctx, &q)
			switch {
			case err != nil:
				workflow.GetLogger(ctx).Warn("payment query failed", "order", in.OrderNo, "error", err)
			case q.State == "SUCCESS":
				credit = &paymentstore.CreditInput{OrderNo: in.OrderNo, ProviderTxnID: q.ProviderTxnID, PaidCents: q.PaidCents, PaidAt: q.PaidAt}
			case q.State == "CLOSED":
				return closeOrder(ctx, db, in)
			}
			if credit == nil {
				if !workflow.Now(ctx).Before(deadline) {
					return closeOrder(ctx, db, in)
				}
				continue
			}
		}
		credit.OrderNo = in.OrderNo // a signal speaks of this order only
		return creditOrder(ctx, db, in, *credit)
	}
}

func closeOrder(ctx, db workflow.Context, in Input) (Result, error) {
	if err := closePayment(db, paymentstore.CloseInput{OrderNo: in.OrderNo}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	return Result{Status: paymentstore.Closed}, nil
}

// creditOrder records the recharge and starts it; later callbacks of the
// order find this workflow closed, and the recharge's transaction number
// (the order number) keeps a second credit from existing.
func creditOrder(ctx, db workflow.Context, in Input, paid paymentstore.CreditInput) (Result, error) {
	var c paymentstore.Credit
	if err := creditPayment(db, paid).Get(ctx, &c); err != nil {
		return Result{}, err
	}
	if c.Status == paymentstore.AmountMismatch {
		task := inboxstore.NewTask{ProjectID: c.ProjectID, Kind: TaskKindMismatch, Role: access.Approver,
			WorkflowID: WorkflowID(in.OrderNo),
			Subject:    fmt.Sprintf("Payment %s of meter %s paid %d fen, ordered %s", in.OrderNo, c.MeterNo, paid.PaidCents, c.Amount),
			Details:    map[string]string{"orderNo": in.OrderNo, "meterNo": c.MeterNo, "ordered": c.Amount.String(), "paidCents": fmt.Sprint(paid.PaidCents)}}
		if err := openTask(db, task).Get(ctx, nil); err != nil {
			return Result{}, err
		}
		return Result{Status: c.Status}, nil
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            c.WorkflowID,
		TaskQueue:             names.MainQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: names.Attributes(c.ProjectCode, rechargewf.Kind, c.MeterNo, string(rechargedom.Approved)),
	})
	child := workflow.ExecuteChildWorkflow(cctx, rechargewf.Kind, rechargewf.Input{RechargeID: c.RechargeID, ProjectID: c.ProjectID,
		ProjectCode: c.ProjectCode, MeterID: c.MeterID, MeterNo: c.MeterNo, Amount: c.Amount, DispatchWindow: in.DispatchWindow,
		Platform: c.Platform})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return Result{}, fmt.Errorf("start recharge of payment %s: %w", in.OrderNo, err)
	}
	return Result{Status: paymentstore.Credited, RechargeID: c.RechargeID}, nil
}
