// Package creditline holds the rules of enterprise credit (企业信用账户):
// opening a credit account with a limit (信用额度), adjusting the limit, and
// charging consumption to credit, which stops at the limit and stops
// altogether while the account is suspended for an overdue bill.
//
// The amount used is never stored: it is the balance of the enterprise's
// credit receivable in the ledger. The limit is a parameter an approver
// sets, not money, so opening or adjusting a limit books nothing.
package creditline

import (
	"errors"
	"fmt"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

// Status of a credit account.
type Status string

const (
	Active    Status = "active"
	Suspended Status = "suspended" // an overdue bill stopped consumption on credit (停用)
)

// Account is what decides whether consumption may be charged to credit.
type Account struct {
	Limit  money.Amount `json:"limit"`
	Used   money.Amount `json:"used"` // the receivable's ledger balance
	Status Status       `json:"status"`
}

// Available is what may still be consumed on credit (never negative: a
// limit lowered below what is used leaves nothing available).
func (a Account) Available() money.Amount {
	v := a.Limit.Sub(a.Used)
	if v.IsNegative() {
		return money.Zero
	}
	return v
}

// Errors of the rules; each maps to one API problem code.
var (
	ErrNotPositive   = errors.New("amount must be greater than zero")
	ErrExceedsLimit  = errors.New("consumption exceeds the available credit")
	ErrSuspended     = errors.New("the credit account is suspended")
	ErrNotOpen       = errors.New("the enterprise has no credit account")
	ErrAlreadyOpen   = errors.New("the enterprise already has a credit account")
	ErrLimitRange    = errors.New("limit out of range")
	ErrSameLimit     = errors.New("the requested limit equals the current one")
	ErrUnknownKind   = errors.New("kind must be open or adjust")
	ErrRepayTooLarge = errors.New("repayment exceeds what the enterprise owes")
)

// CheckConsume is the rule every charge to credit passes.
func (a Account) CheckConsume(amount money.Amount) error {
	switch {
	case !amount.IsPositive():
		return ErrNotPositive
	case a.Status == Suspended:
		return ErrSuspended
	case amount.GreaterThan(a.Available()):
		return fmt.Errorf("%s > available %s (limit %s, used %s): %w", amount, a.Available(), a.Limit, a.Used, ErrExceedsLimit)
	}
	return nil
}

// CheckRepay refuses a repayment of nothing or of more than is owed, so the
// receivable never turns into a deposit (deposits go to the prepaid wallet).
func (a Account) CheckRepay(amount money.Amount) error {
	switch {
	case !amount.IsPositive():
		return ErrNotPositive
	case amount.GreaterThan(a.Used):
		return fmt.Errorf("%s > owed %s: %w", amount, a.Used, ErrRepayTooLarge)
	}
	return nil
}

// Kind of a credit application.
type Kind string

const (
	Open   Kind = "open"   // 开通信用账户
	Adjust Kind = "adjust" // 信用额度调整
)

// MaxLimit caps one enterprise's limit (a typo guard).
var MaxLimit = money.MustParse("10000000.00")

// CheckApplication validates an application against the enterprise's
// current credit account (open: whether one exists; current: its limit).
func CheckApplication(kind Kind, open bool, current, requested money.Amount) error {
	switch kind {
	case Open:
		if open {
			return ErrAlreadyOpen
		}
		if !requested.IsPositive() || requested.GreaterThan(MaxLimit) {
			return fmt.Errorf("%s not in (0, %s]: %w", requested, MaxLimit, ErrLimitRange)
		}
	case Adjust:
		if !open {
			return ErrNotOpen
		}
		if requested.IsNegative() || requested.GreaterThan(MaxLimit) {
			return fmt.Errorf("%s not in [0, %s]: %w", requested, MaxLimit, ErrLimitRange)
		}
		if requested.Equal(current) {
			return ErrSameLimit
		}
	default:
		return ErrUnknownKind
	}
	return nil
}

// Ledger accounts of credit.
const (
	ReceivablePrefix = "credit-receivable:" // what an enterprise owes for consumption on credit (应收)
	SalesCode        = "credit-sales"       // income from consumption on credit
)

// Receivable is the credit receivable of one enterprise (by its code).
func Receivable(enterpriseCode string) string { return ReceivablePrefix + enterpriseCode }

// ConsumptionEntry charges consumption to the enterprise's credit.
func ConsumptionEntry(key, enterpriseCode, memo string, amount money.Amount) ledgerdom.Entry {
	return ledgerdom.Transfer(key, "credit-consumption", memo,
		ledgerdom.Posting{Account: SalesCode, Kind: ledgerdom.Income},
		ledgerdom.Posting{Account: Receivable(enterpriseCode), Kind: ledgerdom.Asset}, amount)
}

// RepaymentEntry books cash received against the receivable (还款).
func RepaymentEntry(key, enterpriseCode, memo string, amount money.Amount) ledgerdom.Entry {
	return ledgerdom.Transfer(key, "credit-repayment", memo,
		ledgerdom.Posting{Account: Receivable(enterpriseCode), Kind: ledgerdom.Asset},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, amount)
}
