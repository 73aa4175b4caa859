package salekinds

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
)

// TestSaleByKWh sells 3.25 kWh (电度方式) to a meter behind CT 5 × PT 2 at
// 1.2000 yuan per primary kWh: 3.25 × 10 × 1.2000 = 39.00 by hand. The
// recharge shows both, the meter takes 39.00 under the next counter, the
// books move 39.00 from cash to its wallet, and the receipt says so.
func TestSaleByKWh(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	const m = "M0031"
	if _, err := stack.DB.Exec(ctx, `update meters set ct_ratio=5, pt_ratio=2 where meter_no=$1`, m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = stack.DB.Exec(ctx, `update meters set ct_ratio=1, pt_ratio=1 where meter_no=$1`, m) })
	cashier := stack.Login(t, "cashier", "cashier")

	for _, body := range []string{
		fmt.Sprintf(`{"meterNo":%q,"amount":"10.00","kwh":"1.00","transactionNo":%q}`, m, txNo(t)), // both
		fmt.Sprintf(`{"meterNo":%q,"transactionNo":%q}`, m, txNo(t)),                               // neither
		fmt.Sprintf(`{"meterNo":%q,"kwh":"1.234","transactionNo":%q}`, m, txNo(t)),                 // three places
		fmt.Sprintf(`{"meterNo":%q,"kwh":"0.00","transactionNo":%q}`, m, txNo(t)),                  // nothing
		fmt.Sprintf(`{"meterNo":%q,"kwh":3,"transactionNo":%q}`, m, txNo(t)),                       // a number
	} {
		if code, _, p := post(t, cashier, "/api/v1/recharges", body); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %+v, want 422", body, code, p)
		}
	}

	before, counter := stack.MeterRegisters(t, m)
	cash, wallet := cents(t, ledgerdom.CashAccount), cents(t, ledgerdom.MeterWallet(m))
	key := txNo(t)
	body := fmt.Sprintf(`{"meterNo":%q,"kwh":"3.25","transactionNo":%q}`, m, key)
	code, r, p := post(t, cashier, "/api/v1/recharges", body)
	if code != http.StatusAccepted {
		t.Fatalf("sale by kWh: %d %+v", code, p)
	}
	if code, again, _ := post(t, cashier, "/api/v1/recharges", body); code != http.StatusAccepted || again.ID != r.ID {
		t.Fatalf("same sale again: %d %+v", code, again)
	}
	done := wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")
	if done.Amount != "39.00" || done.KWh != "3.25" || done.Price != "1.2000" || done.Ratio != 10 || done.Kind != "sale" {
		t.Fatalf("recharge %+v; want 39.00 for 3.25 kWh × 10 × 1.2000", done)
	}
	after, counterAfter := stack.MeterRegisters(t, m)
	if after-before != 3900 || counterAfter != counter+1 || done.MeterCounter == nil || *done.MeterCounter != int(counterAfter) {
		t.Fatalf("meter %d→%d cents, counter %d→%d (recharge %v); want +3900 once", before, after, counter, counterAfter, done.MeterCounter)
	}
	if c, w := cents(t, ledgerdom.CashAccount)-cash, cents(t, ledgerdom.MeterWallet(m))-wallet; c != 3900 || w != 3900 {
		t.Fatalf("cash +%d, wallet +%d; want +3900 each", c, w)
	}
	text := pdfText(t, cashier, "/api/v1/recharges/"+r.ID+"/receipt.pdf")
	contains(t, "sale receipt", text, "售电小票", "电度方式", "表号", m, "金额", "39.00 元", "3.25 kWh", "倍率 10", "单价 1.2000",
		"操作前余额", yuan(before)+" 元", "操作后余额", yuan(after)+" 元", "购电次数", strconv.Itoa(int(counterAfter)),
		"交易号", key, "操作员", "cashier", "已完成", projectName(t), "Shop "+m, "Tenant "+m)
}

