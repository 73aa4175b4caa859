// Package settlement runs the month-end settlement (月底结算日) through
// store/settlement on the main queue; settling a month again returns what
// was stored.
package settlement

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	settlementstore "github.com/voltflow/voltflow/store/settlement"
)

// ErrRefused is the application error type of a settlement that retrying
// cannot fix (the month has not ended, a later month is settled).
const ErrRefused = "settlement_refused"

// The inputs live in store/settlement, so workflows build them without
// importing this package.
type (
	DueInput    = settlementstore.DueInput
	DueResult   = settlementstore.DueResult
	SettleInput = settlementstore.SettleInput
	Settlement  = settlementstore.Settlement
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// SettlementDue is the month a scheduled run at in.At settles.
func (a *Activities) SettlementDue(ctx context.Context, in DueInput) (DueResult, error) {
	return settlementstore.Due(ctx, a.DB, in)
}

// SettleMonth closes the project's month once.
func (a *Activities) SettleMonth(ctx context.Context, in SettleInput) (Settlement, error) {
	out, err := settlementstore.Settle(ctx, a.DB, in, time.Now())
	if errors.Is(err, settlementstore.ErrNotEnded) || errors.Is(err, settlementstore.ErrLaterSettled) {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	return out, err
}
