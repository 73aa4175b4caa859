// Package payment holds the rules of online payment that need no I/O: how
// a provider's daily bill is matched against our payment orders.
package payment

import "sort"

// Kinds of mismatch a reconciliation finds (对账差异).
const (
	PaidNotCredited = "paid_not_credited" // in the bill, not credited here
	CreditedNotPaid = "credited_not_paid" // credited here, not in the bill
	AmountDiffers   = "amount_differs"    // in both, with other amounts
)

// BillRow is one successful transaction of a provider's bill.
type BillRow struct {
	OrderNo       string `json:"orderNo"`
	ProviderTxnID string `json:"providerTxnId"`
	Cents         int64  `json:"cents"`
}

// Order is one of our orders of the day as reconciliation sees it.
type Order struct {
	OrderNo   string `json:"orderNo"`
	ProjectID string `json:"projectId"`
	Cents     int64  `json:"cents"`
	Credited  bool   `json:"credited"`
}

// Mismatch is one difference, for a finance task.
type Mismatch struct {
	Kind      string `json:"kind"`
	OrderNo   string `json:"orderNo"`
	ProjectID string `json:"projectId"` // "" when the order is not ours
	BillCents int64  `json:"billCents"`
	OurCents  int64  `json:"ourCents"`
}

// Match compares a day's bill with the day's orders, each order once: a
// billed order must be credited with the billed amount, a credited order
// must be billed. The result is sorted by order number.
func Match(bill []BillRow, orders []Order) []Mismatch {
	ours := make(map[string]Order, len(orders))
	for _, o := range orders {
		ours[o.OrderNo] = o
	}
	billed := make(map[string]bool, len(bill))
	var out []Mismatch
	for _, b := range bill {
		billed[b.OrderNo] = true
		o, ok := ours[b.OrderNo]
		switch {
		case !ok || !o.Credited:
			out = append(out, Mismatch{Kind: PaidNotCredited, OrderNo: b.OrderNo, ProjectID: o.ProjectID, BillCents: b.Cents, OurCents: o.Cents})
		case o.Cents != b.Cents:
			out = append(out, Mismatch{Kind: AmountDiffers, OrderNo: b.OrderNo, ProjectID: o.ProjectID, BillCents: b.Cents, OurCents: o.Cents})
		}
	}
	for _, o := range orders {
		if o.Credited && !billed[o.OrderNo] {
			out = append(out, Mismatch{Kind: CreditedNotPaid, OrderNo: o.OrderNo, ProjectID: o.ProjectID, OurCents: o.Cents})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OrderNo < out[j].OrderNo })
	return out
}
