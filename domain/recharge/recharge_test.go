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
