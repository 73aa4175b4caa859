package voucher

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/chargepay"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
)

// chargingOrder records a completed order of customer paid by paidBy.
func (f fixture) chargingOrder(t *testing.T, customer string, paidBy chargepay.Mode, amount, serviceFee string) string {
	t.Helper()
	id := uuid.NewString()
	if _, err := f.db.Exec(f.ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, card_no, customer_id,
		account_no, equipment_id, connector_no, status, amount, service_fee, discount, energy_fee, paid_by)
		values ($1,$2,$3,'card','C1','C1',$4,'C-C1','EQ1',1,'completed',$5,$6,0,$5::numeric-$6::numeric,$7)`,
		id, f.projectID, "charging/"+id, customer, amount, serviceFee, string(paidBy)); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f fixture) chargingBatch(t *testing.T, rule chargepay.Rule) []Voucher {
	t.Helper()
	id := uuid.NewString()
	b, _, err := CreateBatch(f.ctx, f.db, Batch{ID: id, ProjectID: f.projectID, TransactionNo: "B-" + id, Name: "Charging",
		FaceValue: money.MustParse("20.00"), Quantity: 5, ExpiresAt: time.Now().Add(time.Hour), Status: voucherdom.Approved,
		WorkflowID: "voucher-batch/" + id, CreatedBy: f.operator, ChargingRule: string(rule)})
	if err != nil {
		t.Fatal(err)
	}
	if err := RecordIssuance(f.ctx, f.db, IssuanceInput{BatchID: b.ID, CustomerIDs: f.customers}); err != nil {
		t.Fatal(err)
	}
	if _, err := IssueBatch(f.ctx, f.db, IssueInput{BatchID: b.ID, ProjectID: f.projectID}); err != nil {
		t.Fatal(err)
	}
	vs := f.vouchers(t, b.ID)
	if vs[0].CustomerID != f.customers[0] {
		vs[0], vs[1] = vs[1], vs[0]
	}
	for _, v := range vs {
		if v.ChargingRule != string(rule) {
			t.Fatalf("voucher %s rule %q, want %q", v.VoucherNo, v.ChargingRule, rule)
		}
	}
	return vs
}

func (f fixture) redeemOnOrder(voucherID, orderID string) (OrderRedemption, error) {
	return RedeemOnOrder(f.ctx, f.db, RedeemOnOrderInput{ID: uuid.NewString(), Projects: []string{f.projectID},
		VoucherID: voucherID, OrderID: orderID, CreatedBy: f.operator, Now: time.Now()})
}

// A service-fee voucher takes exactly the service fee off an order, back
// to the payer's wallet, once; the order's amount falls by it.
func TestVoucherOnChargingOrder(t *testing.T) {
	f := setup(t)
	service := f.chargingBatch(t, chargepay.ServiceFee)
	whole := f.chargingBatch(t, chargepay.Whole)
	wallet := ledgerdom.CustomerWallet("C-C1")
	o := f.chargingOrder(t, f.customers[0], chargepay.Wallet, "12.00", "5.00")
	before := f.balance(t, wallet)
	r, err := f.redeemOnOrder(service[0].ID, o)
	if err != nil || r.Amount.String() != "5.00" || r.OrderAmount.String() != "7.00" {
		t.Fatalf("redeem: %+v %v", r, err)
	}
	if got := f.balance(t, wallet); money.MustParse(got).Sub(money.MustParse(before)).String() != "5.00" {
		t.Fatalf("wallet %s → %s", before, got)
	}
	if got := f.balance(t, voucherdom.Account(service[0].VoucherNo)); got != "15.00" {
		t.Fatalf("voucher unused %s", got)
	}
	var amount, voucher money.Amount
	if err := f.db.QueryRow(f.ctx, `select amount, voucher_amount from charging_orders where id=$1`, o).Scan(&amount, &voucher); err != nil {
		t.Fatal(err)
	}
	if amount.String() != "7.00" || voucher.String() != "5.00" {
		t.Fatalf("order %s / %s", amount, voucher)
	}
	tests := []struct {
		name    string
		voucher string
		order   string
		want    error
	}{
		{"same voucher again", service[0].ID, o, chargepay.ErrAlreadyApplied},
		{"another voucher", whole[0].ID, o, chargepay.ErrAlreadyApplied},
		{"another customer's voucher", whole[1].ID, f.chargingOrder(t, f.customers[0], chargepay.Wallet, "3.00", "1.00"), ErrOtherCustomer},
		{"order on credit", whole[0].ID, f.chargingOrder(t, f.customers[0], chargepay.Credit, "3.00", "1.00"), chargepay.ErrCreditOrder},
		{"unknown order", whole[0].ID, uuid.NewString(), ErrOrderNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.redeemOnOrder(tt.voucher, tt.order); !errors.Is(err, tt.want) {
				t.Fatalf("redeem = %v, want %v", err, tt.want)
			}
		})
	}
	if got := f.balance(t, voucherdom.Account(whole[0].VoucherNo)); got != "20.00" {
		t.Fatalf("a refused redemption spent the voucher: %s", got)
	}
}

// Concurrent redemptions on one order: exactly one goes through.
func TestVoucherOnChargingOrderOnceUnderRace(t *testing.T) {
	f := setup(t)
	whole := f.chargingBatch(t, chargepay.Whole)
	o := f.chargingOrder(t, f.customers[0], chargepay.Wallet, "12.00", "5.00")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.redeemOnOrder(whole[0].ID, o)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, chargepay.ErrAlreadyApplied):
			t.Fatal(err)
		}
	}
	if ok != 1 || f.balance(t, voucherdom.Account(whole[0].VoucherNo)) != "8.00" {
		t.Fatalf("%d redemptions, voucher unused %s", ok, f.balance(t, voucherdom.Account(whole[0].VoucherNo)))
	}
}
