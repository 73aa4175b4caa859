// Package voucher is the Temporal face of store/voucher (代金券): each
// activity issues, expires or voids vouchers through the store's functions.
// Each activity is idempotent.
package voucher

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	voucherstore "github.com/voltflow/voltflow/store/voucher"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// The store's types, so workflows and their histories keep the same names
// and JSON as before the store moved out.
type (
	StatusInput   = voucherstore.StatusInput
	IssuanceInput = voucherstore.IssuanceInput
	IssueInput    = voucherstore.IssueInput
	ExpireInput   = voucherstore.ExpireInput
	VoidInput     = voucherstore.VoidInput
	VoidStatus    = voucherstore.VoidStatus
)

// Statuses of a void.
const (
	VoidPending   = voucherstore.VoidPending
	VoidCompleted = voucherstore.VoidCompleted
	VoidRejected  = voucherstore.VoidRejected
)

// SetBatchStatus writes the status the API shows.
func (a *Activities) SetBatchStatus(ctx context.Context, in StatusInput) error {
	return voucherstore.SetBatchStatus(ctx, a.DB, in)
}

// RecordIssuance writes the recipients and moves the batch to issuing.
func (a *Activities) RecordIssuance(ctx context.Context, in IssuanceInput) error {
	return voucherstore.RecordIssuance(ctx, a.DB, in)
}

// IssueBatch creates and books the batch's vouchers. A batch without
// recipients is a refusal a retry cannot change (the workflow lists its type
// as non-retryable).
func (a *Activities) IssueBatch(ctx context.Context, in IssueInput) (int, error) {
	n, err := voucherstore.IssueBatch(ctx, a.DB, in)
	if errors.Is(err, voucherdom.ErrNoRecipients) {
		return n, temporal.NewNonRetryableApplicationError("batch has no recipients", "NoRecipients", voucherdom.ErrNoRecipients)
	}
	return n, err
}

// ExpireBatch expires the batch's unused vouchers.
func (a *Activities) ExpireBatch(ctx context.Context, in ExpireInput) (int, error) {
	return voucherstore.ExpireBatch(ctx, a.DB, in)
}

// RejectVoid records a refused void; the voucher stays as it was.
func (a *Activities) RejectVoid(ctx context.Context, in VoidInput) error {
	return voucherstore.RejectVoid(ctx, a.DB, in)
}

// VoidVoucher voids the voucher, booking its unused value back, and reports
// the voucher's status afterwards.
func (a *Activities) VoidVoucher(ctx context.Context, in VoidInput) (voucherdom.Status, error) {
	return voucherstore.VoidVoucher(ctx, a.DB, in)
}
