// Package invoice runs an invoice application (开票申请) as a Temporal
// workflow, invoice/<id>: apply → review → issue (number recorded, the
// recharges stay invoiced) or reject (the recharges are released).
package invoice

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	invoicedom "github.com/voltflow/voltflow/domain/invoice"
	"github.com/voltflow/voltflow/domain/money"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	invoicestore "github.com/voltflow/voltflow/store/invoice"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/options"
)

// Names shared with the API.
const (
	Kind             = "invoice"
	TaskKindApproval = "invoice_approval"
)

// WorkflowID is the workflow of one invoice.
func WorkflowID(invoiceID string) string { return Kind + "/" + invoiceID }

// Input starts an invoice. New fields must have a safe zero value.
type Input struct {
	InvoiceID   string       `json:"invoiceId"`
	ProjectID   string       `json:"projectId"`
	ProjectCode string       `json:"projectCode"`
	Title       string       `json:"title"`
	TaxID       string       `json:"taxId"`
	Amount      money.Amount `json:"amount"`
	Lines       int          `json:"lines"`
	// ApprovalTimeout ends an undecided review as rejected (default 7 days).
	ApprovalTimeout time.Duration `json:"approvalTimeout"`
}

// Result is the end state.
type Result struct {
	Status    invoicedom.Status `json:"status"`
	InvoiceNo string            `json:"invoiceNo,omitempty"`
}

// Workflow runs one invoice application.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	if in.ApprovalTimeout <= 0 {
		in.ApprovalTimeout = 7 * 24 * time.Hour
	}
	rev, err := approval.New(ctx)
	if err != nil {
		return Result{}, err
	}
	db := options.DB(ctx)
	out, err := rev.Request(ctx, inboxstore.NewTask{
		ProjectID: in.ProjectID, Kind: TaskKindApproval, Role: access.Approver, WorkflowID: WorkflowID(in.InvoiceID),
		Subject: fmt.Sprintf("Invoice %s to %s for %d recharges", in.Amount, in.Title, in.Lines),
		Details: map[string]string{"invoiceId": in.InvoiceID, "title": in.Title, "taxId": in.TaxID, "amount": in.Amount.String()},
	}, in.ApprovalTimeout, nil)
	if err != nil {
		return Result{}, err
	}
	if !out.Approved {
		err := rejectInvoice(db, invoicestore.DecideInput{InvoiceID: in.InvoiceID, Reason: out.Refusal()}).Get(ctx, nil)
		return Result{Status: invoicedom.Rejected}, err
	}
	var no string
	if err := issueInvoice(db, invoicestore.DecideInput{InvoiceID: in.InvoiceID}).Get(ctx, &no); err != nil {
		return Result{}, err
	}
	return Result{Status: invoicedom.Issued, InvoiceNo: no}, nil
}
