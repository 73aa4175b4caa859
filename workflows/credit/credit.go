// Package credit runs the enterprise money chains as Temporal workflows,
// each apply → review (an approver in the task inbox) → book:
//
//   - enterprise-recharge/<id>: a recharge of an enterprise's prepaid wallet (企业充值);
//   - credit-limit/<applicationId>: opening a credit account with a limit
//     (开通信用账户) or adjusting the limit (信用额度调整). An approved opening
//     starts the enterprise's billing/<enterpriseId> workflow.
//
// Rejection records the decision and books nothing.
package credit

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	creditstore "github.com/voltflow/voltflow/store/credit"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/enterprisebill"
	"github.com/voltflow/voltflow/workflows/names"
	"github.com/voltflow/voltflow/workflows/options"
)

// Workflow types (also the first part of their IDs) and inbox task kinds.
const (
	KindRecharge        = "enterprise-recharge"
	KindLimit           = "credit-limit"
	TaskRechargeReview  = "enterprise_recharge_approval" // 企业充值审核
	TaskOpenReview      = "credit_open_approval"         // 企业信用额度设置审核
	TaskAdjustReview    = "credit_adjust_approval"       // 企业信用额度调整审核
	defaultReviewWindow = 7 * 24 * time.Hour
)

// RechargeWorkflowID is the workflow of one enterprise recharge.
func RechargeWorkflowID(id string) string { return KindRecharge + "/" + id }

// LimitWorkflowID is the workflow of one credit-limit application.
func LimitWorkflowID(applicationID string) string { return KindLimit + "/" + applicationID }

// RechargeInput starts an enterprise recharge. New fields need a safe zero value.
type RechargeInput struct {
	RechargeID     string       `json:"rechargeId"`
	ProjectID      string       `json:"projectId"`
	ProjectCode    string       `json:"projectCode"`
	EnterpriseID   string       `json:"enterpriseId"`
	EnterpriseCode string       `json:"enterpriseCode"`
	Amount         money.Amount `json:"amount"`
	// ApprovalTimeout ends an undecided review as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
}

// Result is the end state of a chain.
type Result struct {
	Status  rechargedom.Status `json:"status"`
	Failure string             `json:"failure,omitempty"`
}

// RechargeWorkflow is 企业充值 → 企业充值审核 → 企业充值记账.
func RechargeWorkflow(ctx workflow.Context, in RechargeInput) (Result, error) {
	rev, err := approval.New(ctx) // before anything else: an Update may come at once
	if err != nil {
		return Result{}, err
	}
	setStatus := func(s rechargedom.Status, failure string) error {
		return setEnterpriseRechargeStatus(db(ctx), creditstore.RechargeStatusInput{
			RechargeID: in.RechargeID, Status: s, Failure: failure}).Get(ctx, nil)
	}
	approved, err := review(ctx, rev, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskRechargeReview, Role: access.Approver, WorkflowID: RechargeWorkflowID(in.RechargeID),
		Subject: fmt.Sprintf("Recharge %s to enterprise %s", in.Amount, in.EnterpriseCode),
		Details: map[string]string{"rechargeId": in.RechargeID, "enterpriseId": in.EnterpriseID,
			"enterpriseCode": in.EnterpriseCode, "amount": in.Amount.String()},
	}, in.ApprovalTimeout, setStatus)
	if err != nil || !approved {
		return Result{Status: rechargedom.Rejected}, err
	}
	if err := bookEnterpriseRecharge(db(ctx), creditstore.BookRechargeInput{
		RechargeID: in.RechargeID, ProjectID: in.ProjectID, EnterpriseCode: in.EnterpriseCode, Amount: in.Amount}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	return Result{Status: rechargedom.Completed}, nil
}

