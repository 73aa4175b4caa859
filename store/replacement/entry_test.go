package replacement

import (
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

// The replacement's entry always balances and gives the new meter what it
// took, whatever the old wallet held.
func TestEntryBalancesAndCreditsTheNewMeter(t *testing.T) {
	tests := []struct {
		name                    string
		wallet, vouchers, moved string
		newWallet, newVouchers  string // display (what is owed), "" = no posting
		postings                int
	}{
		{"sold and used some", "62.34", "0", "50.00", "50.00", "", 3},
		{"opening balance never sold", "0", "0", "23.45", "23.45", "", 2},
		{"exactly the wallet", "12.34", "0", "12.34", "12.34", "", 2},
		{"vouchers stay vouchers", "10.00", "5.00", "12.00", "7.00", "5.00", 5},
		{"nothing to move", "0", "0", "0", "", "", 0},
		{"all used up", "8.00", "0", "0", "", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry("r1", "OLD", "NEW", money.MustParse(tt.wallet), money.MustParse(tt.vouchers), money.MustParse(tt.moved))
			if len(e.Postings) != tt.postings {
				t.Fatalf("%d postings, want %d: %+v", len(e.Postings), tt.postings, e.Postings)
			}
			if tt.postings == 0 {
				return
			}
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range e.Postings {
				got[p.Account] = p.Amount.Neg().String()
			}
			if got["meter-wallet:NEW"] != tt.newWallet {
				t.Fatalf("new wallet credited %q, want %q", got["meter-wallet:NEW"], tt.newWallet)
			}
			if got["meter-voucher:NEW"] != tt.newVouchers {
				t.Fatalf("new voucher account credited %q, want %q", got["meter-voucher:NEW"], tt.newVouchers)
			}
		})
	}
}
