package ledger

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

func TestValidate(t *testing.T) {
	cash := Posting{Account: CashAccount, Kind: Asset}
	wallet := Posting{Account: MeterWallet("M1"), Kind: Liability}
	ok := Transfer("k", "recharge", "", wallet, cash, money.MustParse("10"))
	tests := []struct {
		name string
		e    Entry
		err  error
	}{
		{"balanced", ok, nil},
		{"no key", Entry{Postings: ok.Postings}, ErrNoKey},
		{"one posting", Entry{Key: "k", Postings: ok.Postings[:1]}, ErrEmpty},
		{"unbalanced", Entry{Key: "k", Postings: []Posting{
			{Account: "a", Amount: money.MustParse("1")}, {Account: "b", Amount: money.MustParse("-2")}}}, ErrUnbalanced},
		{"zero", Entry{Key: "k", Postings: []Posting{
			{Account: "a", Amount: money.Zero}, {Account: "b", Amount: money.Zero}}}, ErrZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Validate() = %v, want %v", err, tt.err)
			}
		})
	}
	if ok.Postings[0].Account != CashAccount || ok.Postings[0].Amount.String() != "10.00" {
		t.Fatalf("Transfer debits the destination: %+v", ok.Postings)
	}
}

func TestDisplay(t *testing.T) {
	if Display(Liability, money.MustParse("-5")).String() != "5.00" || Display(Asset, money.MustParse("5")).String() != "5.00" {
		t.Fatal("display sign")
	}
}
