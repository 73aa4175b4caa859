package refund

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

// view is a recharge or refund as the API shows it.
type view struct {
	ID                 string `json:"id"`
	MeterNo            string `json:"meterNo"`
	Amount             string `json:"amount"`
	Kind               string `json:"kind"`
	ReversesRechargeID string `json:"reversesRechargeId"`
	Status             string `json:"status"`
	WorkflowID         string `json:"workflowId"`
	MeterCounter       *int   `json:"meterCounter"`
	Failure            string `json:"failure"`
}

type problem struct {
	Type, Title, Detail, Code, Field string
	Status                           int
}

func txNo(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("%.40s-%d", name, time.Now().UnixNano()) // within the 64 characters of a transactionNo
}

// post sends a JSON body and decodes a 2xx answer into a view, anything else into a problem.
func post(t *testing.T, c *harness.Client, path, body string) (int, view, problem) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, "POST", path, body)
	var v view
	var p problem
	if code/100 == 2 {
		_ = json.Unmarshal(raw, &v)
	} else {
		_ = json.Unmarshal(raw, &p)
	}
	return code, v, p
}

func applyRefund(t *testing.T, c *harness.Client, meterNo, amount, key string) (int, view, problem) {
	t.Helper()
	return post(t, c, "/api/v1/refunds", fmt.Sprintf(`{"meterNo":%q,"amount":%q,"transactionNo":%q}`, meterNo, amount, key))
}

