// Package voucher runs vouchers (代金券, F5) as Temporal workflows:
// voucher-batch/<id> — application → review → issuance to customers or an
// issuing group → review → book → expiry; voucher-void/<id> — void
// application → review → book the unused value back.
package voucher

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	voucherstore "github.com/voltflow/voltflow/store/voucher"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the API.
const (
	KindBatch         = "voucher-batch"
	KindVoid          = "voucher-void"
	TaskKindApply     = "voucher_application" // 电子券申请审核
	TaskKindIssue     = "voucher_issuance"    // 电子券发放审核
	TaskKindVoid      = "voucher_void"        // 代金券作废申请审核
	UpdateIssue       = "issue"
	defaultReviewWait = 7 * 24 * time.Hour
)

// BatchWorkflowID is the workflow of one voucher batch.
func BatchWorkflowID(batchID string) string { return KindBatch + "/" + batchID }

// VoidWorkflowID is the workflow of one void application.
func VoidWorkflowID(voidID string) string { return KindVoid + "/" + voidID }

// BatchInput starts a batch. New fields must have a safe zero value.
type BatchInput struct {
	BatchID     string       `json:"batchId"`
	ProjectID   string       `json:"projectId"`
	ProjectCode string       `json:"projectCode"`
	Name        string       `json:"name"`
	FaceValue   money.Amount `json:"faceValue"`
	Quantity    int          `json:"quantity"`
	ExpiresAt   time.Time    `json:"expiresAt"`
	// ApprovalTimeout ends an undecided review as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
}

// Issue is a cashier's issuance (电子券发放), sent as the Update "issue":
// the recipients are already resolved (an issuing group expanded).
type Issue struct {
	CustomerIDs []string      `json:"customerIds"`
	GroupID     string        `json:"groupId,omitempty"`
	OperatorID  string        `json:"operatorId"`
	Roles       []access.Role `json:"roles"`
}

// BatchResult is the end state.
type BatchResult struct {
	Status  voucherdom.BatchStatus `json:"status"`
	Issued  int                    `json:"issued"`
	Expired int                    `json:"expired"`
}

// BatchWorkflow runs one voucher batch from application to expiry.
func BatchWorkflow(ctx workflow.Context, in BatchInput) (BatchResult, error) {
	if in.ApprovalTimeout <= 0 {
		in.ApprovalTimeout = defaultReviewWait
	}
	// Update handlers first, so an Update never finds the workflow without them.
	rev, err := approval.New(ctx)
	if err != nil {
		return BatchResult{}, err
	}
	state := voucherdom.PendingApproval
	var issuing, recorded bool
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateIssue, func(ctx workflow.Context, is Issue) (voucherdom.BatchStatus, error) {
		if issuing { // a concurrent issuance passed the validator first
			return "", voucherdom.ErrNotIssuable
		}
		issuing = true
		if err := recordIssuance(dbCtx(ctx), voucherstore.IssuanceInput{
			BatchID: in.BatchID, CustomerIDs: is.CustomerIDs, GroupID: is.GroupID}).Get(ctx, nil); err != nil {
			issuing = false
			return "", err
		}
		recorded, state = true, voucherdom.Issuing
		return state, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, is Issue) error {
		if !approval.HasRole(is.Roles, access.Cashier) {
			return approval.ErrNotYourRole
		}
		if issuing {
			return fmt.Errorf("batch is %s: %w", voucherdom.Issuing, voucherdom.ErrNotIssuable)
		}
		return voucherdom.CheckIssuance(state, in.Quantity, len(is.CustomerIDs))
	}})
	if err != nil {
		return BatchResult{}, err
	}
	// The state moves once the projection shows it: an issuance accepted
	// earlier could be overwritten by a status write still under way.
	set := func(s voucherdom.BatchStatus, reason string) error {
		err := setBatchStatus(dbCtx(ctx), voucherstore.StatusInput{
			BatchID: in.BatchID, Status: s, Reason: reason}).Get(ctx, nil)
		if err == nil {
			state = s
		}
		return err
	}

	// 电子券申请审核: the application.
	out, err := rev.Request(ctx, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindApply, Role: access.Approver, WorkflowID: BatchWorkflowID(in.BatchID),
		Subject: fmt.Sprintf("Voucher batch %q: %d × %s", in.Name, in.Quantity, in.FaceValue),
		Details: map[string]string{"batchId": in.BatchID, "name": in.Name, "faceValue": in.FaceValue.String(),
			"quantity": fmt.Sprint(in.Quantity), "expiresAt": in.ExpiresAt.UTC().Format(time.RFC3339)},
	}, in.ApprovalTimeout, nil)
	if err != nil {
		return BatchResult{}, err
	}
	if !out.Approved {
		return BatchResult{Status: voucherdom.Rejected}, set(voucherdom.Rejected, reason(out))
	}
	if err := set(voucherdom.Approved, ""); err != nil {
		return BatchResult{}, err
	}

	// 电子券发放: wait for an issuance until the vouchers would expire anyway.
	ok, err := workflow.AwaitWithTimeout(ctx, untilExpiry(ctx, in), func() bool { return recorded })
	if err != nil {
		return BatchResult{}, err
	}
	if !ok {
		if issuing { // an issuance is being recorded right now: let it finish, then expire
			_ = workflow.Await(ctx, func() bool { return recorded || !issuing })
		}
		state = voucherdom.BatchExpired // no issuance from here on
		return BatchResult{Status: voucherdom.BatchExpired}, set(voucherdom.BatchExpired, "not issued before expiry")
	}

	// 电子券发放审核: the issuance.
	rev.Again()
	out, err = rev.Request(ctx, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindIssue, Role: access.Approver, WorkflowID: BatchWorkflowID(in.BatchID),
		Subject: fmt.Sprintf("Issue voucher batch %q (%s each)", in.Name, in.FaceValue),
		Details: map[string]string{"batchId": in.BatchID, "name": in.Name, "faceValue": in.FaceValue.String()},
	}, in.ApprovalTimeout, nil)
	if err != nil {
		return BatchResult{}, err
	}
	if !out.Approved {
		return BatchResult{Status: voucherdom.IssuanceRejected}, set(voucherdom.IssuanceRejected, reason(out))
	}
	var issued int
	if err := issueBatch(dbCtx(ctx), voucherstore.IssueInput{
		BatchID: in.BatchID, ProjectID: in.ProjectID}).Get(ctx, &issued); err != nil {
		return BatchResult{}, err
	}
	state = voucherdom.Issued

	// Expiry: what is unused then goes back to promotion.
	if err := workflow.Sleep(ctx, untilExpiry(ctx, in)); err != nil {
		return BatchResult{}, err
	}
	var expired int
	if err := expireBatch(dbCtx(ctx), voucherstore.ExpireInput{
		BatchID: in.BatchID, ProjectID: in.ProjectID}).Get(ctx, &expired); err != nil {
		return BatchResult{}, err
	}
	return BatchResult{Status: voucherdom.BatchExpired, Issued: issued, Expired: expired}, nil
}

