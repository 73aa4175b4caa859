package recharge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	metersacts "github.com/voltflow/voltflow/activities/meters"
	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	rechargeacts "github.com/voltflow/voltflow/activities/recharge"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

// env builds a test environment whose activities record the statuses written.
func env(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]rechargedom.Status, *[]string) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: Kind})
	e.RegisterActivity(&rechargeacts.Activities{})
	e.RegisterActivity(&inboxacts.Activities{})
	e.RegisterActivity(&metersacts.Activities{})
	if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", Kind, "M1", "approved")); err != nil {
		t.Fatal(err)
	}
	statuses := &[]rechargedom.Status{}
	calls := &[]string{}
	e.OnActivity("SetRechargeStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in rechargeacts.StatusInput) error {
		*statuses = append(*statuses, in.Status)
		return nil
	})
	e.OnActivity("BookRecharge", mock.Anything, mock.Anything).Return(func(_ context.Context, in rechargeacts.BookInput) error {
		*calls = append(*calls, "book")
		return nil
	})
	e.OnActivity("SettleRecharge", mock.Anything, mock.Anything).Return(func(_ context.Context, in rechargeacts.SettleInput) error {
		*calls = append(*calls, "settle")
		return nil
	})
	e.OnActivity("OpenTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.OpenTaskInput) (inboxacts.Task, error) {
		return inboxacts.Task{ID: "task-1", Role: in.Role, Status: inboxacts.Pending, WorkflowID: in.WorkflowID}, nil
	})
	e.OnActivity("DecideTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.DecideInput) (inboxacts.Task, error) {
		*calls = append(*calls, "decide")
		st := inboxacts.Rejected
		if in.Approve {
			st = inboxacts.Approved
		}
		return inboxacts.Task{ID: in.TaskID, Status: st}, nil
	})
	e.OnActivity("ExpireTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.ExpireInput) error {
		*calls = append(*calls, "expire")
		return nil
	})
	return e, statuses, calls
}

func input(amount string, approval bool) Input {
	return Input{RechargeID: "r1", ProjectID: "p1", ProjectCode: "demo", MeterID: "m1", MeterNo: "M1",
		Amount: money.MustParse(amount), NeedsApproval: approval, DispatchWindow: time.Minute}
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

func TestAutoApprovedRechargeCompletes(t *testing.T) {
	e, statuses, calls := env(t)
	e.OnActivity("DispatchRecharge", mock.Anything, mock.Anything).Return(metersacts.DispatchResult{Counter: 8, PurchaseCount: 8}, nil)
	e.ExecuteWorkflow(Kind, input("100", false))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Completed || res.Counter != 8 {
		t.Fatalf("result %+v", res)
	}
	if len(*statuses) != 0 || len(*calls) != 2 || (*calls)[0] != "book" || (*calls)[1] != "settle" {
		t.Fatalf("statuses %v calls %v; want book then settle and no extra status writes", *statuses, *calls)
	}
}

func TestApprovalFlow(t *testing.T) {
	tests := []struct {
		name       string
		decisions  []approval.Decision
		wantErrs   []error // per decision: nil = accepted
		wantStatus rechargedom.Status
		wantCalls  []string
	}{
		{
			name: "cashier refused, approver approves, second decision refused",
			decisions: []approval.Decision{
				{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Cashier}},
				{TaskID: "task-1", Approve: true, Roles: []access.Role{access.Approver}},
				{TaskID: "task-1", Approve: false, Roles: []access.Role{access.Approver}},
			},
			wantErrs:   []error{approval.ErrNotYourRole, nil, approval.ErrAlreadyDecided},
			wantStatus: rechargedom.Completed,
			wantCalls:  []string{"decide", "book", "settle"},
		},
		{
			name:       "rejected books nothing",
			decisions:  []approval.Decision{{TaskID: "task-1", Approve: false, Roles: []access.Role{access.Admin}}},
			wantErrs:   []error{nil},
			wantStatus: rechargedom.Rejected,
			wantCalls:  []string{"decide"},
		},
		{
			name:       "wrong task id",
			decisions:  []approval.Decision{{TaskID: "other", Approve: true, Roles: []access.Role{access.Approver}}},
			wantErrs:   []error{approval.ErrUnknownTask},
			wantStatus: rechargedom.Rejected, // then it expires
			wantCalls:  []string{"expire"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, calls := env(t)
			e.OnActivity("DispatchRecharge", mock.Anything, mock.Anything).Return(metersacts.DispatchResult{Counter: 1, PurchaseCount: 1}, nil)
			results := make([]*updateResult, len(tt.decisions))
			e.RegisterDelayedCallback(func() {
				for i, d := range tt.decisions {
					results[i] = sendUpdate(e, approval.UpdateDecide, d)
				}
			}, time.Minute)
			in := input("600", true)
			in.ApprovalTimeout = time.Hour
			e.ExecuteWorkflow(Kind, in)
			var res Result
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.wantErrs {
				got := results[i].err
				if want == nil && got != nil || want != nil && (got == nil || got.Error() != want.Error()) {
					t.Errorf("decision %d: err %v, want %v", i, got, want)
				}
			}
			if res.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s", res.Status, tt.wantStatus)
			}
			if len(*calls) != len(tt.wantCalls) {
				t.Fatalf("calls %v, want %v", *calls, tt.wantCalls)
			}
			for i := range tt.wantCalls {
				if (*calls)[i] != tt.wantCalls[i] {
					t.Fatalf("calls %v, want %v", *calls, tt.wantCalls)
				}
			}
		})
	}
}

