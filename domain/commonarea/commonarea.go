// Package commonarea shares a common-area (公摊) meter's consumption cost of
// a billing period among units by a stated rule: by floor area, by the
// units' own consumption in the period, or by fixed ratios.
//
// Rounding: each share is total × weight / Σweights rounded half-up to the
// cent; the difference between the total and the sum of the rounded shares
// (at most a few cents) goes to the largest share (the first of equals, in
// the order given), so the shares always sum exactly to the total. A zero
// total gives zero shares even when no unit has a weight.
package commonarea

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Method is how a common-area meter's cost is shared.
type Method string

// The allocation methods.
const (
	ByArea        Method = "area"        // unit floor area (m²)
	ByConsumption Method = "consumption" // the unit's meters' consumption in the period (kWh)
	ByRatio       Method = "ratio"       // a fixed ratio per unit
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return m == ByArea || m == ByConsumption || m == ByRatio }

// ErrNoWeight is returned when no unit has a positive weight: the cost
// cannot be shared.
var ErrNoWeight = errors.New("no unit has a positive weight")

// Part is one unit's weight in an allocation.
type Part struct {
	UnitID string
	Weight decimal.Decimal
}

// Share is one unit's part of the total.
type Share struct {
	UnitID string
	Weight decimal.Decimal
	Amount money.Amount
}

// Allocate shares total among parts in proportion to their weights (see the
// package comment for the rounding). A negative weight or a total below
// zero is refused.
func Allocate(total money.Amount, parts []Part) ([]Share, error) {
	if total.IsNegative() {
		return nil, fmt.Errorf("total %s is negative", total)
	}
	sum := decimal.Zero
	for _, p := range parts {
		if p.Weight.IsNegative() {
			return nil, fmt.Errorf("unit %s: weight %s is negative", p.UnitID, p.Weight)
		}
		sum = sum.Add(p.Weight)
	}
	if !sum.IsPositive() {
		if total.IsZero() && len(parts) > 0 {
			// Nothing to share (a month without common-area use): zero
			// shares, whatever the weights.
			out := make([]Share, len(parts))
			for i, p := range parts {
				out[i] = Share{UnitID: p.UnitID, Weight: p.Weight}
			}
			return out, nil
		}
		return nil, ErrNoWeight
	}
	out := make([]Share, len(parts))
	booked := money.Zero
	largest := 0
	for i, p := range parts {
		// Multiply first so the division's rounding is the only one.
		a := money.Round(total.Decimal().Mul(p.Weight).DivRound(sum, 12))
		out[i] = Share{UnitID: p.UnitID, Weight: p.Weight, Amount: a}
		booked = booked.Add(a)
		if a.GreaterThan(out[largest].Amount) {
			largest = i
		}
	}
	out[largest].Amount = out[largest].Amount.Add(total.Sub(booked))
	return out, nil
}

var periodSyntax = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// Period is a billing month, YYYY-MM.
type Period string

// ParsePeriod checks a YYYY-MM period.
func ParsePeriod(s string) (Period, error) {
	if !periodSyntax.MatchString(s) {
		return "", fmt.Errorf("period %q is not YYYY-MM", s)
	}
	return Period(s), nil
}

// Bounds is the period's start and end (exclusive) in loc: the readings at
// or before each bound give the energy register at that bound.
func (p Period) Bounds(loc *time.Location) (time.Time, time.Time) {
	t, err := time.ParseInLocation("2006-01", string(p), loc)
	if err != nil {
		return time.Time{}, time.Time{}
	}
	return t, t.AddDate(0, 1, 0)
}
