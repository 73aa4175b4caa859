package creditline

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

func TestCheckConsume(t *testing.T) {
	m := money.MustParse
	for _, c := range []struct {
		name   string
		acc    Account
		amount string
		want   error
	}{
		{"within", Account{Limit: m("1000.00"), Used: m("400.00"), Status: Active}, "600.00", nil},
		{"one cent over", Account{Limit: m("1000.00"), Used: m("400.00"), Status: Active}, "600.01", ErrExceedsLimit},
		{"limit lowered below used", Account{Limit: m("100.00"), Used: m("400.00"), Status: Active}, "0.01", ErrExceedsLimit},
		{"suspended", Account{Limit: m("1000.00"), Status: Suspended}, "1.00", ErrSuspended},
		{"zero", Account{Limit: m("1000.00"), Status: Active}, "0", ErrNotPositive},
		{"negative", Account{Limit: m("1000.00"), Status: Active}, "-1", ErrNotPositive},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.acc.CheckConsume(m(c.amount)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("CheckConsume(%s) = %v, want %v", c.amount, err, c.want)
			}
		})
	}
	if got := (Account{Limit: m("100.00"), Used: m("400.00")}).Available(); !got.IsZero() {
		t.Fatalf("available below zero: %s", got)
	}
}

func TestCheckRepay(t *testing.T) {
	acc := Account{Limit: money.MustParse("1000.00"), Used: money.MustParse("250.50")}
	for amount, want := range map[string]error{"250.50": nil, "250.51": ErrRepayTooLarge, "0": ErrNotPositive, "0.01": nil} {
		if err := acc.CheckRepay(money.MustParse(amount)); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("CheckRepay(%s) = %v, want %v", amount, err, want)
		}
	}
}

func TestCheckApplication(t *testing.T) {
	m := money.MustParse
	for _, c := range []struct {
		name      string
		kind      Kind
		open      bool
		current   string
		requested string
		want      error
	}{
		{"open", Open, false, "0", "5000.00", nil},
		{"open twice", Open, true, "5000.00", "6000.00", ErrAlreadyOpen},
		{"open with zero", Open, false, "0", "0", ErrLimitRange},
		{"open above cap", Open, false, "0", "10000000.01", ErrLimitRange},
		{"adjust up", Adjust, true, "5000.00", "8000.00", nil},
		{"adjust to zero", Adjust, true, "5000.00", "0", nil},
		{"adjust unchanged", Adjust, true, "5000.00", "5000.00", ErrSameLimit},
		{"adjust without account", Adjust, false, "0", "100.00", ErrNotOpen},
		{"adjust negative", Adjust, true, "5000.00", "-1.00", ErrLimitRange},
		{"unknown kind", Kind("close"), true, "0", "1.00", ErrUnknownKind},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckApplication(c.kind, c.open, m(c.current), m(c.requested))
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestEntriesBalance(t *testing.T) {
	a := money.MustParse("12.34")
	for _, e := range []interface{ Validate() error }{ConsumptionEntry("k1", "ACME", "m", a), RepaymentEntry("k2", "ACME", "m", a)} {
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	e := ConsumptionEntry("k1", "ACME", "m", a)
	if e.Postings[0].Account != "credit-receivable:ACME" || !e.Postings[0].Amount.Equal(a) {
		t.Fatalf("consumption debits the receivable: %+v", e.Postings)
	}
}
