// Package invoice is the Temporal face of store/invoice (开票): each activity
// decides one invoice through the store's functions. Each activity is
// idempotent.
package invoice

import (
	"context"

	"github.com/voltflow/voltflow/store"
	invoicestore "github.com/voltflow/voltflow/store/invoice"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// DecideInput names an invoice and the decision's reason; it is the store's,
// so a workflow's history encodes the same JSON as before the store moved out.
type DecideInput = invoicestore.DecideInput

// IssueInvoice gives an approved invoice its number and marks it issued.
func (a *Activities) IssueInvoice(ctx context.Context, in DecideInput) (string, error) {
	return invoicestore.IssueInvoice(ctx, a.DB, in)
}

// RejectInvoice records a refusal and releases the recharges.
func (a *Activities) RejectInvoice(ctx context.Context, in DecideInput) error {
	return invoicestore.RejectInvoice(ctx, a.DB, in)
}
