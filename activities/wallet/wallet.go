// Package wallet is the Temporal face of store/wallet: the status and the
// booking of card-wallet recharges and refunds. Each activity is idempotent.
package wallet

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	walletstore "github.com/voltflow/voltflow/store/wallet"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// Inputs of the activities are the store's.
type (
	StatusInput = walletstore.StatusInput
	BookInput   = walletstore.BookInput
)

// SetWalletRequestStatus writes the status the API shows.
func (a *Activities) SetWalletRequestStatus(ctx context.Context, in StatusInput) error {
	return walletstore.SetStatus(ctx, a.DB, in)
}

// BookWalletRequest books the request and completes it; a refund the
// wallet no longer covers is a non-retryable refusal the workflow tells
// from a failure by its type.
func (a *Activities) BookWalletRequest(ctx context.Context, in BookInput) error {
	err := walletstore.Book(ctx, a.DB, in)
	var short *walletstore.BalanceError
	if errors.As(err, &short) {
		return temporal.NewNonRetryableApplicationError(short.Error(), walletstore.ErrTypeExceedsBalance, nil)
	}
	return err
}
