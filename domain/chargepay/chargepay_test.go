package chargepay

import (
	"errors"
	"testing"

	"github.com/voltflow/voltflow/domain/money"
)

var m = money.MustParse

func TestCheckStart(t *testing.T) {
	tests := []struct {
		name string
		f    Funding
		want error
	}{
		{"credit left", Funding{Mode: Credit, Available: m("0.01")}, nil},
		{"credit exhausted", Funding{Mode: Credit, Available: m("0.00")}, ErrExhausted},
		{"credit suspended", Funding{Mode: Credit, Available: m("100.00"), Suspended: true}, ErrSuspended},
		{"wallet left", Funding{Mode: EnterpriseWallet, Available: m("5.00")}, nil},
		{"wallet overdrawn", Funding{Mode: EnterpriseWallet, Available: m("-2.00")}, ErrExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.CheckStart(); !errors.Is(err, tt.want) {
				t.Fatalf("CheckStart = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEnterpriseMode(t *testing.T) {
	if EnterpriseMode(true) != Credit || EnterpriseMode(false) != EnterpriseWallet {
		t.Fatal("mode")
	}
}

func TestVoucherAmount(t *testing.T) {
	// The order of TestSessionAcrossTOUBoundary: energy 27.00, service 17.00,
	// 3.40 off the service fee, 40.60 to pay.
	o := Order{Status: "completed", PaidBy: Wallet, Amount: m("40.60"), ServiceFee: m("17.00"), Discount: m("3.40"), Voucher: m("0")}
	tests := []struct {
		name   string
		rule   Rule
		o      Order
		unused string
		want   string
		err    error
	}{
		{"whole, voucher smaller", Whole, o, "10.00", "10.00", nil},
		{"whole, voucher larger", Whole, o, "50.00", "40.60", nil},
		{"service fee net of discount", ServiceFee, o, "50.00", "13.60", nil},
		{"service fee, voucher smaller", ServiceFee, o, "5.00", "5.00", nil},
		{"enterprise wallet order", Whole, func() Order { x := o; x.PaidBy = EnterpriseWallet; return x }(), "1.00", "1.00", nil},
		{"second voucher", Whole, func() Order { x := o; x.Voucher = m("1.00"); return x }(), "5.00", "0.00", ErrAlreadyApplied},
		{"running order", Whole, func() Order { x := o; x.Status = "charging"; return x }(), "5.00", "0.00", ErrNotSettled},
		{"credit order", Whole, func() Order { x := o; x.PaidBy = Credit; return x }(), "5.00", "0.00", ErrCreditOrder},
		{"free order", Whole, func() Order { x := o; x.Amount = m("0"); return x }(), "5.00", "0.00", ErrNothingToPay},
		{"package waived all service", ServiceFee, func() Order {
			x := o
			x.ServiceFee, x.Discount, x.Amount = m("0"), m("0"), m("27.00")
			return x
		}(), "5.00", "0.00", ErrNothingToPay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VoucherAmount(tt.rule, tt.o, m(tt.unused))
			if !errors.Is(err, tt.err) || got.String() != tt.want {
				t.Fatalf("VoucherAmount = %s, %v; want %s, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		mode                        Mode
		amount, voucher, pkg        string
		wallet, credit, ewallet, vc string
	}{
		{Wallet, "40.60", "10.00", "0.00", "30.60", "0.00", "0.00", "10.00"},
		{Credit, "12.00", "0.00", "1.50", "0.00", "12.00", "0.00", "0.00"},
		{EnterpriseWallet, "8.00", "2.00", "0.00", "0.00", "0.00", "6.00", "2.00"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			d := Split(tt.mode, m(tt.amount), m(tt.voucher), m(tt.pkg))
			if d.Wallet.String() != tt.wallet || d.Credit.String() != tt.credit || d.EnterpriseWallet.String() != tt.ewallet ||
				d.Voucher.String() != tt.vc || d.Package.String() != tt.pkg {
				t.Fatalf("Split = %+v", d)
			}
		})
	}
}

func TestRuleValid(t *testing.T) {
	for r, want := range map[Rule]bool{Whole: true, ServiceFee: true, "half": false, "": false} {
		if r.Valid() != want {
			t.Fatalf("%q valid = %v", r, !want)
		}
	}
}

func TestCheckOrderIDs(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want error
	}{
		{"one", []string{"a"}, nil},
		{"none", nil, ErrNoOrders},
		{"repeated", []string{"a", "b", "a"}, ErrOrderRepeated},
		{"too many", make([]string, MaxInvoiceOrders+1), ErrNoOrders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckOrderIDs(tt.ids); !errors.Is(err, tt.want) {
				t.Fatalf("CheckOrderIDs = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestInvoiceTotal(t *testing.T) {
	ok := InvoiceLine{OrderID: "a", Status: "completed", Amount: m("6.00")}
	tests := []struct {
		name  string
		lines []InvoiceLine
		want  string
		err   error
	}{
		{"two orders", []InvoiceLine{ok, {OrderID: "b", Status: "completed", Amount: m("18.00")}}, "24.00", nil},
		{"invoiced", []InvoiceLine{ok, {OrderID: "b", Status: "completed", Amount: m("1.00"), Invoiced: true}}, "0.00", ErrAlreadyInvoiced},
		{"failed order", []InvoiceLine{{OrderID: "c", Status: "failed", Amount: m("0")}}, "0.00", ErrNotInvoiceable},
		{"running order", []InvoiceLine{{OrderID: "c", Status: "charging", Amount: m("3.00")}}, "0.00", ErrNotInvoiceable},
		{"paid by voucher entirely", []InvoiceLine{{OrderID: "d", Status: "completed", Amount: m("0.00")}}, "0.00", ErrNotInvoiceable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InvoiceTotal(tt.lines)
			if !errors.Is(err, tt.err) || got.String() != tt.want {
				t.Fatalf("InvoiceTotal = %s, %v; want %s, %v", got, err, tt.want, tt.err)
			}
		})
	}
}
