package payment_test

import (
	"reflect"
	"testing"

	paymentdom "github.com/voltflow/voltflow/domain/payment"
)

func TestMatch(t *testing.T) {
	orders := []paymentdom.Order{
		{OrderNo: "A", ProjectID: "p", Cents: 5000, Credited: true},
		{OrderNo: "B", ProjectID: "p", Cents: 3000, Credited: true},
		{OrderNo: "C", ProjectID: "p", Cents: 1000, Credited: false},
		{OrderNo: "D", ProjectID: "p", Cents: 2000, Credited: true},
	}
	tests := []struct {
		name string
		bill []paymentdom.BillRow
		want []paymentdom.Mismatch
	}{
		{"all match", []paymentdom.BillRow{{OrderNo: "A", Cents: 5000}, {OrderNo: "B", Cents: 3000}, {OrderNo: "D", Cents: 2000}}, nil},
		{"three planted", []paymentdom.BillRow{{OrderNo: "A", Cents: 5000}, {OrderNo: "B", Cents: 3100}, {OrderNo: "X", Cents: 700}, {OrderNo: "C", Cents: 1000}},
			[]paymentdom.Mismatch{
				{Kind: paymentdom.AmountDiffers, OrderNo: "B", ProjectID: "p", BillCents: 3100, OurCents: 3000},
				{Kind: paymentdom.PaidNotCredited, OrderNo: "C", ProjectID: "p", BillCents: 1000, OurCents: 1000},
				{Kind: paymentdom.CreditedNotPaid, OrderNo: "D", ProjectID: "p", OurCents: 2000},
				{Kind: paymentdom.PaidNotCredited, OrderNo: "X", BillCents: 700},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paymentdom.Match(tt.bill, orders); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
