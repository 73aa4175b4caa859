// Package money is the one money type of Voltflow.
//
// Rule: amounts of money are yuan with exactly 2 decimal places; unit prices
// (yuan per kWh, m³) carry 4. Input is never rounded silently: an amount with
// more places than allowed is an error. Computed amounts (price × quantity)
// are rounded once, at the end, half away from zero ("四舍五入", the rule
// Chinese billing uses) to 2 places; the sub-cent remainder is kept by the
// caller where a seed asks for it (the change wallet of platform-side meters).
package money

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// Places of an amount of money and of a unit price.
const (
	AmountPlaces = 2
	PricePlaces  = 4
)

// Errors returned by Parse; callers map them to API problem codes.
var (
	ErrSyntax    = errors.New("not a decimal number")
	ErrPrecision = errors.New("too many decimal places")
)

var decimalSyntax = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Amount is an amount of money in yuan with 2 places. Its zero value is 0.00.
type Amount struct{ d decimal.Decimal }

// Zero is 0.00.
var Zero = Amount{}

// Parse reads a plain decimal string ("100", "100.5", "-5.00"); exponents,
// spaces and more than 2 places are refused.
func Parse(s string) (Amount, error) {
	d, err := parseDecimal(s, AmountPlaces)
	if err != nil {
		return Amount{}, err
	}
	return Amount{d}, nil
}

// MustParse is Parse for constants in code and tests.
func MustParse(s string) Amount {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// FromCents builds an amount from an integer count of 0.01 yuan (meter registers).
func FromCents(c int64) Amount { return Amount{decimal.New(c, -AmountPlaces)} }

// Round rounds a computed decimal to an amount, half away from zero.
func Round(d decimal.Decimal) Amount { return Amount{d.Round(AmountPlaces)} }

// Cents is the amount in 0.01 yuan.
func (a Amount) Cents() int64 { return a.d.Shift(AmountPlaces).IntPart() }

func (a Amount) Add(b Amount) Amount       { return Amount{a.d.Add(b.d)} }
func (a Amount) Sub(b Amount) Amount       { return Amount{a.d.Sub(b.d)} }
func (a Amount) Neg() Amount               { return Amount{a.d.Neg()} }
func (a Amount) Cmp(b Amount) int          { return a.d.Cmp(b.d) }
func (a Amount) Equal(b Amount) bool       { return a.d.Equal(b.d) }
func (a Amount) IsPositive() bool          { return a.d.IsPositive() }
func (a Amount) IsNegative() bool          { return a.d.IsNegative() }
func (a Amount) IsZero() bool              { return a.d.IsZero() }
func (a Amount) Decimal() decimal.Decimal  { return a.d }
func (a Amount) GreaterThan(b Amount) bool { return a.d.GreaterThan(b.d) }

// String formats with exactly 2 places, as the API and reports show money.
func (a Amount) String() string { return a.d.StringFixed(AmountPlaces) }

// MarshalJSON writes a decimal string ("100.00"), never a float.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// UnmarshalJSON accepts a decimal string or a bare JSON number; both are
// checked like Parse.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return fmt.Errorf("amount: %w", ErrSyntax)
	}
	s = strings.Trim(s, `"`)
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Value stores the amount in a numeric column.
func (a Amount) Value() (driver.Value, error) { return a.String(), nil }

// Scan reads a numeric column.
func (a *Amount) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		*a = Amount{decimal.NewFromInt(v)}
		return nil
	case nil:
		*a = Zero
		return nil
	default:
		return fmt.Errorf("money: cannot scan %T", src)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("money: scan %q: %w", s, err)
	}
	*a = Amount{d.Round(AmountPlaces)}
	return nil
}

// Price is a unit price with 4 places (yuan per kWh).
type Price struct{ d decimal.Decimal }

// ParsePrice reads a unit price with at most 4 places.
func ParsePrice(s string) (Price, error) {
	d, err := parseDecimal(s, PricePlaces)
	if err != nil {
		return Price{}, err
	}
	return Price{d}, nil
}

// PriceFromUnits builds a price from 0.0001 yuan units (meter registers).
func PriceFromUnits(u int64) Price { return Price{decimal.New(u, -PricePlaces)} }

// Units is the price in 0.0001 yuan.
func (p Price) Units() int64                 { return p.d.Shift(PricePlaces).IntPart() }
func (p Price) String() string               { return p.d.StringFixed(PricePlaces) }
func (p Price) Decimal() decimal.Decimal     { return p.d }
func (p Price) MarshalJSON() ([]byte, error) { return []byte(`"` + p.String() + `"`), nil }

// UnmarshalJSON accepts a decimal string or a bare JSON number with at most
// 4 places, like ParsePrice (tariffs are stored as JSON).
func (p *Price) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	v, err := ParsePrice(s)
	if err != nil {
		return fmt.Errorf("price: %w", err)
	}
	*p = v
	return nil
}

// Cost is price × quantity rounded to an amount by the one rounding rule.
func (p Price) Cost(quantity decimal.Decimal) Amount { return Round(p.d.Mul(quantity)) }

func parseDecimal(s string, places int32) (decimal.Decimal, error) {
	if !decimalSyntax.MatchString(s) || len(s) > 24 {
		return decimal.Decimal{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	if !d.Round(places).Equal(d) {
		return decimal.Decimal{}, fmt.Errorf("%q has more than %d places: %w", s, places, ErrPrecision)
	}
	return d, nil
}
