package voucher

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/tests/harness"
)

const (
	cash           = "cash"
	pendingDeliver = "pending-delivery"
	pendingRefund  = "pending-refund"
	promotion      = "voucher-promotion"
	income         = "consumption-income"
)

func wallet(m string) string       { return "meter-wallet:" + m }
func meterVoucher(m string) string { return "meter-voucher:" + m }

// TestIndividualRechargeChain: 个人充值 — apply → reject, apply → approve → book,
// under the project's policy (above 500.00 needs an approver).
func TestIndividualRechargeChain(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	const m = "M0001"
	before := books(t, cash, pendingDeliver, wallet(m))
	apply := func() applied {
		var r applied
		mustCall(t, a.cashier, "POST", "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "600.00", "transactionNo": key(t)}, http.StatusAccepted, &r)
		if r.Status != "pending_approval" {
			t.Fatalf("600.00 is %s, want pending_approval", r.Status)
		}
		return r
	}
	r := apply()
	tk := harness.PendingTask(t, a.approver, r.WorkflowID, "recharge_approval")
	moved(t, "applied", before, nil)
	var inbox struct{ Items []harness.Task }
	mustCall(t, a.approver, "GET", "/api/v1/tasks?status=pending", nil, http.StatusOK, &inbox) // no role filter: every role
	if !containsTask(inbox.Items, tk.ID) {
		t.Fatalf("GET /tasks?status=pending misses %s: %+v", tk.ID, inbox.Items)
	}
	decideChecked(t, a, tk, false)
	statusOf(t, a.cashier, "/api/v1/recharges/"+r.ID, "rejected")
	moved(t, "rejected", before, nil)

	r = apply()
	tk = harness.PendingTask(t, a.approver, r.WorkflowID, "recharge_approval")
	decideChecked(t, a, tk, true)
	statusOf(t, a.cashier, "/api/v1/recharges/"+r.ID, "completed")
	moved(t, "booked", before, map[string]string{cash: "600.00", wallet(m): "600.00"})

	// The policy is the project's: lowered to 50.00, a sale of 60.00 waits too.
	if _, err := stack.DB.Exec(t.Context(), `update projects set auto_approve_up_to=50.00 where id=$1`, stack.ProjectID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = stack.DB.Exec(context.Background(), `update projects set auto_approve_up_to=500.00 where id=$1`, stack.ProjectID)
	})
	var small applied
	mustCall(t, a.cashier, "POST", "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "60.00", "transactionNo": key(t)}, http.StatusAccepted, &small)
	if small.Status != "pending_approval" {
		t.Fatalf("60.00 under a 50.00 policy is %s", small.Status)
	}
	decideChecked(t, a, harness.PendingTask(t, a.approver, small.WorkflowID, "recharge_approval"), false)
	statusOf(t, a.cashier, "/api/v1/recharges/"+small.ID, "rejected")
	moved(t, "policy rejected", before, map[string]string{cash: "600.00", wallet(m): "600.00"})
}

// TestRefundChain: 个人退款 — apply → reject, apply → approve → book; above the
// refundable balance is refused at application.
func TestRefundChain(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	m := stack.UnsoldMeter(t, "M0002", "M0007") // an empty wallet, whatever earlier runs sold
	recharged(t, a.cashier, m, "100.00")
	before := books(t, cash, pendingRefund, wallet(m))
	fp := footprint(t)
	code, p := call(t, a.cashier, "POST", "/api/v1/refunds", map[string]string{"meterNo": m, "amount": "100.01", "transactionNo": key(t)}, nil)
	refused(t, "refund above balance", code, p, http.StatusUnprocessableEntity, "refund_exceeds_balance")
	code, p = call(t, a.approver, "POST", "/api/v1/refunds", map[string]string{"meterNo": m, "amount": "10.00", "transactionNo": key(t)}, nil)
	refused(t, "approver applies", code, p, http.StatusForbidden, "forbidden")
	if footprint(t) != fp {
		t.Fatal("refused applications wrote")
	}
	apply := func() applied {
		var r applied
		mustCall(t, a.cashier, "POST", "/api/v1/refunds", map[string]string{"meterNo": m, "amount": "40.00", "transactionNo": key(t)}, http.StatusAccepted, &r)
		return r
	}
	r := apply()
	tk := harness.PendingTask(t, a.approver, r.WorkflowID, "refund_approval")
	moved(t, "applied", before, nil)
	decideChecked(t, a, tk, false)
	statusOf(t, a.cashier, "/api/v1/refunds/"+r.ID, "rejected")
	moved(t, "rejected", before, nil)

	r = apply()
	decideChecked(t, a, harness.PendingTask(t, a.approver, r.WorkflowID, "refund_approval"), true)
	statusOf(t, a.cashier, "/api/v1/refunds/"+r.ID, "completed")
	moved(t, "booked", before, map[string]string{cash: "-40.00", wallet(m): "-40.00"})
}

type voucherView struct {
	ID         string `json:"id"`
	VoucherNo  string `json:"voucherNo"`
	CustomerID string `json:"customerId"`
	Unused     string `json:"unused"`
	Status     string `json:"status"`
}

func applyBatch(t *testing.T, a actors, quantity int) applied {
	t.Helper()
	var b applied
	mustCall(t, a.cashier, "POST", "/api/v1/voucher-batches", map[string]any{"name": "Opening week", "faceValue": "20.00",
		"quantity": quantity, "expiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339), "transactionNo": key(t)},
		http.StatusAccepted, &b)
	return b
}

func listVouchers(t *testing.T, a actors, batchID string) []voucherView {
	t.Helper()
	var list struct{ Items []voucherView }
	mustCall(t, a.cashier, "GET", "/api/v1/vouchers?batchId="+batchID, nil, http.StatusOK, &list)
	return list.Items
}

// issueVouchers runs a batch through both reviews to customers, without the
// refusal checks (the chain test has them).
func issueVouchers(t *testing.T, a actors, customerIDs []string) []voucherView {
	t.Helper()
	b := applyBatch(t, a, len(customerIDs))
	mustCall(t, a.approver, "POST", "/api/v1/tasks/"+harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_application").ID+"/approve", nil, http.StatusOK, nil)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "approved")
	mustCall(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"customerIds": customerIDs}, http.StatusAccepted, nil)
	mustCall(t, a.approver, "POST", "/api/v1/tasks/"+harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_issuance").ID+"/approve", nil, http.StatusOK, nil)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "issued")
	return listVouchers(t, a, b.ID)
}

// TestVoucherIssuanceChain: 电子券申请 → 审核 → 发放 (to an issuing group and a
// person) → 审核 → booked; each review rejected once first.
func TestVoucherIssuanceChain(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	cs := customers(t, 3)
	var group struct{ ID string }
	code, p := call(t, a.approver, "POST", "/api/v1/issuing-groups", map[string]any{"name": "x", "customerIds": cs[:2]}, nil)
	refused(t, "approver defines a group", code, p, http.StatusForbidden, "forbidden")
	mustCall(t, a.cashier, "POST", "/api/v1/issuing-groups", map[string]any{"name": "VIP " + key(t), "customerIds": cs[:2]}, http.StatusCreated, &group)
	before := books(t, promotion, cash)
	fp := footprint(t)
	code, p = call(t, a.approver, "POST", "/api/v1/voucher-batches", map[string]any{"name": "x", "faceValue": "20.00", "quantity": 1,
		"expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "transactionNo": key(t)}, nil)
	refused(t, "approver applies", code, p, http.StatusForbidden, "forbidden")
	code, p = call(t, a.cashier, "POST", "/api/v1/voucher-batches", map[string]any{"name": "x", "faceValue": "20.001", "quantity": 1,
		"expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "transactionNo": key(t)}, nil)
	refused(t, "three places", code, p, http.StatusUnprocessableEntity, "invalid_amount")
	if footprint(t) != fp {
		t.Fatal("refused applications wrote")
	}

	// The application is rejected.
	b := applyBatch(t, a, 3)
	code, p = call(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"groupId": group.ID}, nil)
	refused(t, "issue before approval", code, p, http.StatusConflict, "voucher_batch_not_issuable")
	decideChecked(t, a, harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_application"), false)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "rejected")
	moved(t, "application rejected", before, nil)

	// Approved, issued, the issuance rejected: nothing is booked.
	b = applyBatch(t, a, 3)
	decideChecked(t, a, harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_application"), true)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "approved")
	code, p = call(t, a.approver, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"groupId": group.ID}, nil)
	refused(t, "approver issues", code, p, http.StatusForbidden, "forbidden")
	code, p = call(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"customerIds": append(cs, "00000000-0000-0000-0000-000000000000")}, nil)
	refused(t, "unknown customer", code, p, http.StatusUnprocessableEntity, "invalid_field")
	mustCall(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"groupId": group.ID}, http.StatusAccepted, nil)
	code, p = call(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"groupId": group.ID}, nil)
	refused(t, "second issuance", code, p, http.StatusConflict, "voucher_batch_not_issuable")
	decideChecked(t, a, harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_issuance"), false)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "issuance_rejected")
	if vs := listVouchers(t, a, b.ID); len(vs) != 0 {
		t.Fatalf("a rejected issuance made vouchers: %+v", vs)
	}
	moved(t, "issuance rejected", before, nil)

	// Approved, issued to the group and one more person, approved: booked.
	b = applyBatch(t, a, 3)
	decideChecked(t, a, harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_application"), true)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "approved")
	mustCall(t, a.cashier, "POST", "/api/v1/voucher-batches/"+b.ID+"/issue", map[string]any{"groupId": group.ID, "customerIds": cs[2:]}, http.StatusAccepted, nil)
	decideChecked(t, a, harness.PendingTask(t, a.approver, b.WorkflowID, "voucher_issuance"), true)
	statusOf(t, a.cashier, "/api/v1/voucher-batches/"+b.ID, "issued")
	vs := listVouchers(t, a, b.ID)
	if len(vs) != 3 {
		t.Fatalf("vouchers %+v", vs)
	}
	for _, v := range vs {
		if v.Status != "active" || v.Unused != "20.00" {
			t.Fatalf("voucher %+v", v)
		}
		if got := books(t, "voucher:"+v.VoucherNo)["voucher:"+v.VoucherNo]; got != "20.00" {
			t.Fatalf("voucher account %s", got)
		}
	}
	moved(t, "issued", before, map[string]string{promotion: "60.00"}) // cash never moves: vouchers are not cash
}

// TestVoucherVoidChain: 代金券作废申请 → 审核, rejected then approved.
func TestVoucherVoidChain(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	v := issueVouchers(t, a, customers(t, 1))[0]
	account := "voucher:" + v.VoucherNo
	before := books(t, promotion, account)
	code, p := call(t, a.approver, "POST", "/api/v1/vouchers/"+v.ID+"/void", map[string]string{"reason": "x"}, nil)
	refused(t, "approver applies", code, p, http.StatusForbidden, "forbidden")

	var d applied
	mustCall(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/void", map[string]string{"reason": "issued to the wrong shop"}, http.StatusAccepted, &d)
	code, p = call(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/void", map[string]string{"reason": "again"}, nil)
	refused(t, "second void under way", code, p, http.StatusConflict, "voucher_void_under_way")
	decideChecked(t, a, harness.PendingTask(t, a.approver, d.WorkflowID, "voucher_void"), false)
	statusOf(t, a.cashier, "/api/v1/voucher-voids/"+d.ID, "rejected")
	statusOf(t, a.cashier, "/api/v1/vouchers/"+v.ID, "active")
	moved(t, "void rejected", before, nil)

	mustCall(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/void", map[string]string{"reason": "issued to the wrong shop"}, http.StatusAccepted, &d)
	decideChecked(t, a, harness.PendingTask(t, a.approver, d.WorkflowID, "voucher_void"), true)
	statusOf(t, a.cashier, "/api/v1/voucher-voids/"+d.ID, "completed")
	statusOf(t, a.cashier, "/api/v1/vouchers/"+v.ID, "voided")
	moved(t, "voided", before, map[string]string{promotion: "-20.00", account: "-20.00"})
	code, p = call(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/void", map[string]string{"reason": "again"}, nil)
	refused(t, "void a voided voucher", code, p, http.StatusConflict, "voucher_not_voidable")
}

// TestRedeemedVoucherIsNotRefundable: a voucher pays part of a recharge; the
// refund bound is the cash wallet only.
func TestRedeemedVoucherIsNotRefundable(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	m := stack.UnsoldMeter(t, "M0003", "M0008") // an empty wallet, whatever earlier runs sold
	v := issueVouchers(t, a, customers(t, 1))[0]
	rid := recharged(t, a.cashier, m, "100.00")
	account := "voucher:" + v.VoucherNo
	before := books(t, cash, wallet(m), meterVoucher(m), account)
	code, p := call(t, a.approver, "POST", "/api/v1/vouchers/"+v.ID+"/redeem", map[string]string{"rechargeId": rid, "amount": "15.00", "transactionNo": key(t)}, nil)
	refused(t, "approver redeems", code, p, http.StatusForbidden, "forbidden")
	code, p = call(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/redeem", map[string]string{"rechargeId": rid, "amount": "20.01", "transactionNo": key(t)}, nil)
	refused(t, "above face value", code, p, http.StatusUnprocessableEntity, "voucher_amount_exceeded")
	moved(t, "refused", before, nil)
	k := key(t)
	mustCall(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/redeem", map[string]string{"rechargeId": rid, "amount": "15.00", "transactionNo": k}, http.StatusCreated, nil)
	mustCall(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/redeem", map[string]string{"rechargeId": rid, "amount": "15.00", "transactionNo": k}, http.StatusOK, nil)
	moved(t, "redeemed", before, map[string]string{cash: "-15.00", wallet(m): "-15.00", meterVoucher(m): "15.00", account: "-15.00"})
	code, p = call(t, a.cashier, "POST", "/api/v1/refunds", map[string]string{"meterNo": m, "amount": "85.01", "transactionNo": key(t)}, nil)
	refused(t, "refund of voucher value", code, p, http.StatusUnprocessableEntity, "refund_exceeds_balance")
}

type invoiceView struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	WorkflowID string  `json:"workflowId"`
	Amount     string  `json:"amount"`
	InvoiceNo  *string `json:"invoiceNo"`
}

// TestInvoiceChain: 开票申请 → 审核 → issued, the transactions invoiced once.
func TestInvoiceChain(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	const m = "M0004"
	r1, r2 := recharged(t, a.cashier, m, "50.00"), recharged(t, a.cashier, m, "25.50")
	body := func(ids ...string) map[string]any {
		return map[string]any{"title": "深圳某某商贸有限公司", "taxId": "91440300MA5XXXXX1X", "rechargeIds": ids, "transactionNo": key(t)}
	}
	fp := footprint(t)
	code, p := call(t, a.approver, "POST", "/api/v1/invoices", body(r1), nil)
	refused(t, "approver applies", code, p, http.StatusForbidden, "forbidden")
	if footprint(t) != fp {
		t.Fatal("refused application wrote")
	}
	var v invoiceView
	mustCall(t, a.cashier, "POST", "/api/v1/invoices", body(r1, r2), http.StatusAccepted, &v)
	code, p = call(t, a.cashier, "POST", "/api/v1/invoices", body(r2), nil)
	refused(t, "held recharge", code, p, http.StatusConflict, "already_invoiced")
	decideChecked(t, a, harness.PendingTask(t, a.approver, v.WorkflowID, "invoice_approval"), false)
	statusOf(t, a.cashier, "/api/v1/invoices/"+v.ID, "rejected")

	mustCall(t, a.cashier, "POST", "/api/v1/invoices", body(r1, r2), http.StatusAccepted, &v)
	decideChecked(t, a, harness.PendingTask(t, a.approver, v.WorkflowID, "invoice_approval"), true)
	statusOf(t, a.cashier, "/api/v1/invoices/"+v.ID, "issued")
	mustCall(t, a.cashier, "GET", "/api/v1/invoices/"+v.ID, nil, http.StatusOK, &v)
	if v.Amount != "75.50" || v.InvoiceNo == nil || len(*v.InvoiceNo) < 10 {
		t.Fatalf("issued invoice %+v", v)
	}
	code, p = call(t, a.cashier, "POST", "/api/v1/invoices", body(r1), nil)
	refused(t, "invoiced twice", code, p, http.StatusConflict, "already_invoiced")
	var je1, je2 int
	_ = stack.DB.QueryRow(t.Context(), `select count(*) from journal_entries`).Scan(&je1)
	code, raw, ctype := a.cashier.DoRaw(t, "GET", "/api/v1/invoices?format=xlsx", nil)
	if code != http.StatusOK || ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || len(raw) < 100 {
		t.Fatalf("export: %d %s %d bytes", code, ctype, len(raw))
	}
	_ = stack.DB.QueryRow(t.Context(), `select count(*) from journal_entries`).Scan(&je2)
	if je1 != je2 {
		t.Fatal("an invoice moved money")
	}
}

type closingView struct {
	ID           string  `json:"id"`
	MeterNo      string  `json:"meterNo"`
	Status       string  `json:"status"`
	WorkflowID   string  `json:"workflowId"`
	RefundID     *string `json:"refundId"`
	RefundAmount string  `json:"refundAmount"`
	FinalBalance *string `json:"finalBalance"`
	WrittenOff   *string `json:"writtenOff"`
}

// TestAccountClosing: 销户 — the refundable cash goes back through the refund
// review (rejected once: the account stays open), the voucher value is
// settled, and the closed account takes no more sales.
func TestAccountClosing(t *testing.T) {
	stack.CheckLedger(t)
	a := login(t)
	m := stack.UnsoldMeter(t, "M0005", "M0009") // an empty wallet, whatever earlier runs sold
	v := issueVouchers(t, a, customers(t, 1))[0]
	rid := recharged(t, a.cashier, m, "100.00")
	mustCall(t, a.cashier, "POST", "/api/v1/vouchers/"+v.ID+"/redeem", map[string]string{"rechargeId": rid, "amount": "20.00", "transactionNo": key(t)}, http.StatusCreated, nil)
	before := books(t, cash, wallet(m), meterVoucher(m), income, pendingRefund)
	code, p := call(t, a.approver, "POST", "/api/v1/meters/"+m+"/close", map[string]string{"transactionNo": key(t)}, nil)
	refused(t, "approver closes", code, p, http.StatusForbidden, "forbidden")

	var c closingView
	mustCall(t, a.cashier, "POST", "/api/v1/meters/"+m+"/close", map[string]string{"transactionNo": key(t), "reason": "moved out"}, http.StatusAccepted, &c)
	if c.RefundID == nil || c.RefundAmount != "80.00" {
		t.Fatalf("closing %+v: want a refund of the 80.00 cash", c)
	}
	code, p = call(t, a.cashier, "POST", "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "10.00", "transactionNo": key(t)}, nil)
	refused(t, "sale while closing", code, p, http.StatusConflict, "account_closed")
	code, p = call(t, a.cashier, "POST", "/api/v1/meters/"+m+"/close", map[string]string{"transactionNo": key(t)}, nil)
	refused(t, "second closing", code, p, http.StatusConflict, "account_closed")
	decideChecked(t, a, harness.PendingTask(t, a.approver, "refund/"+*c.RefundID, "refund_approval"), false)
	statusOf(t, a.cashier, "/api/v1/account-closings/"+c.ID, "rejected")
	moved(t, "closing rejected", before, nil)

	recharged(t, a.cashier, m, "10.00") // the account is open again
	before = moved(t, "sold again", before, map[string]string{cash: "10.00", wallet(m): "10.00"})
	mustCall(t, a.cashier, "POST", "/api/v1/meters/"+m+"/close", map[string]string{"transactionNo": key(t), "reason": "moved out"}, http.StatusAccepted, &c)
	if c.RefundAmount != "90.00" {
		t.Fatalf("closing %+v: want a refund of the 90.00 cash", c)
	}
	decideChecked(t, a, harness.PendingTask(t, a.approver, "refund/"+*c.RefundID, "refund_approval"), true)
	got := statusOf(t, a.cashier, "/api/v1/account-closings/"+c.ID, "closed")
	if got["finalBalance"] != "110.00" || got["writtenOff"] != "20.00" {
		t.Fatalf("settled %v", got)
	}
	moved(t, "closed", before, map[string]string{cash: "-90.00", wallet(m): "-90.00", meterVoucher(m): "-20.00", income: "20.00"})
	code, p = call(t, a.cashier, "POST", "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "10.00", "transactionNo": key(t)}, nil)
	refused(t, "sale to a closed account", code, p, http.StatusConflict, "account_closed")
}

func containsTask(items []harness.Task, id string) bool {
	for _, it := range items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// TestCloseWholeAccount: 销户 from the account — one account over two
// meters (一户多表) closes through the per-meter closing of each: both
// refunds reviewed, both closings settled, the same request again starts
// nothing new, and neither meter takes a sale afterwards.
func TestCloseWholeAccount(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	a := login(t)
	m1 := stack.UnsoldMeter(t, "M0011", "M0012")
	m2 := "M0012"
	if m1 == m2 {
		m2 = stack.UnsoldMeter(t, "M0010")
	}
	// One account for both meters: the second joins the first's.
	var account string
	if err := stack.DB.QueryRow(ctx, `update meters set account_id=(select account_id from meters where meter_no=$1)
		where meter_no=$2 returning account_id::text`, m1, m2).Scan(&account); err != nil {
		t.Fatal(err)
	}
	recharged(t, a.cashier, m1, "30.00")
	recharged(t, a.cashier, m2, "20.00")

	path := "/api/v1/projects/demo/accounts/" + account + "/close"
	tx := key(t) // "<tx>-<meterNo>" names each meter's closing
	code, p := call(t, a.approver, "POST", path, map[string]string{"transactionNo": tx}, nil)
	refused(t, "approver closes", code, p, http.StatusForbidden, "forbidden")
	code, p = call(t, a.cashier, "POST", "/api/v1/projects/demo/accounts/"+uuid.NewString()+"/close", map[string]string{"transactionNo": tx}, nil)
	refused(t, "unknown account", code, p, http.StatusNotFound, "not_found")

	var out struct {
		AccountID string        `json:"accountId"`
		Closings  []closingView `json:"closings"`
	}
	mustCall(t, a.cashier, "POST", path, map[string]string{"transactionNo": tx, "reason": "moved out"}, http.StatusAccepted, &out)
	if len(out.Closings) != 2 {
		t.Fatalf("closings %+v: want one per meter", out.Closings)
	}
	refunds := map[string]string{m1: "30.00", m2: "20.00"}
	// Both closings run at once: wait until each waits for its approver
	// before deciding any, so that no check that a refused decision
	// changed nothing is taken while a closing still books.
	var tasks []harness.Task
	for _, c := range out.Closings {
		if c.RefundID == nil || c.RefundAmount != refunds[c.MeterNo] {
			t.Fatalf("closing %+v: want a refund of %s", c, refunds[c.MeterNo])
		}
		tasks = append(tasks, harness.PendingTask(t, a.approver, "refund/"+*c.RefundID, "refund_approval"))
	}
	// A decided refund lets its closing go on to settle (a ledger entry):
	// each closing is settled before the next decision's nothing-changed
	// check is taken.
	for i, tk := range tasks {
		decideChecked(t, a, tk, true)
		statusOf(t, a.cashier, "/api/v1/account-closings/"+out.Closings[i].ID, "closed")
	}
	var again struct {
		Closings []closingView `json:"closings"`
	}
	mustCall(t, a.cashier, "POST", path, map[string]string{"transactionNo": tx, "reason": "moved out"}, http.StatusAccepted, &again)
	if len(again.Closings) != 2 || again.Closings[0].ID != out.Closings[0].ID || again.Closings[1].ID != out.Closings[1].ID {
		t.Errorf("the same request again: %+v, want the same closings %+v", again.Closings, out.Closings)
	}
	for _, m := range []string{m1, m2} {
		code, p = call(t, a.cashier, "POST", "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "10.00", "transactionNo": key(t)}, nil)
		refused(t, "sale to a closed account's meter", code, p, http.StatusConflict, "account_closed")
	}
}
