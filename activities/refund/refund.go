// Package refund is the Temporal face of store/refund (退电 and 冲正): each
// activity books or records one step of a refund through the store's
// functions. Each activity is idempotent.
package refund

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	refunddom "github.com/voltflow/voltflow/domain/refund"
	"github.com/voltflow/voltflow/store"
	refundstore "github.com/voltflow/voltflow/store/refund"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// Inputs of the activities; they are the store's, so a workflow's history
// encodes the same JSON as before the store moved out.
type (
	StatusInput = refundstore.StatusInput
	BookInput   = refundstore.BookInput
	SettleInput = refundstore.SettleInput
)

// ErrTypeExceedsBalance is BookRefund's refusal when the wallet no longer
// covers the refund (another refund was booked since the application).
const ErrTypeExceedsBalance = refundstore.ErrTypeExceedsBalance

// SetRefundStatus writes the status the API shows.
func (a *Activities) SetRefundStatus(ctx context.Context, in StatusInput) error {
	return refundstore.SetRefundStatus(ctx, a.DB, in)
}

// BookRefund takes the amount out of the meter's wallet and marks the refund
// dispatching; a wallet that no longer covers it is a non-retryable refusal.
func (a *Activities) BookRefund(ctx context.Context, in BookInput) error {
	return refusal(refundstore.BookRefund(ctx, a.DB, in))
}

// refusal makes the store's balance refusal one a retry cannot change, typed
// for the workflow to tell it from a failure.
func refusal(err error) error {
	var short *refundstore.BalanceError
	if errors.As(err, &short) {
		return temporal.NewNonRetryableApplicationError(short.Error(), ErrTypeExceedsBalance, refunddom.ErrExceedsBalance)
	}
	return err
}

// SettleRefund pays the refund out in cash and marks it completed.
func (a *Activities) SettleRefund(ctx context.Context, in SettleInput) error {
	return refundstore.SettleRefund(ctx, a.DB, in)
}
