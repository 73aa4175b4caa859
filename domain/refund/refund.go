// Package refund holds the rules of taking money back from a meter-side
// prepaid meter: a refund of its balance (退电, e.g. on move-out) and the
// reversal of a mistaken sale (冲正). Both pay cash out of the meter's wallet
// and deduct the same amount from the meter.
package refund

import (
	"errors"
	"fmt"

	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

// Kind of refund.
type Kind string

const (
	Refund   Kind = "refund"   // 退电: the customer takes balance back
	Reversal Kind = "reversal" // 冲正: a mistaken recharge is undone
)

// Balance is what bounds a refund on one meter.
type Balance struct {
	// Wallet is the meter's ledger wallet: cash the platform took for it and
	// still owes. Balances the meter holds from elsewhere (an opening balance
	// loaded at installation) were never paid to us and are not refundable cash.
	Wallet money.Amount
	// Remaining is the meter's remaining money as last read; nil when the
	// meter was never read. The meter refuses to deduct more than it holds.
	Remaining *money.Amount
	// Unbooked sums refunds applied for but not yet booked (waiting for an
	// approver): the wallet does not show them yet.
	Unbooked money.Amount
	// Undelivered sums refunds the meter has not yet taken (unbooked ones
	// included): the remaining money does not show them yet.
	Undelivered money.Amount
}

// Refundable is the most a new refund may take: the smaller of what the
// ledger owes and what the meter holds, net of refunds already on their way.
func (b Balance) Refundable() money.Amount {
	out := b.Wallet.Sub(b.Unbooked)
	if b.Remaining != nil {
		if onMeter := b.Remaining.Sub(b.Undelivered); onMeter.Cmp(out) < 0 {
			out = onMeter
		}
	}
	if out.IsNegative() {
		return money.Zero
	}
	return out
}

// ErrExceedsBalance refuses a refund above the refundable balance.
var ErrExceedsBalance = errors.New("refund exceeds the refundable balance")

// Check refuses an amount above the refundable balance.
func (b Balance) Check(amount money.Amount) error {
	if r := b.Refundable(); amount.GreaterThan(r) {
		return fmt.Errorf("%s > refundable %s: %w", amount, r, ErrExceedsBalance)
	}
	return nil
}

// ErrNotReversible refuses a reversal of a recharge that did not complete:
// only a sale the meter took has anything to undo.
var ErrNotReversible = errors.New("only a completed recharge can be reversed")

// CheckReversible reports whether a recharge in status s can be reversed.
func CheckReversible(s rechargedom.Status) error {
	if s != rechargedom.Completed {
		return fmt.Errorf("recharge is %s: %w", s, ErrNotReversible)
	}
	return nil
}
