package voucher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	voucheracts "github.com/voltflow/voltflow/activities/voucher"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/workflows/approval"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type recorder struct {
	calls    []string
	statuses []voucherdom.BatchStatus
}

func env(t *testing.T) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.SetStartTime(t0)
	e.RegisterWorkflowWithOptions(BatchWorkflow, workflow.RegisterOptions{Name: KindBatch})
	e.RegisterWorkflowWithOptions(VoidWorkflow, workflow.RegisterOptions{Name: KindVoid})
	e.RegisterActivity(&voucheracts.Activities{})
	e.RegisterActivity(&inboxacts.Activities{})
	rec := &recorder{}
	e.OnActivity("OpenTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.OpenTaskInput) (inboxacts.Task, error) {
		rec.calls = append(rec.calls, "open "+in.Kind)
		return inboxacts.Task{ID: "task-" + in.Kind, Role: in.Role, Status: inboxacts.Pending, WorkflowID: in.WorkflowID}, nil
	})
	e.OnActivity("DecideTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.DecideInput) (inboxacts.Task, error) {
		rec.calls = append(rec.calls, "decide "+in.TaskID)
		st := inboxacts.Rejected
		if in.Approve {
			st = inboxacts.Approved
		}
		return inboxacts.Task{ID: in.TaskID, Status: st}, nil
	})
	e.OnActivity("SetBatchStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in voucheracts.StatusInput) error {
		rec.statuses = append(rec.statuses, in.Status)
		return nil
	})
	e.OnActivity("RecordIssuance", mock.Anything, mock.Anything).Return(func(_ context.Context, in voucheracts.IssuanceInput) error {
		rec.calls = append(rec.calls, "record")
		return nil
	})
	e.OnActivity("IssueBatch", mock.Anything, mock.Anything).Return(func(_ context.Context, in voucheracts.IssueInput) (int, error) {
		rec.calls = append(rec.calls, "issue")
		return 2, nil
	})
	e.OnActivity("ExpireBatch", mock.Anything, mock.Anything).Return(func(ctx context.Context, in voucheracts.ExpireInput) (int, error) {
		rec.calls = append(rec.calls, "expire")
		return 1, nil
	})
	e.OnActivity("VoidVoucher", mock.Anything, mock.Anything).Return(func(_ context.Context, in voucheracts.VoidInput) (voucherdom.Status, error) {
		rec.calls = append(rec.calls, "void")
		return voucherdom.Voided, nil
	})
	e.OnActivity("RejectVoid", mock.Anything, mock.Anything).Return(func(_ context.Context, in voucheracts.VoidInput) error {
		rec.calls = append(rec.calls, "reject void")
		return nil
	})
	return e, rec
}

func batch() BatchInput {
	return BatchInput{BatchID: "b1", ProjectID: "p1", ProjectCode: "demo", Name: "Opening", FaceValue: money.MustParse("20.00"),
		Quantity: 2, ExpiresAt: t0.Add(24 * time.Hour), ApprovalTimeout: time.Hour}
}

type answer struct{ err error }

// at sends an Update d into the workflow at offset after its start.
func at(e *testsuite.TestWorkflowEnvironment, after time.Duration, name string, arg any) *answer {
	out := &answer{}
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { out.err = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { out.err = err },
		}, arg)
	}, after)
	return out
}

func decision(kind string, approve bool, roles ...access.Role) approval.Decision {
	return approval.Decision{TaskID: "task-" + kind, Approve: approve, OperatorID: "op", Roles: roles}
}

func issue(roles ...access.Role) Issue {
	return Issue{CustomerIDs: []string{"c1", "c2"}, OperatorID: "op", Roles: roles}
}

