package payment

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

const (
	mchID    = harness.PayMchID
	appID    = harness.PayAppID
	apiv3Key = harness.PayAPIv3Key
)

// world is the payment stack: the provider simulator, an API and a worker
// configured against it.
type world struct {
	api, sim string
	cashier  *harness.Client
}

func setup(t *testing.T) *world {
	t.Helper()
	p := stack.StartPayments(t)
	return &world{api: p.API, sim: p.Sim, cashier: stack.LoginAt(t, p.API, "cashier", "cashier")}
}

type payment struct {
	ID, OrderNo, MeterNo, Status, Amount, CodeURL, RechargeID, WorkflowID string
}

func (w *world) order(t *testing.T, meterNo, amount string) payment {
	t.Helper()
	var p payment
	if code := w.cashier.Do(t, "POST", "/api/v1/payments", map[string]string{"meterNo": meterNo, "amount": amount}, &p); code != 201 {
		t.Fatalf("order payment for %s: status %d", meterNo, code)
	}
	if p.CodeURL == "" || p.OrderNo == "" {
		t.Fatalf("order without code URL: %+v", p)
	}
	return p
}

// simCall posts to the simulator's control endpoints.
func (w *world) simCall(t *testing.T, path string) map[string]any {
	t.Helper()
	resp, err := http.Post(w.sim+path, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("sim %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

func (w *world) payment(t *testing.T, orderNo string) payment {
	t.Helper()
	var p payment
	if code := w.cashier.Do(t, "GET", "/api/v1/payments/"+orderNo, nil, &p); code != 200 {
		t.Fatalf("get payment %s: %d", orderNo, code)
	}
	return p
}

// waitCredited waits for the order's recharge to complete and returns it.
func (w *world) waitCredited(t *testing.T, orderNo string) payment {
	t.Helper()
	var p payment
	eventually.True(t, 60*time.Second, "payment "+orderNo+" credited and its recharge completed", func() (bool, string) {
		p = w.payment(t, orderNo)
		if p.RechargeID == "" {
			return false, p.Status
		}
		var r struct{ Status, TransactionNo, Amount string }
		w.cashier.Do(t, "GET", "/api/v1/recharges/"+p.RechargeID, nil, &r)
		return p.Status == "credited" && r.Status == "completed" && r.TransactionNo == orderNo, p.Status + "/" + r.Status
	})
	return p
}

// recharges counts the meter's recharges and sums them.
func recharges(t *testing.T, meterNo string) (int, string) {
	t.Helper()
	var n int
	var sum string
	if err := stack.DB.QueryRow(context.Background(), `select count(*), coalesce(sum(amount), 0)::text from recharges where meter_no=$1`,
		meterNo).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	return n, sum
}

func TestPaidCallbackCreditsOnceThoughReplayed(t *testing.T) {
	w := setup(t)
	stack.CheckLedger(t)
	meter := stack.UnsoldMeter(t, "M0101", "M0102", "M0103", "M0104")
	before, _ := stack.MeterRegisters(t, meter)
	p := w.order(t, meter, "50.00")

	paid := w.simCall(t, "/sim/orders/"+p.OrderNo+"/pay")
	if paid["status"] != float64(204) {
		t.Fatalf("callback answered %v", paid)
	}
	// WeChat Pay repeats a callback it is unsure of: three byte-identical
	// replays, at once, while the first is being credited.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := w.simCall(t, "/sim/orders/"+p.OrderNo+"/notify")
			if out["status"] != float64(204) {
				t.Errorf("replayed callback answered %v", out)
			}
		}()
	}
	wg.Wait()
	w.waitCredited(t, p.OrderNo)
	w.simCall(t, "/sim/orders/"+p.OrderNo+"/notify?fresh=true") // a fresh signature, same payment
	if n, sum := recharges(t, meter); n != 1 || sum != "50.00" {
		t.Fatalf("meter %s has %d recharges summing %s, want one of 50.00", meter, n, sum)
	}
	eventually.True(t, 30*time.Second, "meter holds 50.00 more", func() (bool, string) {
		after, _ := stack.MeterRegisters(t, meter)
		return after-before == 5000, fmt.Sprintf("%d → %d", before, after)
	})
	var verified int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from payment_notifications where order_no=$1 and verified`,
		p.OrderNo).Scan(&verified); err != nil || verified != 5 {
		t.Fatalf("want 5 verified callbacks recorded, got %d (%v)", verified, err)
	}
}

func TestForgedCallbackIsRefusedAndCreditsNothing(t *testing.T) {
	w := setup(t)
	meter := stack.UnsoldMeter(t, "M0105", "M0106", "M0107", "M0108")
	p := w.order(t, meter, "50.00")
	// The forger knows the order and even the APIv3 key, not the platform key.
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	body := forgedCallback(t, p.OrderNo, 5000)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256([]byte(ts + "\nforged-nonce\n" + string(body) + "\n"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, forger, crypto.SHA256, sum[:])
	code, answer, _ := harness.ClientAt(t, w.api).DoHeaders(t, "POST", "/api/v1/payments/wechat/notify", string(body), map[string]string{
		"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": "forged-nonce", "Wechatpay-Signature": base64.StdEncoding.EncodeToString(sig),
		"Wechatpay-Serial": "SIM-PLATFORM-1"})
	if code != http.StatusUnauthorized || !bytes.Contains(answer, []byte("payment_signature_invalid")) {
		t.Fatalf("forged callback: %d %s", code, answer)
	}
	// Unsigned, too.
	if code, _, _ := harness.ClientAt(t, w.api).DoRaw(t, "POST", "/api/v1/payments/wechat/notify", string(body)); code != http.StatusUnauthorized {
		t.Fatalf("unsigned callback: %d", code)
	}
	var refused int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from payment_notifications where not verified and outcome like 'refused:%'
		and received_at > now() - interval '1 minute'`).Scan(&refused); err != nil || refused < 2 {
		t.Fatalf("refused callbacks recorded: %d (%v)", refused, err)
	}
	var audited int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from audit_log where action='payment.notify' and status=401`).Scan(&audited); err != nil || audited < 2 {
		t.Fatalf("refused callbacks audited: %d (%v)", audited, err)
	}
	// Nothing credited, also after the workflow asked the provider (which
	// says the order is unpaid).
	eventually.True(t, 30*time.Second, "payment workflow asked the provider", func() (bool, string) {
		return queried(t, p.WorkflowID), "no QueryPayment scheduled yet"
	})
	if got := w.payment(t, p.OrderNo); got.Status != "created" || got.RechargeID != "" {
		t.Fatalf("forged callback changed the order: %+v", got)
	}
	if n, _ := recharges(t, meter); n != 0 {
		t.Fatalf("forged callback credited meter %s: %d recharges", meter, n)
	}
}

func TestLateCallbackActiveQueryCredits(t *testing.T) {
	w := setup(t)
	meter := stack.UnsoldMeter(t, "M0109", "M0110", "M0111", "M0112")
	p := w.order(t, meter, "30.00")
	w.simCall(t, "/sim/orders/"+p.OrderNo+"/pay?notify=false") // paid; the callback is late
	w.waitCredited(t, p.OrderNo)
	// The callback arrives after all: nothing more.
	if out := w.simCall(t, "/sim/orders/"+p.OrderNo+"/notify"); out["status"] != float64(204) {
		t.Fatalf("late callback answered %v", out)
	}
	if n, sum := recharges(t, meter); n != 1 || sum != "30.00" {
		t.Fatalf("meter %s has %d recharges summing %s, want one of 30.00", meter, n, sum)
	}
}

// forgedCallback builds a well-formed callback body for the order,
// encrypted with the APIv3 key.
func forgedCallback(t *testing.T, orderNo string, cents int64) []byte {
	t.Helper()
	plain, _ := json.Marshal(map[string]any{"appid": appID, "mchid": mchID, "out_trade_no": orderNo, "transaction_id": "4200FORGED",
		"trade_type": "NATIVE", "trade_state": "SUCCESS", "success_time": time.Now().Format(time.RFC3339),
		"amount": map[string]any{"total": cents, "payer_total": cents, "currency": "CNY"}})
	block, _ := aes.NewCipher([]byte(apiv3Key))
	gcm, _ := cipher.NewGCM(block)
	nonce := []byte("forgednonce1")
	ct := gcm.Seal(nil, nonce, plain, []byte("transaction"))
	body, _ := json.Marshal(map[string]any{"id": "forged", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource",
		"resource": map[string]string{"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.StdEncoding.EncodeToString(ct),
			"associated_data": "transaction", "nonce": string(nonce), "original_type": "transaction"}})
	return body
}

// queried reports whether the workflow has asked the provider (QueryPayment).
func queried(t *testing.T, workflowID string) bool {
	t.Helper()
	it := stack.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "QueryPayment" {
			return true
		}
	}
	return false
}

func (w *world) orderAlipay(t *testing.T, meterNo, amount string) payment {
	t.Helper()
	var p payment
	if code := w.cashier.Do(t, "POST", "/api/v1/payments", map[string]string{"meterNo": meterNo, "amount": amount, "provider": "alipay"}, &p); code != 201 {
		t.Fatalf("order Alipay payment for %s: status %d", meterNo, code)
	}
	if p.CodeURL == "" {
		t.Fatalf("Alipay order without QR code: %+v", p)
	}
	return p
}

// Alipay, the same rule: a notification verified with Alipay's key credits
// once however often it comes; a forged one is refused.
func TestAlipayPaidOnceForgedRefused(t *testing.T) {
	w := setup(t)
	stack.CheckLedger(t)
	meter := stack.UnsoldMeter(t, "M0113", "M0114", "M0115", "M0116")
	p := w.orderAlipay(t, meter, "20.00")

	// Forged first: signed with a key of the forger's.
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"app_id": {harness.PayAlipayApp}, "out_trade_no": {p.OrderNo}, "trade_no": {"2026FORGED"},
		"trade_status": {"TRADE_SUCCESS"}, "total_amount": {"20.00"}, "notify_type": {"trade_status_sync"}, "sign_type": {"RSA2"}}
	keys := []string{}
	for k := range form {
		if k != "sign_type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := []string{}
	for _, k := range keys {
		parts = append(parts, k+"="+form.Get(k))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "&")))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, forger, crypto.SHA256, sum[:])
	form.Set("sign", base64.StdEncoding.EncodeToString(sig))
	code, answer, _ := harness.ClientAt(t, w.api).DoHeaders(t, "POST", "/api/v1/payments/alipay/notify", form.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code != http.StatusUnauthorized || string(answer) != "failure" {
		t.Fatalf("forged Alipay notification: %d %q", code, answer)
	}
	if got := w.payment(t, p.OrderNo); got.Status != "created" {
		t.Fatalf("forged notification changed the order: %+v", got)
	}

	if out := w.simCall(t, "/sim/orders/"+p.OrderNo+"/pay"); out["status"] != float64(200) || out["notified"] != true {
		t.Fatalf("Alipay notification answered %v", out)
	}
	for range 3 {
		if out := w.simCall(t, "/sim/orders/"+p.OrderNo+"/notify"); out["notified"] != true {
			t.Fatalf("replayed Alipay notification answered %v", out)
		}
	}
	w.waitCredited(t, p.OrderNo)
	if n, sum := recharges(t, meter); n != 1 || sum != "20.00" {
		t.Fatalf("meter %s has %d recharges summing %s, want one of 20.00", meter, n, sum)
	}
}

// An Alipay payment whose notification never comes is credited by the
// active query (alipay.trade.query).
func TestAlipayLateNotificationActiveQueryCredits(t *testing.T) {
	w := setup(t)
	meter := stack.UnsoldMeter(t, "M0117", "M0118", "M0119", "M0120")
	p := w.orderAlipay(t, meter, "15.00")
	w.simCall(t, "/sim/orders/"+p.OrderNo+"/pay?notify=false")
	w.waitCredited(t, p.OrderNo)
	if n, sum := recharges(t, meter); n != 1 || sum != "15.00" {
		t.Fatalf("meter %s has %d recharges summing %s, want one of 15.00", meter, n, sum)
	}
}

// Reconciliation of a day's WeChat Pay bill finds each of three planted
// mismatches — paid but not credited, credited but not paid, amount
// differs — and opens a task for finance for each, and nothing else.
func TestReconciliationOpensATaskPerMismatch(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	meter := stack.UnsoldMeter(t, "M0121", "M0122", "M0123", "M0124")
	post := func(path string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(w.sim+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("sim %s: %d", path, resp.StatusCode)
		}
	}
	// Paid at the provider, unknown here.
	extra := fmt.Sprintf("VFEXTRA%d", time.Now().UnixNano()%1e9)
	post("/sim/bill/extra", map[string]any{"outTradeNo": extra, "total": 700})
	// Paid and credited, billed with another amount.
	differs := w.order(t, meter, "10.00")
	w.simCall(t, "/sim/orders/"+differs.OrderNo+"/pay")
	w.waitCredited(t, differs.OrderNo)
	post("/sim/bill/amount", map[string]any{"outTradeNo": differs.OrderNo, "total": 1100})
	// Credited here (as by a fault), never paid.
	unpaid := w.order(t, meter, "12.00")
	if _, err := stack.DB.Exec(ctx, `update payments set status='credited' where order_no=$1`, unpaid.OrderNo); err != nil {
		t.Fatal(err)
	}

	day := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	admin := stack.LoginAt(t, w.api, "admin", "admin")
	var started struct{ WorkflowID string }
	if code := admin.Do(t, "POST", "/api/v1/payment-reconciliations", map[string]string{"provider": "wechat", "day": day, "project": "demo"}, &started); code != 202 {
		t.Fatalf("start reconciliation: %d", code)
	}
	if started.WorkflowID != "payment-reconciliation/wechat/"+day {
		t.Fatalf("workflow id %q", started.WorkflowID)
	}
	want := map[string]string{extra: "paid_not_credited", differs.OrderNo: "amount_differs", unpaid.OrderNo: "credited_not_paid"}
	eventually.True(t, 60*time.Second, "a finance task per planted mismatch", func() (bool, string) {
		var tasks struct {
			Items []struct {
				Kind, Subject, WorkflowID string
				Details                   map[string]string
			}
		}
		admin.Do(t, "GET", "/api/v1/tasks?status=pending&limit=500", nil, &tasks)
		got := map[string]string{}
		for _, task := range tasks.Items {
			if task.Kind == "payment_reconciliation" {
				got[task.Details["orderNo"]] = task.Details["kind"]
			}
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("got %v want %v", got, want)
	})
}
