package card

import (
	"errors"
	"testing"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

func TestWalletEntry(t *testing.T) {
	amount := money.MustParse("100.00")
	for _, tt := range []struct {
		name        string
		kind        WalletKind
		method      Method
		asset       string
		walletDelta string // raw posting on the wallet: credits (money held for the holder) are negative
		err         error
	}{
		{"cash recharge", WalletRecharge, Cash, ledgerdom.CashAccount, "-100.00", nil},
		{"transfer recharge", WalletRecharge, Transfer, BankAccount, "-100.00", nil},
		{"refund in cash", WalletRefund, "", ledgerdom.CashAccount, "100.00", nil},
		{"unknown method", WalletRecharge, "cheque", "", "", ErrMethod},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := WalletEntry("k", tt.kind, tt.method, "C-X", amount)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range e.Postings {
				got[p.Account] = p.Amount.String()
			}
			if got[ledgerdom.CustomerWallet("C-X")] != tt.walletDelta || len(got) != 2 || got[tt.asset] == "" {
				t.Fatalf("postings %v", got)
			}
		})
	}
}