// TestAdjustmentRecharge credits 20.00 as an adjustment (调整电费充值): a
// reason is required, an approver always decides (20.00 is far below the
// auto-approval limit), and the 20.00 comes from the adjustment account,
// not the cash drawer.
func TestAdjustmentRecharge(t *testing.T) {
	stack.CheckLedger(t)
	const m = "M0032"
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	if code, _, p := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"20.00","kind":"adjustment","transactionNo":%q}`, m, txNo(t))); code != http.StatusUnprocessableEntity || p.Field != "reason" {
		t.Fatalf("adjustment without a reason: %d %+v", code, p)
	}
	if code, _, p := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"20.00","kind":"gift","reason":"x","transactionNo":%q}`, m, txNo(t))); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown kind: %d %+v", code, p)
	}
	before, counter := stack.MeterRegisters(t, m)
	cash, adj, wallet := cents(t, ledgerdom.CashAccount), cents(t, ledgerdom.AdjustmentAccount), cents(t, ledgerdom.MeterWallet(m))
	key := txNo(t)
	code, r, p := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"20.00","kind":"adjustment","reason":"电表故障补偿","transactionNo":%q}`, m, key))
	if code != http.StatusAccepted || r.Status != "pending_approval" {
		t.Fatalf("adjustment: %d %+v %+v; want 202 pending_approval", code, r, p)
	}
	approve(t, approver, r.WorkflowID)
	done := wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")
	if done.Kind != "adjustment" || done.Reason != "电表故障补偿" || done.Amount != "20.00" {
		t.Fatalf("recharge %+v", done)
	}
	after, counterAfter := stack.MeterRegisters(t, m)
	if after-before != 2000 || counterAfter != counter+1 {
		t.Fatalf("meter %d→%d cents, counter %d→%d; want +2000 once", before, after, counter, counterAfter)
	}
	if c, a, w := cents(t, ledgerdom.CashAccount)-cash, cents(t, ledgerdom.AdjustmentAccount)-adj, cents(t, ledgerdom.MeterWallet(m))-wallet; c != 0 || a != 2000 || w != 2000 {
		t.Fatalf("cash +%d, adjustment +%d, wallet +%d; want 0, 2000, 2000", c, a, w)
	}
	text := pdfText(t, cashier, "/api/v1/recharges/"+r.ID+"/receipt.pdf")
	contains(t, "adjustment receipt", text, "调整电费充值", m, "20.00 元", "电表故障补偿", key, yuan(before)+" 元", yuan(after)+" 元")
}

// TestHoardingCapOnEveryPath: with the cap 10.00 above what the meter
// holds, 10 kWh (12.00) by kWh and an adjustment of 10.01 are refused with
// hoarding_cap_exceeded and write nothing; 8 kWh (9.60) fits.
func TestHoardingCapOnEveryPath(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	const m = "M0033"
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	settings := func(t *testing.T, hoardingCap any) {
		t.Helper()
		body := map[string]any{"autoApproveUpTo": "500.00", "hoardingCap": hoardingCap, "alarm1": "0.00", "alarm2": "0.00"}
		if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/settings", body); code != http.StatusOK {
			t.Fatalf("PUT settings hoardingCap %v: %d %s", hoardingCap, code, b)
		}
	}
	t.Cleanup(func() { settings(t, nil) })
	// A first sale has the platform read the meter: the cap bounds what it last read.
	_, first, _ := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"1.00","transactionNo":%q}`, m, txNo(t)))
	wait(t, cashier, "/api/v1/recharges/", first.ID, "completed")
	held, _ := stack.MeterRegisters(t, m)
	settings(t, yuan(held+1000))
	count := func() (n int) {
		if err := stack.DB.QueryRow(ctx, `select count(*) from recharges where meter_no=$1`, m).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := count()
	for _, body := range []string{
		fmt.Sprintf(`{"meterNo":%q,"kwh":"10.00","transactionNo":%q}`, m, txNo(t)),
		fmt.Sprintf(`{"meterNo":%q,"amount":"10.01","kind":"adjustment","reason":"补偿","transactionNo":%q}`, m, txNo(t)),
	} {
		if code, _, p := post(t, cashier, "/api/v1/recharges", body); code != http.StatusUnprocessableEntity || p.Code != "hoarding_cap_exceeded" {
			t.Errorf("%s: %d %+v; want 422 hoarding_cap_exceeded", body, code, p)
		}
	}
	if got := count(); got != n {
		t.Fatalf("refused sales wrote %d recharges", got-n)
	}
	code, r, p := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"kwh":"8.00","transactionNo":%q}`, m, txNo(t)))
	if code != http.StatusAccepted {
		t.Fatalf("8 kWh under the cap: %d %+v", code, p)
	}
	if done := wait(t, cashier, "/api/v1/recharges/", r.ID, "completed"); done.Amount != "9.60" {
		t.Fatalf("8 kWh × 1.2000 = %s, want 9.60", done.Amount)
	}
}
