package credit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	creditacts "github.com/voltflow/voltflow/activities/credit"
	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/enterprisebill"
	"github.com/voltflow/voltflow/workflows/names"
)

// env records every activity the workflows call, in order.
func env(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]string) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(RechargeWorkflow, workflow.RegisterOptions{Name: KindRecharge})
	e.RegisterWorkflowWithOptions(LimitWorkflow, workflow.RegisterOptions{Name: KindLimit})
	e.RegisterWorkflowWithOptions(enterprisebill.Workflow, workflow.RegisterOptions{Name: enterprisebill.Kind})
	e.RegisterActivity(&creditacts.Activities{})
	e.RegisterActivity(&inboxacts.Activities{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", KindRecharge, "ACME", "pending_approval")); err != nil {
		t.Fatal(err)
	}
	calls := &[]string{}
	e.OnActivity("OpenTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.OpenTaskInput) (inboxacts.Task, error) {
		*calls = append(*calls, "open:"+in.Kind)
		return inboxacts.Task{ID: "task-1", Role: in.Role, Status: inboxacts.Pending, WorkflowID: in.WorkflowID}, nil
	})
	e.OnActivity("DecideTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.DecideInput) (inboxacts.Task, error) {
		*calls = append(*calls, "decide")
		return inboxacts.Task{ID: in.TaskID}, nil
	})
	e.OnActivity("SetEnterpriseRechargeStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in creditacts.RechargeStatusInput) error {
		*calls = append(*calls, "status:"+string(in.Status))
		return nil
	})
	e.OnActivity("SetApplicationStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in creditacts.ApplicationStatusInput) error {
		*calls = append(*calls, "status:"+string(in.Status))
		return nil
	})
	e.OnActivity("BookEnterpriseRecharge", mock.Anything, mock.Anything).Return(func(_ context.Context, in creditacts.BookRechargeInput) error {
		*calls = append(*calls, "book:"+in.Amount.String())
		return nil
	})
	e.OnActivity("ApplyCreditLimit", mock.Anything, mock.Anything).Return(func(_ context.Context, in creditacts.ApplyLimitInput) (creditacts.ApplyLimitResult, error) {
		*calls = append(*calls, "apply")
		return creditacts.ApplyLimitResult{Status: rechargedom.Completed}, nil
	})
	return e, calls
}

func decide(e *testsuite.TestWorkflowEnvironment, d approval.Decision) *error {
	out := new(error)
	e.UpdateWorkflow(approval.UpdateDecide, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { *out = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) {
			if err != nil {
				*out = err
			}
		},
	}, d)
	return out
}

var approver = []access.Role{access.Approver}

func TestRechargeChain(t *testing.T) {
	for _, c := range []struct {
		name    string
		approve bool
		want    []string
		status  rechargedom.Status
	}{
		{"approved is booked", true, []string{"open:" + TaskRechargeReview, "decide", "book:800.00"}, rechargedom.Completed},
		{"rejected books nothing", false, []string{"open:" + TaskRechargeReview, "decide", "status:rejected"}, rechargedom.Rejected},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, calls := env(t)
			var wrongRole, second *error
			e.RegisterDelayedCallback(func() {
				wrongRole = decide(e, approval.Decision{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Cashier}})
				decide(e, approval.Decision{TaskID: "task-1", Approve: c.approve, Roles: approver})
				second = decide(e, approval.Decision{TaskID: "task-1", Approve: !c.approve, Roles: approver})
			}, time.Minute)
			e.ExecuteWorkflow(KindRecharge, RechargeInput{RechargeID: "r1", ProjectID: "p1", EnterpriseID: "e1", EnterpriseCode: "ACME",
				Amount: money.MustParse("800.00")})
			var res Result
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Status != c.status || !equal(*calls, c.want) {
				t.Fatalf("status %s calls %v; want %s %v", res.Status, *calls, c.status, c.want)
			}
			if !errors.Is(*wrongRole, approval.ErrNotYourRole) && (*wrongRole == nil || (*wrongRole).Error() != approval.ErrNotYourRole.Error()) {
				t.Fatalf("cashier's decision: %v", *wrongRole)
			}
			if *second == nil {
				t.Fatal("a second decision was accepted")
			}
		})
	}
}

func TestLimitChain(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    creditline.Kind
		approve bool
		want    []string
	}{
		{"opening approved starts billing", creditline.Open, true, []string{"open:" + TaskOpenReview, "decide", "apply", "child"}},
		{"adjustment approved", creditline.Adjust, true, []string{"open:" + TaskAdjustReview, "decide", "apply"}},
		{"opening rejected", creditline.Open, false, []string{"open:" + TaskOpenReview, "decide", "status:rejected"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, calls := env(t)
			e.OnWorkflow(enterprisebill.Kind, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in enterprisebill.Input) error {
				*calls = append(*calls, "child")
				return nil
			})
			e.RegisterDelayedCallback(func() {
				decide(e, approval.Decision{TaskID: "task-1", Approve: c.approve, Roles: []access.Role{access.Admin}})
			}, time.Minute)
			e.ExecuteWorkflow(KindLimit, LimitInput{ApplicationID: "a1", ProjectID: "p1", EnterpriseID: "e1", EnterpriseCode: "ACME",
				Kind: c.kind, Limit: money.MustParse("5000.00")})
			var res Result
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if !equal(*calls, c.want) {
				t.Fatalf("calls %v; want %v", *calls, c.want)
			}
		})
	}
}

func TestUndecidedExpires(t *testing.T) {
	e, calls := env(t)
	e.OnActivity("ExpireTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.ExpireInput) error {
		*calls = append(*calls, "expire")
		return nil
	})
	e.ExecuteWorkflow(KindLimit, LimitInput{ApplicationID: "a1", Kind: creditline.Adjust, Limit: money.MustParse("1.00"), ApprovalTimeout: time.Hour})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Rejected || !equal(*calls, []string{"open:" + TaskAdjustReview, "expire", "status:rejected"}) {
		t.Fatalf("%s %v", res.Status, *calls)
	}
}

func equal(a, b []string) bool {
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
