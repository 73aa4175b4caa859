// Package ledger holds the rules of Voltflow's double-entry bookkeeping (复式记账).
//
// Every balance in the platform is the sum of postings to one account; every
// journal entry's postings sum to zero. Debits are positive, credits negative.
// Entries are immutable: a mistake is corrected by a new, reversing entry.
package ledger

import (
	"errors"
	"fmt"

	"github.com/voltflow/voltflow/domain/money"
)

// Kind of account, which decides the sign a user sees for its balance.
type Kind string

const (
	Asset     Kind = "asset"     // cash, bank, receivables
	Liability Kind = "liability" // money held for customers (prepaid wallets)
	Income    Kind = "income"
	Expense   Kind = "expense"
)

// Account codes shared by every project. Per-customer accounts are made from
// these with a suffix, e.g. "meter-wallet:M0005".
const (
	CashAccount         = "cash"             // cashier's takings
	PendingDeliveryCode = "pending-delivery" // sold, not yet taken by the meter
	MeterWalletPrefix   = "meter-wallet:"    // balance held by a meter-side prepaid meter
	PendingRefundCode   = "pending-refund"   // refund payable: out of a wallet, not yet taken off the meter (退电)
)

// AdjustmentAccount is where adjustment recharges (调整电费充值) come from:
// energy credited without cash, an expense of the property company.
const AdjustmentAccount = "adjustment"

// AllowanceAccount pays the monthly allowance (月补电量): energy credited to
// each eligible meter every month, an expense of the property company.
const AllowanceAccount = "allowance"

// ConsumptionIncome is the income account energy the meters used up is
// booked to (售电收入): by billing, and by closings settling what is left.
const ConsumptionIncome = "consumption-income"

// MeterWallet is the liability account of one prepaid meter.
func MeterWallet(meterNo string) string { return MeterWalletPrefix + meterNo }

// CustomerWalletPrefix starts the liability account of a customer's prepaid
// account (e.g. the balance behind a charging card).
const CustomerWalletPrefix = "customer-wallet:"

// CustomerWallet is the liability account of one prepaid account.
func CustomerWallet(accountNo string) string { return CustomerWalletPrefix + accountNo }

// Posting moves Amount into (debit, positive) or out of (credit, negative) an account.
type Posting struct {
	Account string       `json:"account"`
	Kind    Kind         `json:"kind"`
	Amount  money.Amount `json:"amount"`
}

// Entry is one journal entry (记账凭证). Key makes booking idempotent.
type Entry struct {
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`
	Memo     string    `json:"memo"`
	Postings []Posting `json:"postings"`
}

// Errors of Validate.
var (
	ErrUnbalanced = errors.New("postings do not sum to zero")
	ErrEmpty      = errors.New("an entry needs at least two postings")
	ErrNoKey      = errors.New("an entry needs an idempotency key")
	ErrZero       = errors.New("a posting of zero moves nothing")
)

// Validate checks an entry before it is written.
func (e Entry) Validate() error {
	if e.Key == "" {
		return ErrNoKey
	}
	if len(e.Postings) < 2 {
		return ErrEmpty
	}
	sum := money.Zero
	for _, p := range e.Postings {
		if p.Account == "" {
			return fmt.Errorf("posting without account in %s", e.Key)
		}
		if p.Amount.IsZero() {
			return fmt.Errorf("%s on %s: %w", e.Key, p.Account, ErrZero)
		}
		sum = sum.Add(p.Amount)
	}
	if !sum.IsZero() {
		return fmt.Errorf("%s sums to %s: %w", e.Key, sum, ErrUnbalanced)
	}
	return nil
}

// Transfer is the common two-posting entry: amount leaves from and reaches to.
// In bookkeeping terms "to" is debited and "from" is credited.
func Transfer(key, kind, memo string, from, to Posting, amount money.Amount) Entry {
	from.Amount = amount.Neg()
	to.Amount = amount
	return Entry{Key: key, Kind: kind, Memo: memo, Postings: []Posting{to, from}}
}

// Display is the balance as a person reads it: assets and expenses are
// debit-normal, liabilities and income credit-normal.
func Display(k Kind, raw money.Amount) money.Amount {
	if k == Liability || k == Income {
		return raw.Neg()
	}
	return raw
}
