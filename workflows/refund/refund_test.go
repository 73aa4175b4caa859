package refund

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	metersacts "github.com/voltflow/voltflow/activities/meters"
	refundacts "github.com/voltflow/voltflow/activities/refund"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/delivery"
	"github.com/voltflow/voltflow/workflows/names"
)

// recorder collects what the mocked activities were asked to do, in order.
type recorder struct {
	statuses []rechargedom.Status
	calls    []string
	opened   inboxacts.OpenTaskInput
	booked   refundacts.BookInput
	sent     metersacts.RefundDispatchInput
	settled  refundacts.SettleInput
	bookErr  error // what BookRefund answers
}

func env(t *testing.T) (*testsuite.TestWorkflowEnvironment, *recorder) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
	e.RegisterActivity(&refundacts.Activities{})
	e.RegisterActivity(&inboxacts.Activities{})
	e.RegisterActivity(&metersacts.Activities{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "M1", string(rechargedom.PendingApproval))); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e.OnActivity("SetRefundStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in refundacts.StatusInput) error {
		rec.statuses = append(rec.statuses, in.Status)
		return nil
	})
	e.OnActivity("BookRefund", mock.Anything, mock.Anything).Return(func(_ context.Context, in refundacts.BookInput) error {
		rec.calls, rec.booked = append(rec.calls, "book"), in
		return rec.bookErr
	})
	e.OnActivity("SettleRefund", mock.Anything, mock.Anything).Return(func(_ context.Context, in refundacts.SettleInput) error {
		rec.calls, rec.settled = append(rec.calls, "settle"), in
		return nil
	})
	e.OnActivity("OpenTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.OpenTaskInput) (inboxacts.Task, error) {
		rec.calls, rec.opened = append(rec.calls, "open"), in
		return inboxacts.Task{ID: "task-1", Role: in.Role, Status: inboxacts.Pending, WorkflowID: in.WorkflowID}, nil
	})
	e.OnActivity("DecideTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.DecideInput) (inboxacts.Task, error) {
		rec.calls = append(rec.calls, "decide")
		st := inboxacts.Rejected
		if in.Approve {
			st = inboxacts.Approved
		}
		return inboxacts.Task{ID: in.TaskID, Status: st}, nil
	})
	e.OnActivity("ExpireTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.ExpireInput) error {
		rec.calls = append(rec.calls, "expire")
		return nil
	})
	return e, rec
}

func input(kind refunddom.Kind) Input {
	return Input{RefundID: "f1", ProjectID: "p1", ProjectCode: "demo", MeterID: "m1", MeterNo: "M1",
		Amount: money.MustParse("40.00"), Kind: kind, ApprovalTimeout: time.Hour, DispatchWindow: time.Minute}
}

type updateResult struct {
	err    error
	result any
}

func sendUpdate(e *testsuite.TestWorkflowEnvironment, name string, arg any) *updateResult {
	out := &updateResult{}
	e.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { out.err = err },
		OnAccept:   func() {},
		OnComplete: func(r any, err error) { out.result = r; out.err = err },
	}, arg)
	return out
}

// decideAfter sends the decisions a minute into the workflow.
func decideAfter(e *testsuite.TestWorkflowEnvironment, ds ...approval.Decision) []*updateResult {
	out := make([]*updateResult, len(ds))
	e.RegisterDelayedCallback(func() {
		for i, d := range ds {
			out[i] = sendUpdate(e, approval.UpdateDecide, d)
		}
	}, time.Minute)
	return out
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRejectedRefundBooksNothing(t *testing.T) {
	e, rec := env(t)
	e.OnActivity("DispatchRefund", mock.Anything, mock.Anything).Return(metersacts.DispatchResult{Counter: 1, PurchaseCount: 1}, nil)
	results := decideAfter(e, approval.Decision{TaskID: "task-1", Approve: false, Roles: []access.Role{access.Approver}})
	e.ExecuteWorkflow(Kind, input(refunddom.Refund))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if results[0].err != nil || res.Status != rechargedom.Rejected {
		t.Fatalf("decision err %v, result %+v", results[0].err, res)
	}
	if !equal(rec.calls, []string{"open", "decide"}) || !equal(rec.statuses, []rechargedom.Status{rechargedom.Rejected}) {
		t.Fatalf("calls %v statuses %v; a rejected refund must not book or dispatch", rec.calls, rec.statuses)
	}
	if rec.opened.Role != access.Approver || rec.opened.Kind != TaskKindApproval || rec.opened.WorkflowID != "refund/f1" {
		t.Fatalf("task opened %+v", rec.opened)
	}
}

func TestApprovedRefundBooksThenDispatchesThenSettles(t *testing.T) {
	for _, kind := range []refunddom.Kind{refunddom.Refund, refunddom.Reversal} {
		t.Run(string(kind), func(t *testing.T) {
			e, rec := env(t)
			e.OnActivity("DispatchRefund", mock.Anything, mock.Anything).Return(func(_ context.Context, in metersacts.RefundDispatchInput) (metersacts.DispatchResult, error) {
				rec.calls, rec.sent = append(rec.calls, "dispatch"), in
				return metersacts.DispatchResult{Counter: 9, PurchaseCount: 9}, nil
			})
			// Refunds below any auto-approval amount still wait: a cashier
			// cannot decide, an approver can, a second decision is refused.
			results := decideAfter(e,
				approval.Decision{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Cashier}},
				approval.Decision{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Approver}},
				approval.Decision{TaskID: "task-1", Approve: false, Roles: []access.Role{access.Approver}})
			in := input(kind)
			if kind == refunddom.Reversal {
				in.ReversesRechargeID, in.Reason = "r9", "wrong meter"
			}
			e.ExecuteWorkflow(Kind, in)
			var res Result
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			for i, want := range []error{approval.ErrNotYourRole, nil, approval.ErrAlreadyDecided} {
				if got := results[i].err; want == nil && got != nil || want != nil && (got == nil || got.Error() != want.Error()) {
					t.Errorf("decision %d: err %v, want %v", i, got, want)
				}
			}
			if res.Status != rechargedom.Completed || res.Counter != 9 {
				t.Fatalf("result %+v", res)
			}
			if !equal(rec.calls, []string{"open", "decide", "book", "dispatch", "settle"}) {
				t.Fatalf("calls %v", rec.calls)
			}
			if !equal(rec.statuses, []rechargedom.Status{rechargedom.Approved}) {
				t.Fatalf("statuses %v; booking and settling project dispatching and completed themselves", rec.statuses)
			}
			if rec.booked.Kind != kind || !rec.booked.Amount.Equal(in.Amount) || rec.sent.RefundID != "f1" ||
				!rec.sent.Amount.Equal(in.Amount) || rec.settled.Counter != 9 || rec.settled.Kind != kind {
				t.Fatalf("booked %+v sent %+v settled %+v", rec.booked, rec.sent, rec.settled)
			}
			if kind == refunddom.Reversal && (rec.opened.Details["reversesRechargeId"] != "r9" || rec.opened.Details["reason"] != "wrong meter") {
				t.Fatalf("reversal task details %v", rec.opened.Details)
			}
		})
	}
}

