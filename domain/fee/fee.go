// Package fee holds the rules of property fees (物业费, M13): rent,
// property-management and capacity fees per unit, fixed or per m² of the
// unit's area, due monthly on a day of the month.
package fee

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Kind of fee.
type Kind string

const (
	Rent       Kind = "rent"
	Management Kind = "management"
	Capacity   Kind = "capacity"
)

// Basis says how the amount is read.
type Basis string

const (
	Fixed Basis = "fixed"  // the amount per month
	PerM2 Basis = "per_m2" // the amount per m² of the unit's area per month
)

// Errors of Validate and Charge.
var (
	ErrKind      = errors.New("kind must be rent, management or capacity")
	ErrBasis     = errors.New("basis must be fixed or per_m2")
	ErrAmount    = errors.New("amount must be positive")
	ErrDay       = errors.New("dayOfMonth must be between 1 and 31")
	ErrNoArea    = errors.New("a per_m2 fee needs the unit's area")
	ErrAreaValue = errors.New("area must be positive")
)

// Schedule is one fee as it is configured.
type Schedule struct {
	Kind       Kind
	Basis      Basis
	Amount     money.Amount
	DayOfMonth int
}

// Validate checks a schedule before it is stored.
func (s Schedule) Validate() error {
	switch s.Kind {
	case Rent, Management, Capacity:
	default:
		return ErrKind
	}
	if s.Basis != Fixed && s.Basis != PerM2 {
		return ErrBasis
	}
	if !s.Amount.IsPositive() {
		return ErrAmount
	}
	if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
		return ErrDay
	}
	return nil
}

// Charge is what the schedule costs a unit of this area (nil: unknown) in
// one month, rounded to cents.
func (s Schedule) Charge(area *decimal.Decimal) (money.Amount, error) {
	if s.Basis == Fixed {
		return s.Amount, nil
	}
	if area == nil {
		return money.Zero, ErrNoArea
	}
	if !area.IsPositive() {
		return money.Zero, ErrAreaValue
	}
	return money.Round(s.Amount.Decimal().Mul(*area)), nil
}

// DueDay is the day of the month a fee set for day falls on in that month:
// a day past the month's end (31 in April, 29–31 in February) moves to its
// last day, so every month books the fee once.
func DueDay(day int, year int, month time.Month) int {
	last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return min(day, last)
}

// Due reports whether a fee set for day is due on date (a calendar day; its
// clock and zone are ignored).
func (s Schedule) Due(date time.Time) bool {
	return date.Day() == DueDay(s.DayOfMonth, date.Year(), date.Month())
}

// Period is the month a fee booked on date belongs to.
func Period(date time.Time) string { return date.Format("2006-01") }

// LedgerKey makes a fee's booking idempotent: one entry per schedule, unit
// and period, whichever run (the schedule's, a rerun, a resumed one) gets
// there first.
func LedgerKey(scheduleID, unitID, period string) string {
	return fmt.Sprintf("fee:%s:%s:%s", scheduleID, unitID, period)
}

// IncomeAccount is the income account a kind of fee is booked to.
func IncomeAccount(k Kind) string { return "fee-income:" + string(k) }

// Arrears is how much of amount a wallet holding balance cannot cover: the
// fee is booked in full (the wallet may go negative, as energy does), and
// this much is owed.
func Arrears(balance, amount money.Amount) money.Amount {
	if balance.Cmp(amount) >= 0 {
		return money.Zero
	}
	if balance.IsNegative() {
		return amount
	}
	return amount.Sub(balance)
}

// LocalDay is the calendar day t falls on in the projects' calendar (China
// Standard Time, no DST): the fee day is a local day. A fixed zone keeps
// workflows deterministic (no tzdata lookup).
func LocalDay(t time.Time) time.Time {
	l := t.In(time.FixedZone("CST", 8*60*60))
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}
