package salekinds

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/voltflow/voltflow/devices/profile"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
)

// TestFullRefund sells 100.00 to a meter that holds 50.00 from its
// installation (never paid to the platform): the wallet holds 100.00, the
// meter 150.00, so a full refund (彻底退费) takes exactly 100.00 — the
// refundable balance read when it is applied for — leaving the meter 50.00
// and the wallet and the cash drawer where they were before the sale.
func TestFullRefund(t *testing.T) {
	stack.CheckLedger(t)
	m := stack.UnsoldMeter(t, "M0034", "M0044", "M0054", "M0064")
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	start, counter := stack.MeterRegisters(t, m)
	cash := cents(t, ledgerdom.CashAccount)
	code, r, p := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"100.00","transactionNo":%q}`, m, txNo(t)))
	if code != http.StatusAccepted {
		t.Fatalf("sale: %d %+v", code, p)
	}
	wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")

	if code, _, p := post(t, cashier, "/api/v1/refunds", fmt.Sprintf(`{"meterNo":%q,"amount":"1.00","full":true,"transactionNo":%q}`, m, txNo(t))); code != http.StatusUnprocessableEntity {
		t.Fatalf("full refund with an amount: %d %+v", code, p)
	}
	key := txNo(t)
	body := fmt.Sprintf(`{"meterNo":%q,"full":true,"transactionNo":%q}`, m, key)
	code, f, p := post(t, cashier, "/api/v1/refunds", body)
	if code != http.StatusAccepted || f.Status != "pending_approval" {
		t.Fatalf("full refund: %d %+v %+v", code, f, p)
	}
	if code, again, _ := post(t, cashier, "/api/v1/refunds", body); code != http.StatusAccepted || again.ID != f.ID {
		t.Fatalf("same full refund again: %d %+v", code, again)
	}
	var applied view
	cashier.Do(t, "GET", "/api/v1/refunds/"+f.ID, nil, &applied)
	if applied.Amount != "100.00" || !applied.Full {
		t.Fatalf("full refund applied for %+v; want 100.00", applied)
	}
	approve(t, approver, f.WorkflowID)
	done := wait(t, cashier, "/api/v1/refunds/", f.ID, "completed")
	after, counterAfter := stack.MeterRegisters(t, m)
	if after != start || counterAfter != counter+2 {
		t.Fatalf("meter %d→%d cents, counter %d→%d; want back to %d after a sale and a refund", start, after, counter, counterAfter, start)
	}
	if w, c := cents(t, ledgerdom.MeterWallet(m)), cents(t, ledgerdom.CashAccount)-cash; w != 0 || c != 0 {
		t.Fatalf("wallet %d, cash %+d after sale and full refund; want 0 and 0", w, c)
	}
	if s := meter(t, m).State(); s.Relay != profile.RelayClosed {
		t.Fatalf("relay %d with 50.00 left; want closed", s.Relay)
	}
	if code, _, p := post(t, cashier, "/api/v1/refunds", fmt.Sprintf(`{"meterNo":%q,"full":true,"transactionNo":%q}`, m, txNo(t))); code != http.StatusUnprocessableEntity || p.Code != "refund_exceeds_balance" {
		t.Fatalf("full refund of an empty wallet: %d %+v", code, p)
	}
	text := pdfText(t, cashier, "/api/v1/refunds/"+f.ID+"/receipt.pdf")
	contains(t, "refund receipt", text, "退费小票", "彻底退费", m, "100.00 元", key, "操作前余额", yuan(start+10000)+" 元",
		"操作后余额", yuan(start)+" 元", fmt.Sprint(*done.MeterCounter))
}

// TestRefundToZeroCutsPowerUnlessKeepPower: two meters run down to zero,
// then sold 30.00 each (relay closed again), then fully refunded. The plain
// refund leaves the meter at zero with its relay open (the meter trips for
// arrears); the one without cutting power (不断电退费) leaves it at zero in
// protect mode (保电) with the relay closed. Both books end where they began.
func TestRefundToZeroCutsPowerUnlessKeepPower(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	for _, tc := range []struct {
		meter     string
		keepPower bool
		relay     uint16
		mode      uint16
	}{
		{stack.UnsoldMeter(t, "M0035", "M0045", "M0055", "M0065"), false, profile.RelayOpen, profile.ModePrepaid},
		{stack.UnsoldMeter(t, "M0036", "M0046", "M0056", "M0066"), true, profile.RelayClosed, profile.ModeProtect},
	} {
		t.Run(fmt.Sprintf("keepPower=%v", tc.keepPower), func(t *testing.T) {
			m := tc.meter
			meter(t, m).ClearRemaining()
			if s := meter(t, m).State(); s.Remaining != 0 || s.Relay != profile.RelayOpen {
				t.Fatalf("cleared meter: %+v", s)
			}
			cash := cents(t, ledgerdom.CashAccount)
			_, r, _ := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"30.00","transactionNo":%q}`, m, txNo(t)))
			wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")
			if s := meter(t, m).State(); s.Remaining != 3000 || s.Relay != profile.RelayClosed {
				t.Fatalf("after the sale: remaining %d relay %d; want 3000 closed", s.Remaining, s.Relay)
			}
			_, counter := stack.MeterRegisters(t, m)
			code, f, p := post(t, cashier, "/api/v1/refunds", fmt.Sprintf(`{"meterNo":%q,"full":true,"keepPower":%v,"transactionNo":%q}`, m, tc.keepPower, txNo(t)))
			if code != http.StatusAccepted {
				t.Fatalf("refund: %d %+v", code, p)
			}
			task := approve(t, approver, f.WorkflowID)
			if tc.keepPower && task.Details["keepPower"] != "true" {
				t.Errorf("approval task %v does not say the power stays on", task.Details)
			}
			done := wait(t, cashier, "/api/v1/refunds/", f.ID, "completed")
			if done.Amount != "30.00" || done.KeepPower != tc.keepPower {
				t.Fatalf("refund %+v", done)
			}
			s := meter(t, m).State()
			if s.Remaining != 0 || s.PurchaseCount != counter+1 || s.Relay != tc.relay || s.Mode != tc.mode {
				t.Fatalf("meter after the refund: remaining %d counter %d relay %d mode %d; want 0, %d, relay %d, mode %d",
					s.Remaining, s.PurchaseCount, s.Relay, s.Mode, counter+1, tc.relay, tc.mode)
			}
			if w, c := cents(t, ledgerdom.MeterWallet(m)), cents(t, ledgerdom.CashAccount)-cash; w != 0 || c != 0 {
				t.Fatalf("wallet %d, cash %+d; want 0 and 0", w, c)
			}
			if tc.keepPower {
				text := pdfText(t, cashier, "/api/v1/refunds/"+f.ID+"/receipt.pdf")
				contains(t, "keep-power receipt", text, "不断电退费", "30.00 元", "0.00 元")
			}
		})
	}
}

// TestReversalReceipt: the receipt of a reversal (冲正) names it.
func TestReversalReceipt(t *testing.T) {
	stack.CheckLedger(t)
	const m = "M0037"
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	_, r, _ := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"12.34","transactionNo":%q}`, m, txNo(t)))
	wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")
	key := txNo(t)
	code, rev, p := post(t, cashier, "/api/v1/recharges/"+r.ID+"/reverse", fmt.Sprintf(`{"transactionNo":%q,"reason":"售错表号"}`, key))
	if code != http.StatusAccepted {
		t.Fatalf("reverse: %d %+v", code, p)
	}
	approve(t, approver, rev.WorkflowID)
	wait(t, cashier, "/api/v1/refunds/", rev.ID, "completed")
	text := pdfText(t, cashier, "/api/v1/refunds/"+rev.ID+"/receipt.pdf")
	contains(t, "reversal receipt", text, "冲正小票", m, "12.34 元", key, "售错表号")
	var n int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from audit_log where action='refund.receipt' and subject=$1`, rev.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("receipt prints audited: %d, %v", n, err)
	}
}
