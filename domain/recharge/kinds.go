package recharge

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Kind of sale.
type Kind string

const (
	Sale       Kind = "sale"       // 售电: cash in, energy to the meter
	Adjustment Kind = "adjustment" // 调整电费充值: credited without cash, booked to the adjustment account, always approved
	// Allowance is the monthly allowance (月补电量): made by the allowance
	// workflow, never by a cashier, booked from the allowance account.
	Allowance Kind = "allowance"
)

// Errors of the sale kinds; each maps to one API problem.
var (
	ErrKWh        = errors.New("kwh must be a decimal string greater than zero with at most 2 places, e.g. \"50.00\"")
	ErrKind       = errors.New("kind must be sale or adjustment")
	ErrReason     = errors.New("an adjustment needs a reason of 1-500 characters")
	ErrAmountKWh  = errors.New("give exactly one of amount and kwh")
	ErrPriceUnset = errors.New("the meter has no price: sell it by amount")
)

// ParseKWh reads a quantity of energy sold (电度方式): a positive decimal
// with at most two places.
func ParseKWh(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() || d.Exponent() < -2 || d.GreaterThan(decimal.NewFromInt(10_000_000)) {
		return decimal.Zero, ErrKWh
	}
	return d, nil
}

// KWhAmount prices kwh read off the meter's register (secondary side) at a
// price per primary kWh: amount = kWh × CT ratio × PT ratio × price, rounded
// to the cent half away from zero. That is the rule billing applies to a
// reading (domain/tariff: charged = Δregister × ratio × price), so a sale of
// n kWh buys what the register will count as n kWh.
func KWhAmount(kwh decimal.Decimal, price money.Price, ctRatio, ptRatio int64) (money.Amount, error) {
	if !price.Decimal().IsPositive() {
		return money.Zero, ErrPriceUnset
	}
	ratio := max(ctRatio, 1) * max(ptRatio, 1)
	a := price.Cost(kwh.Mul(decimal.NewFromInt(ratio)))
	if !a.IsPositive() {
		return money.Zero, fmt.Errorf("%s kWh at %s is less than a cent: %w", kwh, price, ErrAmountNotPositive)
	}
	return a, nil
}

// CheckReason validates an adjustment's reason.
func CheckReason(k Kind, reason string) error {
	if k == Adjustment && (reason == "" || len(reason) > 500) {
		return ErrReason
	}
	return nil
}

// Energy is a quantity of energy sold, shown as the API's convention for
// kWh: a decimal string with two places ("10.00", not "10").
type Energy struct{ decimal.Decimal }

// MarshalJSON writes the two-place string.
func (e Energy) MarshalJSON() ([]byte, error) { return []byte(`"` + e.StringFixed(2) + `"`), nil }
