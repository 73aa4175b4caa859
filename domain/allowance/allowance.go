// Package allowance holds the rules of the monthly allowance (月补电量,
// issue 20 §4): a quantity of kWh or money credited to each eligible
// meter's account once a month, paid by the property company's allowance
// (subsidy) account.
package allowance

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

// Basis says what the quantity counts.
type Basis string

const (
	KWh   Basis = "kwh"   // kWh on the meter's register, priced like a sale by kWh
	Money Basis = "money" // an amount of money
)

// Errors of Validate; the API maps them to invalid_field.
var (
	ErrBasis    = errors.New("basis must be kwh or money")
	ErrQuantity = errors.New("quantity must be a decimal string of zero or more with at most 2 places, e.g. \"10.00\" (0 is none)")
)

// Setting is a project's allowance, or a meter's own (which replaces it).
type Setting struct {
	Basis    Basis           `json:"basis"`
	Quantity decimal.Decimal `json:"quantity"`
}

// Validate checks a setting; a zero quantity means no allowance.
func (s Setting) Validate() error {
	if s.Basis != KWh && s.Basis != Money {
		return ErrBasis
	}
	if s.Quantity.IsNegative() || s.Quantity.Exponent() < -2 || s.Quantity.GreaterThan(decimal.NewFromInt(1_000_000)) {
		return ErrQuantity
	}
	return nil
}

// Amount is the money a meter is credited: the quantity itself, or kWh ×
// CT × PT × the meter's price rounded to the cent, the rule of a sale by kWh
// (domain/recharge.KWhAmount), so n kWh of allowance buys what the register
// counts as n kWh.
func (s Setting) Amount(price money.Price, ctRatio, ptRatio int64) (money.Amount, error) {
	if s.Basis == Money {
		a, err := money.Parse(s.Quantity.StringFixed(2))
		if err != nil {
			return money.Zero, fmt.Errorf("allowance amount: %w", err)
		}
		return a, nil
	}
	return rechargedom.KWhAmount(s.Quantity, price, ctRatio, ptRatio)
}

// China is the local time of months (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Period is the month (YYYY-MM, China time) that t falls in.
func Period(t time.Time) string { return t.In(china).Format("2006-01") }

// ParsePeriod checks a YYYY-MM month.
func ParsePeriod(s string) (string, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return "", fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return t.Format("2006-01"), nil
}

// TransactionNo is the allowance recharge's idempotency key: one per meter
// and month (the recharges' unique transaction number per project).
func TransactionNo(meterNo, period string) string { return "allowance-" + period + "-" + meterNo }
