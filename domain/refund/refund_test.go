package refund

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

func ptr(s string) *money.Amount { a := money.MustParse(s); return &a }

func TestRefundable(t *testing.T) {
	tests := []struct {
		name string
		b    Balance
		want string
	}{
		{"wallet bounds when the meter holds an unpaid opening balance", Balance{Wallet: money.MustParse("100.00"), Remaining: ptr("150.00")}, "100.00"},
		{"meter bounds after consumption", Balance{Wallet: money.MustParse("100.00"), Remaining: ptr("30.50")}, "30.50"},
		{"never read: the wallet alone", Balance{Wallet: money.MustParse("80.00")}, "80.00"},
		{"pending refunds count against both", Balance{Wallet: money.MustParse("100.00"), Remaining: ptr("100.00"),
			Unbooked: money.MustParse("20.00"), Undelivered: money.MustParse("50.00")}, "50.00"},
		{"overdrawn meter refunds nothing", Balance{Wallet: money.MustParse("10.00"), Remaining: ptr("-3.00")}, "0.00"},
		{"empty wallet", Balance{Remaining: ptr("50.00")}, "0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Refundable(); got.String() != tt.want {
				t.Fatalf("Refundable() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	b := Balance{Wallet: money.MustParse("100.00"), Remaining: ptr("150.00")}
	if err := b.Check(money.MustParse("100.00")); err != nil {
		t.Fatalf("the whole refundable balance: %v", err)
	}
	if err := b.Check(money.MustParse("100.01")); !errors.Is(err, ErrExceedsBalance) {
		t.Fatalf("one cent over: %v", err)
	}
}

func TestCheckReversible(t *testing.T) {
	for _, s := range []rechargedom.Status{rechargedom.PendingApproval, rechargedom.Approved, rechargedom.Dispatching, rechargedom.DispatchFailed, rechargedom.Rejected} {
		if err := CheckReversible(s); !errors.Is(err, ErrNotReversible) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := CheckReversible(rechargedom.Completed); err != nil {
		t.Fatal(err)
	}
}
