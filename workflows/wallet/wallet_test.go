package wallet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	inboxacts "github.com/voltflow/voltflow/activities/inbox"
	walletacts "github.com/voltflow/voltflow/activities/wallet"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

// TestWorkflow runs each path with the activities mocked and records the
// calls in order: a recharge within policy books at once, a refund always
// asks an approver, a rejection books nothing, and a refund the wallet no
// longer covers ends rejected with the reason.
func TestWorkflow(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      Input
		approve *bool
		short   bool
		want    string
		status  rechargedom.Status
	}{
		{name: "recharge by policy", in: Input{Kind: card.WalletRecharge, Method: card.Cash},
			want: "book", status: rechargedom.Completed},
		{name: "recharge approved", in: Input{Kind: card.WalletRecharge, Method: card.Transfer, NeedsApproval: true}, approve: ptr(true),
			want: "open:wallet_recharge_approval decide book", status: rechargedom.Completed},
		{name: "refund rejected", in: Input{Kind: card.WalletRefund}, approve: ptr(false),
			want: "open:wallet_refund_approval decide status:rejected", status: rechargedom.Rejected},
		{name: "refund no longer covered", in: Input{Kind: card.WalletRefund}, approve: ptr(true), short: true,
			want: "open:wallet_refund_approval decide book status:rejected", status: rechargedom.Rejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			e := s.NewTestWorkflowEnvironment()
			e.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: KindOf(tt.in.Kind)})
			e.RegisterActivity(&walletacts.Activities{})
			e.RegisterActivity(&inboxacts.Activities{})
			if err := e.SetTypedSearchAttributesOnStart(names.Attributes("demo", KindOf(tt.in.Kind), "W1", "pending_approval")); err != nil {
				t.Fatal(err)
			}
			var calls []string
			e.OnActivity("OpenTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.OpenTaskInput) (inboxacts.Task, error) {
				calls = append(calls, "open:"+in.Kind)
				return inboxacts.Task{ID: "task-1", Role: in.Role, Status: inboxacts.Pending, WorkflowID: in.WorkflowID}, nil
			})
			e.OnActivity("DecideTask", mock.Anything, mock.Anything).Return(func(_ context.Context, in inboxacts.DecideInput) (inboxacts.Task, error) {
				calls = append(calls, "decide")
				return inboxacts.Task{ID: in.TaskID}, nil
			})
			e.OnActivity("SetWalletRequestStatus", mock.Anything, mock.Anything).Return(func(_ context.Context, in walletacts.StatusInput) error {
				calls = append(calls, "status:"+string(in.Status))
				return nil
			})
			e.OnActivity("BookWalletRequest", mock.Anything, mock.Anything).Return(func(_ context.Context, in walletacts.BookInput) error {
				calls = append(calls, "book")
				if tt.short {
					return temporal.NewNonRetryableApplicationError("wallet holds less", "WalletExceedsBalance", nil)
				}
				return nil
			})
			if tt.approve != nil {
				e.RegisterDelayedCallback(func() {
					e.UpdateWorkflow(approval.UpdateDecide, "u1", &testsuite.TestUpdateCallback{
						OnReject: func(err error) { t.Errorf("decision rejected: %v", err) },
						OnAccept: func() {}, OnComplete: func(any, error) {},
					}, approval.Decision{TaskID: "task-1", Approve: *tt.approve, Roles: []access.Role{access.Approver}})
				}, time.Hour)
			}
			in := tt.in
			in.RequestID, in.ProjectID, in.CardNo, in.AccountNo, in.Amount = "r1", "p1", "W1", "C-W1", money.MustParse("100.00")
			e.ExecuteWorkflow(KindOf(in.Kind), in)
			var res Result
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(calls, " "); got != tt.want || res.Status != tt.status {
				t.Fatalf("calls %q status %s, want %q %s", got, res.Status, tt.want, tt.status)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
