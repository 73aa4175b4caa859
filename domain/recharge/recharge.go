// Package recharge holds the rules of selling to a prepaid meter (售电).
package recharge

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/voltflow/voltflow/domain/money"
)

// Status of a recharge as the API shows it.
type Status string

const (
	PendingApproval Status = "pending_approval"
	Approved        Status = "approved"
	Dispatching     Status = "dispatching"
	Completed       Status = "completed"
	Rejected        Status = "rejected"
	DispatchFailed  Status = "dispatch_failed"
)

// Final reports whether nothing more will happen to a recharge by itself.
func (s Status) Final() bool { return s == Completed || s == Rejected }

// Policy decides which recharges need an approver.
type Policy struct {
	// AutoApproveUpTo: recharges up to and including this amount are approved by policy.
	AutoApproveUpTo money.Amount
	// MaxAmount caps one sale (a typo guard; the seed's 囤积金额上限 caps balances).
	MaxAmount money.Amount
}

// DefaultPolicy is the contract's demo policy: above 500.00 needs an approver.
func DefaultPolicy() Policy {
	return Policy{AutoApproveUpTo: money.MustParse("500.00"), MaxAmount: money.MustParse("100000.00")}
}

// NeedsApproval reports whether a human must approve the amount.
func (p Policy) NeedsApproval(a money.Amount) bool { return a.GreaterThan(p.AutoApproveUpTo) }

// Request is what a cashier asks for.
type Request struct {
	MeterNo       string
	Amount        money.Amount
	TransactionNo string
}

// Errors of Validate; each maps to one API problem code.
var (
	ErrAmountNotPositive = errors.New("amount must be greater than zero")
	ErrAmountTooLarge    = errors.New("amount exceeds the limit of one sale")
	ErrTransactionNo     = errors.New("transactionNo must be 1-64 characters of letters, digits, '-', '_', '.'")
	ErrMeterNo           = errors.New("meterNo is required")
)

var transactionNoSyntax = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate checks a request against the policy.
func (p Policy) Validate(r Request) error {
	if r.MeterNo == "" || len(r.MeterNo) > 64 {
		return ErrMeterNo
	}
	if !transactionNoSyntax.MatchString(r.TransactionNo) {
		return ErrTransactionNo
	}
	if !r.Amount.IsPositive() {
		return ErrAmountNotPositive
	}
	if r.Amount.GreaterThan(p.MaxAmount) {
		return fmt.Errorf("%s > %s: %w", r.Amount, p.MaxAmount, ErrAmountTooLarge)
	}
	return nil
}

// ErrHoardingCapExceeded refuses a sale that would take a meter's balance
// above its project's hoarding cap (囤积金额上限).
var ErrHoardingCapExceeded = errors.New("the sale would take the meter's balance above the project's hoarding cap")

// CheckHoardingCap refuses amount when held (what the meter holds plus sales
// on their way to it) plus amount would exceed limit; a nil limit is no cap.
func CheckHoardingCap(limit *money.Amount, held, amount money.Amount) error {
	if limit == nil {
		return nil
	}
	if after := held.Add(amount); after.GreaterThan(*limit) {
		return fmt.Errorf("%s held + %s = %s > cap %s: %w", held, amount, after, *limit, ErrHoardingCapExceeded)
	}
	return nil
}

// SameRequest reports whether a repeated transactionNo carries the same sale;
// a different body under the same key is a conflict, never a second sale.
func SameRequest(a, b Request) bool {
	return a.MeterNo == b.MeterNo && a.TransactionNo == b.TransactionNo && a.Amount.Equal(b.Amount)
}

// Confirmed reports whether the meter took a recharge: its purchase counter
// (购电次数) has reached the value the recharge created.
func Confirmed(recharge, meterCounter int) bool { return recharge > 0 && meterCounter >= recharge }