func TestBatchApplyReviewIssueReviewBookExpire(t *testing.T) {
	e, rec := env(t)
	early := at(e, 30*time.Second, UpdateIssue, issue(access.Cashier))
	wrongRole := at(e, time.Minute, approval.UpdateDecide, decision(TaskKindApply, true, access.Cashier))
	approved := at(e, 2*time.Minute, approval.UpdateDecide, decision(TaskKindApply, true, access.Approver))
	again := at(e, 3*time.Minute, approval.UpdateDecide, decision(TaskKindApply, false, access.Approver))
	byApprover := at(e, 4*time.Minute, UpdateIssue, issue(access.Approver))
	tooMany := at(e, 4*time.Minute, UpdateIssue, Issue{CustomerIDs: []string{"c1", "c2", "c3"}, Roles: []access.Role{access.Cashier}})
	issued := at(e, 5*time.Minute, UpdateIssue, issue(access.Cashier))
	twice := at(e, 6*time.Minute, UpdateIssue, issue(access.Cashier))
	issueOK := at(e, 7*time.Minute, approval.UpdateDecide, decision(TaskKindIssue, true, access.Approver))
	e.ExecuteWorkflow(KindBatch, batch())
	if err := e.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res BatchResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != voucherdom.BatchExpired || res.Issued != 2 || res.Expired != 1 {
		t.Fatalf("result %+v", res)
	}
	refused := map[string]struct {
		a    *answer
		want string
	}{
		"issue before approval": {early, voucherdom.ErrNotIssuable.Error()},
		"cashier decides":       {wrongRole, approval.ErrNotYourRole.Error()},
		"second decision":       {again, approval.ErrUnknownTask.Error()}, // the API answers both 409 task_already_decided
		"approver issues":       {byApprover, approval.ErrNotYourRole.Error()},
		"too many recipients":   {tooMany, voucherdom.ErrTooMany.Error()},
		"second issuance":       {twice, voucherdom.ErrNotIssuable.Error()},
	}
	for name, r := range refused {
		if r.a.err == nil || !strings.Contains(r.a.err.Error(), r.want) {
			t.Errorf("%s: %v, want %q", name, r.a.err, r.want)
		}
	}
	for name, a := range map[string]*answer{"approve": approved, "issue": issued, "approve issuance": issueOK} {
		if a.err != nil {
			t.Errorf("%s: %v", name, a.err)
		}
	}
	want := []string{"open " + TaskKindApply, "decide task-" + TaskKindApply, "record", "open " + TaskKindIssue,
		"decide task-" + TaskKindIssue, "issue", "expire"}
	if strings.Join(rec.calls, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %v\nwant  %v", rec.calls, want)
	}
	if len(rec.statuses) != 1 || rec.statuses[0] != voucherdom.Approved {
		t.Fatalf("statuses %v", rec.statuses)
	}
}

func TestBatchRejections(t *testing.T) {
	cases := []struct {
		name    string
		updates func(e *testsuite.TestWorkflowEnvironment)
		want    voucherdom.BatchStatus
		calls   string
	}{
		{"application rejected", func(e *testsuite.TestWorkflowEnvironment) {
			at(e, time.Minute, approval.UpdateDecide, decision(TaskKindApply, false, access.Approver))
		}, voucherdom.Rejected, "open voucher_application,decide task-voucher_application"},
		{"issuance rejected", func(e *testsuite.TestWorkflowEnvironment) {
			at(e, time.Minute, approval.UpdateDecide, decision(TaskKindApply, true, access.Approver))
			at(e, 2*time.Minute, UpdateIssue, issue(access.Cashier))
			at(e, 3*time.Minute, approval.UpdateDecide, decision(TaskKindIssue, false, access.Approver))
		}, voucherdom.IssuanceRejected, "open voucher_application,decide task-voucher_application,record,open voucher_issuance,decide task-voucher_issuance"},
		{"never issued", func(e *testsuite.TestWorkflowEnvironment) {
			at(e, time.Minute, approval.UpdateDecide, decision(TaskKindApply, true, access.Approver))
		}, voucherdom.BatchExpired, "open voucher_application,decide task-voucher_application"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rec := env(t)
			c.updates(e)
			e.ExecuteWorkflow(KindBatch, batch())
			var res BatchResult
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Status != c.want || strings.Join(rec.calls, ",") != c.calls {
				t.Fatalf("status %s calls %v", res.Status, rec.calls)
			}
			if last := rec.statuses[len(rec.statuses)-1]; last != c.want {
				t.Fatalf("projected %v", rec.statuses)
			}
		})
	}
}

func TestVoid(t *testing.T) {
	for _, approve := range []bool{true, false} {
		e, rec := env(t)
		at(e, time.Minute, approval.UpdateDecide, decision(TaskKindVoid, approve, access.Approver))
		e.ExecuteWorkflow(KindVoid, VoidInput{VoidID: "d1", ProjectID: "p1", VoucherNo: "VC1", Reason: "typo", ApprovalTimeout: time.Hour})
		var res VoidResult
		if err := e.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		want, last := voucheracts.VoidCompleted, "void"
		if !approve {
			want, last = voucheracts.VoidRejected, "reject void"
		}
		if res.Status != want || rec.calls[len(rec.calls)-1] != last {
			t.Fatalf("approve=%v: %+v %v", approve, res, rec.calls)
		}
	}
}