// recharged sells amount to the meter and waits until the meter took it, so
// the meter's wallet holds refundable cash.
func recharged(t *testing.T, c *harness.Client, meterNo, amount string) view {
	t.Helper()
	code, r, p := post(t, c, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":%q,"transactionNo":%q}`, meterNo, amount, txNo(t)))
	if code != http.StatusAccepted {
		t.Fatalf("recharge %s %s: %d %+v", meterNo, amount, code, p)
	}
	return wait(t, c, "/api/v1/recharges/", r.ID, "completed", 30*time.Second)
}

func wait(t *testing.T, c *harness.Client, prefix, id, want string, within time.Duration) view {
	t.Helper()
	var v view
	eventually.True(t, within, prefix+id+" "+want, func() (bool, string) {
		v = view{}
		c.Do(t, "GET", prefix+id, nil, &v)
		return v.Status == want, v.Status + " " + v.Failure
	})
	return v
}

func decide(t *testing.T, c *harness.Client, taskID, verb string) (int, problem) {
	t.Helper()
	code, _, p := post(t, c, "/api/v1/tasks/"+taskID+"/"+verb, `{"comment":"checked"}`)
	return code, p
}

// footprint counts every row a refund application could write.
func footprint(t *testing.T) string {
	t.Helper()
	var refunds, entries, tasks, claims int
	if err := stack.DB.QueryRow(context.Background(), `select (select count(*) from refunds), (select count(*) from journal_entries),
		(select count(*) from tasks), (select count(*) from meter_purchases)`).Scan(&refunds, &entries, &tasks, &claims); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("refunds=%d entries=%d tasks=%d claims=%d", refunds, entries, tasks, claims)
}

func balance(t *testing.T, code string) string {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, code)
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// books returns the balances a refund or reversal moves, keyed by account.
func books(t *testing.T, meterNo string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range []string{ledgerdom.CashAccount, ledgerdom.PendingDeliveryCode, ledgerdom.PendingRefundCode, ledgerdom.MeterWallet(meterNo)} {
		out[c] = balance(t, c)
	}
	return out
}

func TestRefundAboveBalanceIsRefusedAndWritesNothing(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	// The meter holds 50.00 from installation, but nobody paid the platform
	// for it: with an empty wallet nothing is refundable.
	m := stack.UnsoldMeter(t, "M0020", "M0030", "M0040", "M0050")
	before := footprint(t)
	code, _, p := applyRefund(t, cashier, m, "10.00", txNo(t))
	if code != http.StatusUnprocessableEntity || p.Code != "refund_exceeds_balance" || p.Field != "amount" {
		t.Fatalf("refund from an empty wallet: %d %+v", code, p)
	}
	if after := footprint(t); after != before {
		t.Fatalf("refused refund wrote rows: %s → %s", before, after)
	}
	recharged(t, cashier, m, "100.00")
	cents, counter := stack.MeterRegisters(t, m)
	if cents != 15000 {
		t.Fatalf("meter holds %d cents, want 15000", cents)
	}
	before = footprint(t)
	code, _, p = applyRefund(t, cashier, m, "100.01", txNo(t))
	if code != http.StatusUnprocessableEntity || p.Code != "refund_exceeds_balance" || !strings.Contains(p.Detail, "100.00") {
		t.Fatalf("refund one cent above the wallet: %d %+v", code, p)
	}
	if after := footprint(t); after != before {
		t.Fatalf("refused refund wrote rows: %s → %s", before, after)
	}
	// A pending refund holds its amount: a second one cannot spend it again.
	code, first, _ := applyRefund(t, cashier, m, "70.00", txNo(t))
	if code != http.StatusAccepted || first.Status != "pending_approval" {
		t.Fatalf("refund within the wallet: %d %+v", code, first)
	}
	code, _, p = applyRefund(t, cashier, m, "30.01", txNo(t))
	if code != http.StatusUnprocessableEntity || p.Code != "refund_exceeds_balance" {
		t.Fatalf("second refund over the rest: %d %+v", code, p)
	}
	approver := stack.Login(t, "approver", "approver")
	if code, p := decide(t, approver, harness.PendingTask(t, approver, first.WorkflowID, "").ID, "reject"); code != http.StatusOK {
		t.Fatalf("reject: %d %+v", code, p)
	}
	wait(t, cashier, "/api/v1/refunds/", first.ID, "rejected", 30*time.Second)
	if c, n := stack.MeterRegisters(t, m); c != cents || n != counter {
		t.Fatalf("refused and rejected refunds reached the meter: %d→%d cents, counter %d→%d", cents, c, counter, n)
	}
	if w := balance(t, ledgerdom.MeterWallet(m)); w != "100.00" {
		t.Fatalf("wallet %s after refused and rejected refunds, want 100.00", w)
	}
}

func TestRefundRequestsAreValidatedAndIdempotent(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	recharged(t, cashier, "M0021", "100.00")
	before := footprint(t)
	for _, amount := range []string{`"-5"`, `"abc"`, `"1.234"`, `"0"`, `-5`, `0`, `null`} {
		code, raw, ctype := cashier.DoRaw(t, "POST", "/api/v1/refunds",
			fmt.Sprintf(`{"meterNo":"M0021","amount":%s,"transactionNo":"bad-%d"}`, amount, time.Now().UnixNano()))
		var p problem
		_ = json.Unmarshal(raw, &p)
		if code != http.StatusUnprocessableEntity || ctype != "application/problem+json" || p.Code != "invalid_amount" {
			t.Fatalf("amount %s: %d %s %s", amount, code, ctype, raw)
		}
	}
	if code, _, p := applyRefund(t, cashier, "M9999", "1.00", txNo(t)); code != http.StatusNotFound || p.Code != "not_found" {
		t.Fatalf("unknown meter: %d %+v", code, p)
	}
	if code, _, p := applyRefund(t, cashier, "M0021", "1.00", "bad key!"); code != http.StatusUnprocessableEntity || p.Field != "transactionNo" {
		t.Fatalf("bad transactionNo: %d %+v", code, p)
	}
	if after := footprint(t); after != before {
		t.Fatalf("refused requests wrote rows: %s → %s", before, after)
	}
	key := txNo(t)
	code, first, _ := applyRefund(t, cashier, "M0021", "25.00", key)
	if code != http.StatusAccepted || first.Status != "pending_approval" || first.WorkflowID != "refund/"+first.ID {
		t.Fatalf("apply: %d %+v; want 202 pending_approval on refund/<id>", code, first)
	}
	if code, again, _ := applyRefund(t, cashier, "M0021", "25", key); code != http.StatusAccepted || again.ID != first.ID {
		t.Fatalf("same key, same refund: %d %+v, first %s", code, again, first.ID)
	}
	if code, _, p := applyRefund(t, cashier, "M0021", "26.00", key); code != http.StatusConflict || p.Code != "idempotency_key_reused" {
		t.Fatalf("same key, other amount: %d %+v", code, p)
	}
	var got view
	if code := cashier.Do(t, "GET", "/api/v1/refunds/"+first.ID, nil, &got); code != http.StatusOK ||
		got.Amount != "25.00" || got.Kind != "refund" || got.MeterNo != "M0021" {
		t.Fatalf("GET refund: %d %+v", code, got)
	}
	var n int
	_ = stack.DB.QueryRow(context.Background(), `select count(*) from refunds where transaction_no=$1`, key).Scan(&n)
	if n != 1 {
		t.Fatalf("%d refunds under one key", n)
	}
	approver := stack.Login(t, "approver", "approver")
	decide(t, approver, harness.PendingTask(t, approver, first.WorkflowID, "").ID, "reject")
	wait(t, cashier, "/api/v1/refunds/", first.ID, "rejected", 30*time.Second)
}

func TestApprovedRefundDeductsMeterOnce(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	recharged(t, cashier, "M0022", "100.00")
	cents, counter := stack.MeterRegisters(t, "M0022")
	cash := balance(t, ledgerdom.CashAccount)
	wallet := balance(t, ledgerdom.MeterWallet("M0022")) // 100.00 more per earlier run (go test -count=2)

	code, f, _ := applyRefund(t, cashier, "M0022", "40.00", txNo(t))
	if code != http.StatusAccepted || f.Status != "pending_approval" {
		t.Fatalf("apply: %d %+v", code, f)
	}
	task := harness.PendingTask(t, approver, f.WorkflowID, "")
	if task.Kind != "refund_approval" || task.Details["amount"] != "40.00" || task.Details["meterNo"] != "M0022" {
		t.Fatalf("task %+v", task)
	}
	// A cashier may not decide; nothing changes.
	if code, p := decide(t, cashier, task.ID, "approve"); code != http.StatusForbidden || p.Code != "forbidden" {
		t.Fatalf("cashier approves: %d %+v", code, p)
	}
	var still view
	cashier.Do(t, "GET", "/api/v1/refunds/"+f.ID, nil, &still)
	var entries int
	_ = stack.DB.QueryRow(context.Background(), `select count(*) from journal_entries where key like $1`, "refund/"+f.ID+"/%").Scan(&entries)
	if still.Status != "pending_approval" || entries != 0 {
		t.Fatalf("after the cashier's attempt: %s, %d entries", still.Status, entries)
	}
	if code, p := decide(t, approver, task.ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %+v", code, p)
	}
	if code, p := decide(t, approver, task.ID, "reject"); code != http.StatusConflict || p.Code != "task_already_decided" {
		t.Fatalf("second decision: %d %+v", code, p)
	}
	var decided struct{ Status, DecidedByName, Comment string }
	approver.Do(t, "GET", "/api/v1/tasks/"+task.ID, nil, &decided)
	if decided.Status != "approved" || decided.DecidedByName != "approver" || decided.Comment != "checked" {
		t.Fatalf("task after the decisions: %+v; the refused ones must change nothing", decided)
	}
	done := wait(t, cashier, "/api/v1/refunds/", f.ID, "completed", 30*time.Second)
	after, counterAfter := stack.MeterRegisters(t, "M0022")
	if cents-after != 4000 || counterAfter != counter+1 {
		t.Fatalf("meter: %d→%d cents, counter %d→%d; want −4000 and +1", cents, after, counter, counterAfter)
	}
	if done.MeterCounter == nil || *done.MeterCounter != int(counterAfter) {
		t.Fatalf("refund counter %v, meter %d", done.MeterCounter, counterAfter)
	}
	if w, pr := balance(t, ledgerdom.MeterWallet("M0022")), balance(t, ledgerdom.PendingRefundCode); mustCents(t, wallet)-mustCents(t, w) != 4000 || pr != "0.00" {
		t.Fatalf("wallet %s → %s, refund payable %s; want 40.00 less and 0.00", wallet, w, pr)
	}
	// The cash drawer paid 40.00 out.
	if now := balance(t, ledgerdom.CashAccount); mustCents(t, cash)-mustCents(t, now) != 4000 {
		t.Fatalf("cash %s → %s; want 40.00 paid out", cash, now)
	}
	var m struct{ Remaining string }
	cashier.Do(t, "GET", "/api/v1/meters/M0022", nil, &m)
	if m.Remaining != fmt.Sprintf("%d.%02d", after/100, after%100) {
		t.Fatalf("GET meter remaining %s; meter holds %d cents", m.Remaining, after)
	}
}

func mustCents(t *testing.T, s string) int64 {
	t.Helper()
	var y, c int64
	if _, err := fmt.Sscanf(strings.Replace(s, ".", " ", 1), "%d %d", &y, &c); err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	if strings.HasPrefix(s, "-") {
		return y*100 - c
	}
	return y*100 + c
}

func TestReversalRestoresLedgerAndMeter(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	ledgerBefore := books(t, "M0023")
	cents, counter := stack.MeterRegisters(t, "M0023")
	mistake := recharged(t, cashier, "M0023", "80.00")

	path := "/api/v1/recharges/" + mistake.ID + "/reverse"
	key := txNo(t)
	body := fmt.Sprintf(`{"transactionNo":%q,"reason":"sold to the wrong meter"}`, key)
	code, rev, p := post(t, cashier, path, body)
	if code != http.StatusAccepted || rev.Status != "pending_approval" || rev.WorkflowID != "refund/"+rev.ID {
		t.Fatalf("reverse: %d %+v %+v", code, rev, p)
	}
	if code, again, _ := post(t, cashier, path, body); code != http.StatusAccepted || again.ID != rev.ID {
		t.Fatalf("same reversal again: %d %+v", code, again)
	}
	task := harness.PendingTask(t, approver, rev.WorkflowID, "")
	if task.Details["reversesRechargeId"] != mistake.ID || task.Details["kind"] != "reversal" {
		t.Fatalf("task details %v", task.Details)
	}
	if code, p := decide(t, approver, task.ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %+v", code, p)
	}
	done := wait(t, cashier, "/api/v1/refunds/", rev.ID, "completed", 30*time.Second)
	if done.Kind != "reversal" || done.ReversesRechargeID != mistake.ID || done.Amount != "80.00" {
		t.Fatalf("reversal %+v", done)
	}
	after, counterAfter := stack.MeterRegisters(t, "M0023")
	if after != cents || counterAfter != counter+2 {
		t.Fatalf("meter: %d→%d cents, counter %d→%d; want the same money and two counted operations", cents, after, counter, counterAfter)
	}
	if got := books(t, "M0023"); fmt.Sprint(got) != fmt.Sprint(ledgerBefore) {
		t.Fatalf("ledger after the reversal %v, before the mistake %v", got, ledgerBefore)
	}
	// Once only, whatever the key.
	if code, _, p := post(t, cashier, path, fmt.Sprintf(`{"transactionNo":%q,"reason":"again"}`, txNo(t))); code != http.StatusConflict || p.Code != "already_reversed" {
		t.Fatalf("second reversal: %d %+v", code, p)
	}
	// The same key for a plain refund is another request.
	if code, _, p := applyRefund(t, cashier, "M0023", "80.00", key); code != http.StatusConflict || p.Code != "idempotency_key_reused" {
		t.Fatalf("reversal key reused for a refund: %d %+v", code, p)
	}
}

func TestOnlyCompletedRechargesAreReversed(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	code, pending, _ := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":"M0024","amount":"600.00","transactionNo":%q}`, txNo(t)))
	if code != http.StatusAccepted || pending.Status != "pending_approval" {
		t.Fatalf("recharge: %d %+v", code, pending)
	}
	// The approval task is written by the workflow after the 202; wait for it so the footprint is settled.
	task := harness.PendingTask(t, approver, pending.WorkflowID, "")
	before := footprint(t)
	code, _, p := post(t, cashier, "/api/v1/recharges/"+pending.ID+"/reverse", fmt.Sprintf(`{"transactionNo":%q,"reason":"typo"}`, txNo(t)))
	if code != http.StatusConflict || p.Code != "not_reversible" {
		t.Fatalf("reverse a pending recharge: %d %+v", code, p)
	}
	if code, _, p := post(t, approver, "/api/v1/recharges/"+pending.ID+"/reverse", fmt.Sprintf(`{"transactionNo":%q,"reason":"x"}`, txNo(t))); code != http.StatusForbidden {
		t.Fatalf("approver applies for a reversal: %d %+v", code, p)
	}
	if after := footprint(t); after != before {
		t.Fatalf("refused reversals wrote rows: %s → %s", before, after)
	}
	decide(t, approver, task.ID, "reject")
	wait(t, cashier, "/api/v1/recharges/", pending.ID, "rejected", 30*time.Second)
}

func TestRefundMeterDownThenRedispatchDeductsOnce(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	recharged(t, cashier, "M0101", "50.00")
	cents, counter := stack.MeterRegisters(t, "M0101")
	_, f, _ := applyRefund(t, cashier, "M0101", "20.00", txNo(t))
	gw := stack.Fleet.Gateway(3) // M0097–M0128
	if err := gw.Stop(); err != nil {
		t.Fatal(err)
	}
	if code, p := decide(t, approver, harness.PendingTask(t, approver, f.WorkflowID, "").ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %+v", code, p)
	}
	failed := wait(t, cashier, "/api/v1/refunds/", f.ID, "dispatch_failed", dispatchWindow+30*time.Second)
	if failed.Failure == "" {
		t.Fatal("dispatch_failed without a reason")
	}
	t.Logf("dispatch_failed: %s", failed.Failure)
	if w := balance(t, ledgerdom.PendingRefundCode); w != "20.00" {
		t.Fatalf("refund payable %s while the meter is down, want 20.00", w)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, p := post(t, cashier, "/api/v1/refunds/"+f.ID+"/redispatch", ""); code != http.StatusAccepted {
		t.Fatalf("redispatch: %d %+v", code, p)
	}
	wait(t, cashier, "/api/v1/refunds/", f.ID, "completed", 30*time.Second)
	if code, _, p := post(t, cashier, "/api/v1/refunds/"+f.ID+"/redispatch", ""); code != http.StatusConflict || p.Code != "not_redispatchable" {
		t.Fatalf("redispatch of a completed refund: %d %+v", code, p)
	}
	if after, c := stack.MeterRegisters(t, "M0101"); cents-after != 2000 || c != counter+1 {
		t.Fatalf("meter: −%d cents in %d operations; want −2000 once", cents-after, c-counter)
	}
}
