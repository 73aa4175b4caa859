// Package chargepay holds the rules of who pays a charging order and how
// (F3, F5, F6): a card bound to an enterprise charges on the enterprise's
// credit line, or on its prepaid wallet when it has no credit account; a
// session starts only while that funding has something available. After
// settlement a voucher may take part of the order off per its rule, once;
// the order deduction detail (订单扣费明细) splits what the order cost into
// wallet, credit, enterprise wallet, voucher and package.
package chargepay

import (
	"errors"
	"fmt"

	"github.com/voltflow/voltflow/domain/money"
)

// Mode is who paid an order.
type Mode string

const (
	Wallet           Mode = "wallet"            // the card's own prepaid wallet
	Credit           Mode = "credit"            // the enterprise's credit line (企业信用)
	EnterpriseWallet Mode = "enterprise_wallet" // the enterprise's prepaid wallet (企业充值)
)

// EnterpriseMode is how an enterprise's cards charge: on credit once the
// enterprise has a credit account, on its prepaid wallet otherwise.
func EnterpriseMode(hasCreditAccount bool) Mode {
	if hasCreditAccount {
		return Credit
	}
	return EnterpriseWallet
}

// Errors of the funding rules; the API maps them to problem codes and the
// charger to a non-Accepted authorization.
var (
	ErrExhausted = errors.New("the enterprise's credit or wallet is exhausted")
	ErrSuspended = errors.New("the enterprise's credit account is suspended")
)

// Funding is what an enterprise card may still spend.
type Funding struct {
	Mode      Mode
	Available money.Amount // credit left under the limit, or the wallet's balance
	Suspended bool         // credit only: an overdue bill stopped consumption
}

// CheckStart refuses a session when nothing is available: a session that
// could not pay a single cent is never begun.
func (f Funding) CheckStart() error {
	switch {
	case f.Mode == Credit && f.Suspended:
		return ErrSuspended
	case !f.Available.IsPositive():
		return fmt.Errorf("%s available %s: %w", f.Mode, f.Available, ErrExhausted)
	}
	return nil
}

// Rule is what a voucher pays of a charging order.
type Rule string

const (
	Whole      Rule = "whole"       // any part of the order's amount
	ServiceFee Rule = "service_fee" // only the service fee (服务费券)
)

// Valid reports a known rule.
func (r Rule) Valid() bool { return r == Whole || r == ServiceFee }

// Order is a settled order as a voucher redemption sees it.
type Order struct {
	Status     string
	PaidBy     Mode
	Amount     money.Amount // what the order cost after discounts
	ServiceFee money.Amount // service fee due (after the package)
	Discount   money.Amount // the discount taken (off the service fee first)
	Voucher    money.Amount // already taken off by a voucher
}

// Errors of a redemption on an order.
var (
	ErrNotSettled     = errors.New("only a completed order can take a voucher")
	ErrAlreadyApplied = errors.New("the order already took a voucher")
	ErrCreditOrder    = errors.New("an order paid on enterprise credit cannot take a voucher")
	ErrNothingToPay   = errors.New("the voucher's rule leaves nothing of the order to pay")
)

// VoucherAmount is what a voucher with unused value takes off the order:
// the least of its unused value and what its rule allows (the whole
// amount, or the service fee net of the discount, never more than the
// amount). An order takes one voucher only.
func VoucherAmount(rule Rule, o Order, unused money.Amount) (money.Amount, error) {
	switch {
	case o.Status != "completed":
		return money.Zero, fmt.Errorf("order is %s: %w", o.Status, ErrNotSettled)
	case o.Voucher.IsPositive():
		return money.Zero, ErrAlreadyApplied
	case o.PaidBy == Credit:
		// The enterprise's bill lists consumption on credit as booked;
		// lowering it afterwards would make the bill disagree with the ledger.
		return money.Zero, ErrCreditOrder
	}
	allowed := o.Amount
	if rule == ServiceFee {
		allowed = o.ServiceFee.Sub(o.Discount)
		if allowed.GreaterThan(o.Amount) {
			allowed = o.Amount
		}
	}
	if allowed.GreaterThan(unused) {
		allowed = unused
	}
	if !allowed.IsPositive() {
		return money.Zero, ErrNothingToPay
	}
	return allowed, nil
}

// Deduction is the order deduction detail (订单扣费明细) of one order: what
// each source paid. Package is the service fee the monthly package waived
// (paid in advance by the package's fee), not part of Amount.
type Deduction struct {
	Wallet           money.Amount `json:"wallet"`
	Credit           money.Amount `json:"credit"`
	EnterpriseWallet money.Amount `json:"enterpriseWallet"`
	Voucher          money.Amount `json:"voucher"`
	Package          money.Amount `json:"package"`
}

// Split divides an order's amount between its payer and the voucher.
func Split(paidBy Mode, amount, voucher, packageWaived money.Amount) Deduction {
	d := Deduction{Wallet: money.Zero, Credit: money.Zero, EnterpriseWallet: money.Zero, Voucher: voucher, Package: packageWaived}
	rest := amount.Sub(voucher)
	switch paidBy {
	case Credit:
		d.Credit = rest
	case EnterpriseWallet:
		d.EnterpriseWallet = rest
	default:
		d.Wallet = rest
	}
	return d
}

// Invoicing charging orders (F7).

// MaxInvoiceOrders bounds the orders of one invoice.
const MaxInvoiceOrders = 500

// Errors of invoicing orders.
var (
	ErrNoOrders        = fmt.Errorf("an invoice names 1..%d orders", MaxInvoiceOrders)
	ErrOrderRepeated   = errors.New("an order is named twice")
	ErrNotInvoiceable  = errors.New("only a completed order with an amount to pay can be invoiced")
	ErrAlreadyInvoiced = errors.New("an order is already invoiced")
)

// CheckOrderIDs checks the orders an invoice names.
func CheckOrderIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > MaxInvoiceOrders {
		return ErrNoOrders
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return fmt.Errorf("%s: %w", id, ErrOrderRepeated)
		}
		seen[id] = true
	}
	return nil
}

// InvoiceLine is one order as an invoice finds it.
type InvoiceLine struct {
	OrderID  string
	Status   string
	Amount   money.Amount // what the payer paid (after any voucher: voucher value is not invoiced)
	Invoiced bool
}

// InvoiceTotal checks the orders and sums what their payers paid.
func InvoiceTotal(lines []InvoiceLine) (money.Amount, error) {
	sum := money.Zero
	for _, l := range lines {
		switch {
		case l.Invoiced:
			return money.Zero, fmt.Errorf("order %s: %w", l.OrderID, ErrAlreadyInvoiced)
		case l.Status != "completed" || !l.Amount.IsPositive():
			return money.Zero, fmt.Errorf("order %s (%s, %s): %w", l.OrderID, l.Status, l.Amount, ErrNotInvoiceable)
		}
		sum = sum.Add(l.Amount)
	}
	return sum, nil
}