func TestDecisionAfterDeadlineIsRefused(t *testing.T) {
	e, _, calls := env(t)
	var late *updateResult
	e.RegisterDelayedCallback(func() {
		late = sendUpdate(e, approval.UpdateDecide, approval.Decision{TaskID: "task-1", Approve: true,
			Roles: []access.Role{access.Approver}, Deadline: e.Now().Add(-time.Second)})
	}, time.Minute)
	in := input("600", true)
	in.ApprovalTimeout = time.Hour
	e.ExecuteWorkflow(Kind, in)
	if late == nil || late.err == nil || late.err.Error() != approval.ErrTooLate.Error() {
		t.Fatalf("late decision: %+v", late)
	}
	if len(*calls) != 1 || (*calls)[0] != "expire" {
		t.Fatalf("calls %v; the late decision must change nothing", *calls)
	}
}

func TestDispatchFailsThenRedispatchCompletes(t *testing.T) {
	e, statuses, _ := env(t)
	attempts := 0
	e.OnActivity("DispatchRecharge", mock.Anything, mock.Anything).Return(func(_ context.Context, in metersacts.DispatchInput) (metersacts.DispatchResult, error) {
		attempts++
		if attempts == 1 {
			return metersacts.DispatchResult{}, temporal.NewNonRetryableApplicationError("meter unreachable", "test", errors.New("down"))
		}
		return metersacts.DispatchResult{Counter: 3, PurchaseCount: 3}, nil
	})
	var wrongRole, ok *updateResult
	e.RegisterDelayedCallback(func() {
		wrongRole = sendUpdate(e, UpdateRedispatch, Redispatch{Roles: []access.Role{access.Viewer}})
		ok = sendUpdate(e, UpdateRedispatch, Redispatch{Roles: []access.Role{access.Cashier}})
	}, time.Hour)
	e.ExecuteWorkflow(Kind, input("10", false))
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Completed || attempts != 2 {
		t.Fatalf("result %+v after %d attempts", res, attempts)
	}
	if wrongRole.err == nil || ok.err != nil {
		t.Fatalf("viewer redispatch err %v, cashier redispatch err %v", wrongRole.err, ok.err)
	}
	want := []rechargedom.Status{rechargedom.DispatchFailed, rechargedom.Dispatching}
	if len(*statuses) != 2 || (*statuses)[0] != want[0] || (*statuses)[1] != want[1] {
		t.Fatalf("statuses %v, want %v", *statuses, want)
	}
}

// TestPlatformSaleCreditsTheWalletWithoutDispatch: a sale to a
// platform-side meter is booked and credited by billing; nothing is sent to
// the meter and nothing is settled against a meter counter.
func TestPlatformSaleCreditsTheWalletWithoutDispatch(t *testing.T) {
	e, statuses, calls := env(t)
	e.RegisterActivity(&platformbillingacts.Activities{})
	e.OnActivity("DispatchRecharge", mock.Anything, mock.Anything).Return(func(context.Context, metersacts.DispatchInput) (metersacts.DispatchResult, error) {
		*calls = append(*calls, "dispatch")
		return metersacts.DispatchResult{}, nil
	})
	var queue string
	e.OnActivity("CreditRecharge", mock.Anything, mock.Anything).Return(func(ctx context.Context, in platformbillingacts.CreditInput) (platformbillingacts.CreditResult, error) {
		*calls = append(*calls, "credit "+in.MeterNo+" "+in.Amount.String())
		queue = activity.GetInfo(ctx).TaskQueue
		return platformbillingacts.CreditResult{Balance: in.Amount}, nil
	})
	in := input("10.00", false)
	in.Platform = true
	e.ExecuteWorkflow(Kind, in)
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != rechargedom.Completed || res.Counter != 0 {
		t.Fatalf("result %+v, want completed without a counter", res)
	}
	if got := strings.Join(*calls, ","); got != "book,credit M1 10.00" {
		t.Fatalf("calls %s, want book then credit only", got)
	}
	if queue != names.DevicesQueue {
		t.Fatalf("CreditRecharge ran on %q, want %s (where billing's activities are registered)", queue, names.DevicesQueue)
	}
	if len(*statuses) != 0 {
		t.Fatalf("statuses projected by the workflow %v; book and credit project them", *statuses)
	}
}
