package recharge

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

func TestValidate(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name string
		r    Request
		err  error
	}{
		{"ok", Request{"M0005", money.MustParse("100"), "T1"}, nil},
		{"zero", Request{"M0005", money.Zero, "T1"}, ErrAmountNotPositive},
		{"negative", Request{"M0005", money.MustParse("-5"), "T1"}, ErrAmountNotPositive},
		{"too large", Request{"M0005", money.MustParse("100000.01"), "T1"}, ErrAmountTooLarge},
		{"no key", Request{"M0005", money.MustParse("1"), ""}, ErrTransactionNo},
		{"bad key", Request{"M0005", money.MustParse("1"), "a b"}, ErrTransactionNo},
		{"no meter", Request{"", money.MustParse("1"), "T"}, ErrMeterNo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(tt.r)
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("got %v want %v", err, tt.err)
			}
		})
	}
}

func TestNeedsApproval(t *testing.T) {
	p := DefaultPolicy()
	for amount, want := range map[string]bool{"500.00": false, "500.01": true, "100": false, "600": true} {
		if got := p.NeedsApproval(money.MustParse(amount)); got != want {
			t.Errorf("NeedsApproval(%s) = %v", amount, got)
		}
	}
}

func TestCheckHoardingCap(t *testing.T) {
	limit := money.MustParse("1000.00")
	tests := []struct {
		name         string
		limit        *money.Amount
		held, amount string
		err          error
	}{
		{"no cap", nil, "5000.00", "100.00", nil},
		{"below", &limit, "800.00", "100.00", nil},
		{"exactly at the cap", &limit, "900.00", "100.00", nil},
		{"one cent above", &limit, "900.01", "100.00", ErrHoardingCapExceeded},
		{"already above", &limit, "1200.00", "0.01", ErrHoardingCapExceeded},
		{"negative balance", &limit, "-50.00", "1050.00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckHoardingCap(tt.limit, money.MustParse(tt.held), money.MustParse(tt.amount))
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("CheckHoardingCap = %v, want %v", err, tt.err)
			}
		})
	}
}