// untilExpiry is the wait until the batch expires, at least a moment so a
// batch that expires during its reviews still runs its expiry.
func untilExpiry(ctx workflow.Context, in BatchInput) time.Duration {
	if d := in.ExpiresAt.Sub(workflow.Now(ctx)); d > time.Second {
		return d
	}
	return time.Second
}

func reason(out approval.Outcome) string {
	if out.Expired {
		return "approval expired"
	}
	if out.Task.Comment != "" {
		return "rejected by approver: " + out.Task.Comment
	}
	return "rejected by approver"
}

// VoidInput starts a void application.
type VoidInput struct {
	VoidID      string `json:"voidId"`
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	VoucherNo   string `json:"voucherNo"`
	Reason      string `json:"reason"`
	// ApprovalTimeout ends an undecided review as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
}

// VoidResult is the end state: the application's and the voucher's.
type VoidResult struct {
	Status  voucherstore.VoidStatus `json:"status"`
	Voucher voucherdom.Status       `json:"voucher,omitempty"`
}

// VoidWorkflow runs one void application (代金券作废).
func VoidWorkflow(ctx workflow.Context, in VoidInput) (VoidResult, error) {
	if in.ApprovalTimeout <= 0 {
		in.ApprovalTimeout = defaultReviewWait
	}
	rev, err := approval.New(ctx)
	if err != nil {
		return VoidResult{}, err
	}
	out, err := rev.Request(ctx, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindVoid, Role: access.Approver, WorkflowID: VoidWorkflowID(in.VoidID),
		Subject: "Void voucher " + in.VoucherNo,
		Details: map[string]string{"voidId": in.VoidID, "voucherNo": in.VoucherNo, "reason": in.Reason},
	}, in.ApprovalTimeout, nil)
	if err != nil {
		return VoidResult{}, err
	}
	if !out.Approved {
		err := rejectVoid(dbCtx(ctx), voucherstore.VoidInput{VoidID: in.VoidID, Reason: reason(out)}).Get(ctx, nil)
		return VoidResult{Status: voucherstore.VoidRejected}, err
	}
	var st voucherdom.Status
	if err := voidVoucher(dbCtx(ctx), voucherstore.VoidInput{VoidID: in.VoidID}).Get(ctx, &st); err != nil {
		return VoidResult{}, err
	}
	return VoidResult{Status: voucherstore.VoidCompleted, Voucher: st}, nil
}

// dbCtx runs database activities: short, retried; refusals that retrying
// cannot fix are non-retryable application errors.
func dbCtx(ctx workflow.Context) workflow.Context {
	return options.DB(ctx, "NoRecipients")
}