func TestBookingRefusedAboveWalletRejects(t *testing.T) {
	e, rec := env(t)
	rec.bookErr = temporal.NewNonRetryableApplicationError("wallet holds 10.00", refundacts.ErrTypeExceedsBalance, refunddom.ErrExceedsBalance)
	decideAfter(e, approval.Decision{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Approver}})
	e.ExecuteWorkflow(Kind, input(refunddom.Refund))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Rejected || !equal(rec.statuses, []rechargedom.Status{rechargedom.Approved, rechargedom.Rejected}) ||
		!equal(rec.calls, []string{"open", "decide", "book"}) {
		t.Fatalf("result %+v statuses %v calls %v; a refused booking must not dispatch", res, rec.statuses, rec.calls)
	}
}

func TestRefundDispatchFailsThenRedispatchCompletes(t *testing.T) {
	e, rec := env(t)
	attempts := 0
	e.OnActivity("DispatchRefund", mock.Anything, mock.Anything).Return(func(_ context.Context, in metersacts.RefundDispatchInput) (metersacts.DispatchResult, error) {
		attempts++
		if attempts == 1 {
			return metersacts.DispatchResult{}, temporal.NewNonRetryableApplicationError("meter unreachable", "test", errors.New("down"))
		}
		return metersacts.DispatchResult{Counter: 3, PurchaseCount: 3}, nil
	})
	decideAfter(e, approval.Decision{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Approver}})
	var early, wrongRole, ok *updateResult
	e.RegisterDelayedCallback(func() {
		early = sendUpdate(e, UpdateRedispatch, delivery.Redispatch{Roles: []access.Role{access.Cashier}})
	}, 30*time.Second)
	e.RegisterDelayedCallback(func() {
		wrongRole = sendUpdate(e, UpdateRedispatch, delivery.Redispatch{Roles: []access.Role{access.Viewer}})
		ok = sendUpdate(e, UpdateRedispatch, delivery.Redispatch{Roles: []access.Role{access.Cashier}})
	}, time.Hour)
	e.ExecuteWorkflow(Kind, input(refunddom.Refund))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Completed || attempts != 2 {
		t.Fatalf("result %+v after %d attempts", res, attempts)
	}
	if early.err == nil || early.err.Error() != delivery.ErrNotRedispatched.Error() {
		t.Fatalf("redispatch while pending approval: %v", early.err)
	}
	if wrongRole.err == nil || ok.err != nil {
		t.Fatalf("viewer redispatch err %v, cashier redispatch err %v", wrongRole.err, ok.err)
	}
	want := []rechargedom.Status{rechargedom.Approved, rechargedom.DispatchFailed, rechargedom.Dispatching}
	if !equal(rec.statuses, want) {
		t.Fatalf("statuses %v, want %v", rec.statuses, want)
	}
}

func TestUndecidedRefundExpires(t *testing.T) {
	e, rec := env(t)
	e.ExecuteWorkflow(Kind, input(refunddom.Refund))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Rejected || !equal(rec.calls, []string{"open", "expire"}) {
		t.Fatalf("result %+v calls %v", res, rec.calls)
	}
}