// LimitInput starts a credit-limit application.
type LimitInput struct {
	ApplicationID   string          `json:"applicationId"`
	ProjectID       string          `json:"projectId"`
	ProjectCode     string          `json:"projectCode"`
	EnterpriseID    string          `json:"enterpriseId"`
	EnterpriseCode  string          `json:"enterpriseCode"`
	Kind            creditline.Kind `json:"kind"`
	Limit           money.Amount    `json:"limit"`
	PreviousLimit   string          `json:"previousLimit,omitempty"`
	ApprovalTimeout time.Duration   `json:"approvalTimeout"`
}

// LimitWorkflow reviews a credit-limit application and puts the limit in
// force; an approved opening also starts the enterprise's billing cycles.
func LimitWorkflow(ctx workflow.Context, in LimitInput) (Result, error) {
	rev, err := approval.New(ctx)
	if err != nil {
		return Result{}, err
	}
	setStatus := func(s rechargedom.Status, failure string) error {
		return setApplicationStatus(db(ctx), creditstore.ApplicationStatusInput{
			ApplicationID: in.ApplicationID, Status: s, Failure: failure}).Get(ctx, nil)
	}
	kind, subject := TaskOpenReview, fmt.Sprintf("Open credit for %s with limit %s", in.EnterpriseCode, in.Limit)
	if in.Kind == creditline.Adjust {
		kind, subject = TaskAdjustReview, fmt.Sprintf("Adjust credit limit of %s from %s to %s", in.EnterpriseCode, in.PreviousLimit, in.Limit)
	}
	approved, err := review(ctx, rev, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: kind, Role: access.Approver, WorkflowID: LimitWorkflowID(in.ApplicationID), Subject: subject,
		Details: map[string]string{"applicationId": in.ApplicationID, "enterpriseId": in.EnterpriseID, "enterpriseCode": in.EnterpriseCode,
			"kind": string(in.Kind), "limit": in.Limit.String(), "previousLimit": in.PreviousLimit},
	}, in.ApprovalTimeout, setStatus)
	if err != nil || !approved {
		return Result{Status: rechargedom.Rejected}, err
	}
	var applied creditstore.ApplyLimitResult
	if err := applyCreditLimit(db(ctx), creditstore.ApplyLimitInput{ApplicationID: in.ApplicationID}).Get(ctx, &applied); err != nil {
		return Result{}, err
	}
	if applied.Status == rechargedom.Completed && in.Kind == creditline.Open {
		if err := startBilling(ctx, in, applied); err != nil {
			return Result{}, err
		}
	}
	return Result{Status: applied.Status, Failure: applied.Failure}, nil
}

// startBilling starts billing/<enterpriseId> as a child that outlives this
// workflow; one already running (a replayed start) is left alone.
func startBilling(ctx workflow.Context, in LimitInput, applied creditstore.ApplyLimitResult) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            enterprisebill.WorkflowID(in.EnterpriseID),
		TaskQueue:             names.MainQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes: names.Attributes(in.ProjectCode, enterprisebill.Kind, in.EnterpriseCode, "active"),
	})
	child := workflow.ExecuteChildWorkflow(cctx, enterprisebill.Kind, enterprisebill.Input{
		ProjectID: in.ProjectID, ProjectCode: in.ProjectCode, EnterpriseID: in.EnterpriseID, EnterpriseCode: in.EnterpriseCode,
		Cycle: applied.Cycle, CycleNo: 1})
	err := child.GetChildWorkflowExecution().Get(ctx, nil)
	if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return fmt.Errorf("start billing of %s: %w", in.EnterpriseCode, err)
	}
	return nil
}

// review opens the task, waits for the decision and records a rejection
// (or an expiry) on the projection.
func review(ctx workflow.Context, rev *approval.Review, task inboxstore.NewTask, timeout time.Duration,
	setStatus func(rechargedom.Status, string) error) (bool, error) {
	if timeout <= 0 {
		timeout = defaultReviewWindow
	}
	out, err := rev.Request(ctx, task, timeout, nil)
	if err != nil {
		return false, err
	}
	if out.Approved {
		return true, nil
	}
	return false, setStatus(rechargedom.Rejected, out.Refusal())
}

func db(ctx workflow.Context) workflow.Context {
	return options.DB(ctx)
}
