// Package closing books the final settlement of account closings (销户,
// M4) of prepaid meters: once the refundable remainder went back through the
// refund workflow, what the meter's accounts still hold — cash the meter used
// up and voucher value — is settled to consumption income, and the meter
// takes no more sales. The closing rows and the settlement live in
// store/closing; these are the workflow's adapters over them.
package closing

import (
	"context"

	"github.com/voltflow/voltflow/store"
	closingstore "github.com/voltflow/voltflow/store/closing"
)

// Status of a closing, as store/closing records it.
type Status = closingstore.Status

const (
	StatusClosing  = closingstore.StatusClosing
	StatusClosed   = closingstore.StatusClosed
	StatusRejected = closingstore.StatusRejected
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// RejectInput ends a closing whose refund was refused (store/closing).
type RejectInput = closingstore.RejectInput

// RejectClosing reopens the account: its refund was refused.
func (a *Activities) RejectClosing(ctx context.Context, in RejectInput) error {
	return closingstore.Reject(ctx, a.DB, in.ClosingID, in.Failure)
}

// SettleInput settles a closing (store/closing).
type SettleInput = closingstore.SettleInput

// Settled is the final settlement (store/closing).
type Settled = closingstore.Settled

// SettleClosing books what the meter still holds to consumption income and
// closes the account (closing.Settle).
func (a *Activities) SettleClosing(ctx context.Context, in SettleInput) (Settled, error) {
	return closingstore.Settle(ctx, a.DB, in)
}
