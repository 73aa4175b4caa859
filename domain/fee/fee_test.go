package fee

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

func TestCharge(t *testing.T) {
	area := func(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
	for _, tc := range []struct {
		name  string
		basis Basis
		amt   string
		area  *decimal.Decimal
		want  string
		err   error
	}{
		{"fixed ignores area", Fixed, "1200.00", area("88.5"), "1200.00", nil},
		{"fixed without area", Fixed, "300.00", nil, "300.00", nil},
		{"per m2 times area", PerM2, "2.50", area("88.50"), "221.25", nil},
		{"per m2 rounds to cents", PerM2, "3.33", area("10.125"), "33.72", nil},
		{"per m2 without area", PerM2, "2.50", nil, "0.00", ErrNoArea},
		{"per m2 zero area", PerM2, "2.50", area("0"), "0.00", ErrAreaValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule{Kind: Rent, Basis: tc.basis, Amount: money.MustParse(tc.amt), DayOfMonth: 1}
			got, err := s.Charge(tc.area)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got.String() != tc.want {
				t.Fatalf("charge %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse("2006-01-02", s); return v }
	for _, tc := range []struct {
		name string
		day  int
		date string
		want bool
	}{
		{"its day", 15, "2026-03-15", true},
		{"the day before", 15, "2026-03-14", false},
		{"31 in a 31-day month", 31, "2026-01-31", true},
		{"31 not on the 30th of a 31-day month", 31, "2026-01-30", false},
		{"31 moves to 30 April", 31, "2026-04-30", true},
		{"31 moves to 28 February", 31, "2026-02-28", true},
		{"29 moves to 28 February", 29, "2026-02-28", true},
		{"29 on 29 February of a leap year", 29, "2028-02-29", true},
		{"29 not on 28 February of a leap year", 29, "2028-02-28", false},
		{"30 moves to 29 February of a leap year", 30, "2028-02-29", true},
		{"day 1", 1, "2026-02-01", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule{Kind: Rent, Basis: Fixed, Amount: money.MustParse("1.00"), DayOfMonth: tc.day}
			if got := s.Due(d(tc.date)); got != tc.want {
				t.Fatalf("due(%d, %s) = %v, want %v", tc.day, tc.date, got, tc.want)
			}
		})
	}
}

func TestArrears(t *testing.T) {
	for _, tc := range []struct{ balance, amount, want string }{
		{"100.00", "50.00", "0.00"},
		{"50.00", "50.00", "0.00"},
		{"20.00", "50.00", "30.00"},
		{"0.00", "50.00", "50.00"},
		{"-10.00", "50.00", "50.00"},
	} {
		if got := Arrears(money.MustParse(tc.balance), money.MustParse(tc.amount)); got.String() != tc.want {
			t.Errorf("arrears(%s, %s) = %s, want %s", tc.balance, tc.amount, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Schedule{Kind: Capacity, Basis: PerM2, Amount: money.MustParse("1.00"), DayOfMonth: 31}
	for _, tc := range []struct {
		name string
		edit func(*Schedule)
		want error
	}{
		{"valid", func(*Schedule) {}, nil},
		{"kind", func(s *Schedule) { s.Kind = "water" }, ErrKind},
		{"basis", func(s *Schedule) { s.Basis = "per_unit" }, ErrBasis},
		{"amount", func(s *Schedule) { s.Amount = money.Zero }, ErrAmount},
		{"day 0", func(s *Schedule) { s.DayOfMonth = 0 }, ErrDay},
		{"day 32", func(s *Schedule) { s.DayOfMonth = 32 }, ErrDay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			if err := s.Validate(); !errors.Is(err, tc.want) {
				t.Fatalf("validate: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLocalDay(t *testing.T) {
	// 17:00 UTC on the 30th is already the 31st in China.
	got := LocalDay(time.Date(2026, 1, 30, 17, 0, 0, 0, time.UTC))
	if got.Format("2006-01-02") != "2026-01-31" {
		t.Fatalf("local day %s", got)
	}
}
