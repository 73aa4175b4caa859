package charging

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

// issueVoucher runs a one-voucher batch with a charging rule through both
// reviews to one customer and returns the voucher's id.
func issueVoucher(t *testing.T, cashier, approver *harness.Client, customerID, face, rule string) string {
	t.Helper()
	var b struct{ ID, WorkflowID string }
	postOK(t, cashier, "/api/v1/voucher-batches", map[string]any{"name": "charging " + rule, "faceValue": face, "quantity": 1,
		"expiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339), "chargingRule": rule,
		"transactionNo": "VB-" + rule + "-" + customerID[:8]}, http.StatusAccepted, &b)
	batchStatus := func(want string) {
		eventually.True(t, 30*time.Second, "batch "+want, func() (bool, string) {
			var v struct{ Status string }
			cashier.Do(t, http.MethodGet, "/api/v1/voucher-batches/"+b.ID, nil, &v)
			return v.Status == want, v.Status
		})
	}
	postOK(t, approver, "/api/v1/tasks/"+harness.PendingTask(t, approver, b.WorkflowID, "voucher_application").ID+"/approve", nil, http.StatusOK, nil)
	batchStatus("approved")
	postOK(t, cashier, "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"customerIds": []string{customerID}}, http.StatusAccepted, nil)
	postOK(t, approver, "/api/v1/tasks/"+harness.PendingTask(t, approver, b.WorkflowID, "voucher_issuance").ID+"/approve", nil, http.StatusOK, nil)
	batchStatus("issued")
	var list struct {
		Items []struct{ ID, ChargingRule string }
	}
	cashier.Do(t, http.MethodGet, "/api/v1/vouchers?batchId="+b.ID, nil, &list)
	if len(list.Items) != 1 || list.Items[0].ChargingRule != rule {
		t.Fatalf("vouchers %+v", list.Items)
	}
	return list.Items[0].ID
}

// TestVoucherAndInvoiceOnChargingOrder charges 10 kWh at 平 (7.00 energy +
// 5.00 service = 12.00) on a card's wallet; a service-fee voucher of 20.00
// takes exactly 5.00 off, once; the order is invoiced for the 7.00 paid,
// once; the deduction detail splits 12.00 into wallet 7.00 and voucher
// 5.00; a monthly package's fee of 30.00 is booked from the wallet when
// bought, and only then.
func TestVoucherAndInvoiceOnChargingOrder(t *testing.T) {
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	const card = "T0000070"
	newCard(t, card, "100.00")
	var customerID string
	if err := stack.DB.QueryRow(context.Background(), `select customer_id::text from cards where card_no=$1`, card).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	serviceVoucher := issueVoucher(t, cashier, approver, customerID, "20.00", "service_fee")
	wholeVoucher := issueVoucher(t, cashier, approver, customerID, "3.00", "whole")

	s, err := chargePoint(t).StartSessionAt(10, card, at("09:30"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start: %v %v", s, err)
	}
	waitOrder(t, admin, card, "charging")
	// A running order takes no voucher.
	if code, raw, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/charging-orders/"+mustOrder(t, admin, card).ID+"/voucher",
		map[string]string{"voucherId": serviceVoucher}); code != http.StatusConflict || !strings.Contains(string(raw), "voucher_not_applicable") {
		t.Fatalf("voucher on a running order: %d %s", code, raw)
	}
	if err := s.ChargeAt(10000, 60000, at("09:40")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonLocal, at("09:40")); err != nil {
		t.Fatal(err)
	}
	o := waitOrder(t, admin, card, "completed")
	if o.Amount != "12.00" || o.ServiceFee != "5.00" || balance(t, admin, card) != "88.00" {
		t.Fatalf("order %+v, balance %s", o, balance(t, admin, card))
	}

	var red struct{ Amount, OrderAmount, VoucherAmount, Rule string }
	postOK(t, cashier, "/api/v1/charging-orders/"+o.ID+"/voucher", map[string]string{"voucherId": serviceVoucher}, http.StatusCreated, &red)
	if red.Amount != "5.00" || red.OrderAmount != "7.00" || red.Rule != "service_fee" {
		t.Fatalf("redemption %+v", red)
	}
	if got := balance(t, admin, card); got != "93.00" {
		t.Fatalf("balance after the voucher %s", got)
	}
	// Only once: the same voucher again, or another, is 409 and moves nothing.
	for _, v := range []string{serviceVoucher, wholeVoucher} {
		code, raw, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/charging-orders/"+o.ID+"/voucher", map[string]string{"voucherId": v})
		if code != http.StatusConflict || !strings.Contains(string(raw), "voucher_already_applied") {
			t.Fatalf("second redemption: %d %s", code, raw)
		}
	}
	var full struct{ Amount, VoucherAmount string }
	admin.Do(t, http.MethodGet, "/api/v1/charging-orders/"+o.ID, nil, &full)
	var v struct{ Unused, Status string }
	admin.Do(t, http.MethodGet, "/api/v1/vouchers/"+serviceVoucher, nil, &v)
	if full.Amount != "7.00" || full.VoucherAmount != "5.00" || balance(t, admin, card) != "93.00" || v.Unused != "15.00" || v.Status != "active" {
		t.Fatalf("after refusals: order %+v, voucher %+v, balance %s", full, v, balance(t, admin, card))
	}

	// Invoiced once, for what the wallet paid.
	body := map[string]any{"title": "Shenzhen Fleet Co.", "taxId": "91440300MA5G1234XY", "orderIds": []string{o.ID}}
	var inv struct{ ID, InvoiceNo, Amount string }
	postOK(t, cashier, "/api/v1/charging-invoices", body, http.StatusCreated, &inv)
	if inv.Amount != "7.00" || !strings.HasPrefix(inv.InvoiceNo, "CI") {
		t.Fatalf("invoice %+v", inv)
	}
	if code, raw, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/charging-invoices", body); code != http.StatusConflict ||
		!strings.Contains(string(raw), "already_invoiced") {
		t.Fatalf("second invoice: %d %s", code, raw)
	}
	var invoiced struct{ InvoiceID *string }
	admin.Do(t, http.MethodGet, "/api/v1/charging-orders/"+o.ID, nil, &invoiced)
	if invoiced.InvoiceID == nil || *invoiced.InvoiceID != inv.ID {
		t.Fatalf("order's invoice %v, want %s", invoiced.InvoiceID, inv.ID)
	}

	// 订单扣费明细.
	var ded struct {
		Items []struct{ OrderID, Total, PaidBy, Wallet, Credit, EnterpriseWallet, Voucher, Package string }
	}
	admin.Do(t, http.MethodGet, "/api/v1/charging-orders/deductions?cardNo="+card, nil, &ded)
	if len(ded.Items) != 1 {
		t.Fatalf("deductions %+v", ded.Items)
	}
	if d := ded.Items[0]; d.OrderID != o.ID || d.Total != "12.00" || d.PaidBy != "wallet" || d.Wallet != "7.00" || d.Voucher != "5.00" ||
		d.Credit != "0.00" || d.EnterpriseWallet != "0.00" || d.Package != "0.00" {
		t.Fatalf("deduction %+v", d)
	}
	code, _, ctype := admin.DoRaw(t, http.MethodGet, "/api/v1/charging-orders/deductions?format=xlsx&cardNo="+card, nil)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "application/vnd.openxmlformats") {
		t.Fatalf("deductions xlsx: %d %s", code, ctype)
	}

	// 终端包月: the fee is booked when the package is bought, once.
	pkg := map[string]string{"cardNo": card, "month": "2026-12", "quotaKwh": "100", "fee": "30.00"}
	postOK(t, cashier, "/api/v1/charging-packages", pkg, http.StatusCreated, nil)
	postOK(t, cashier, "/api/v1/charging-packages", pkg, http.StatusCreated, nil)
	if got := balance(t, admin, card); got != "63.00" {
		t.Fatalf("balance after the package %s", got)
	}
	pkg["fee"] = "10.00"
	if code, raw, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/charging-packages", pkg); code != http.StatusUnprocessableEntity {
		t.Fatalf("changed fee: %d %s", code, raw)
	}
}

func mustOrder(t *testing.T, c *harness.Client, cardNo string) order {
	o, ok := orderOf(t, c, cardNo)
	if !ok {
		t.Fatalf("no order of %s", cardNo)
	}
	return o
}
