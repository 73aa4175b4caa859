package openapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/tests/harness"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// hmacHex is this client's own signing code, written from contracts.md
// (not api.Sign): lower-case hex HMAC-SHA256(key, method\npath?query\n
// timestamp\nnonce\nbody).
func hmacHex(key, method, pathQuery, ts, nonce, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(method + "\n" + pathQuery + "\n" + ts + "\n" + nonce + "\n" + body)) // a hash.Hash never fails a write
	return hex.EncodeToString(m.Sum(nil))
}

func newNonce(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// signature is the three headers of a signed request.
type signature struct{ ts, nonce, sig string }

func (s signature) headers() map[string]string {
	return map[string]string{"X-Voltflow-Timestamp": s.ts, "X-Voltflow-Nonce": s.nonce, "X-Voltflow-Signature": s.sig}
}

// outside is a third-party system holding one API key. Its calls to the
// stack's API go through the harness client, so every exchange is also
// checked against api/openapi.json.
type outside struct {
	key string
	c   *harness.Client
}

func newOutside(admin *harness.Client, key string) *outside {
	c := *admin
	c.Token = key
	return &outside{key: key, c: &c}
}

// sign signs a request at time at with a fresh nonce.
func (o *outside) sign(t *testing.T, method, pathQuery, body string, at time.Time) signature {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := newNonce(t)
	return signature{ts: ts, nonce: nonce, sig: hmacHex(o.key, method, pathQuery, ts, nonce, body)}
}

// call sends an unsigned request (body "" for none) and decodes a 2xx answer into out.
func (o *outside) call(t *testing.T, method, pathQuery, body string, out any) (int, []byte) {
	t.Helper()
	return o.send(t, method, pathQuery, body, nil, out)
}

func (o *outside) send(t *testing.T, method, pathQuery, body string, headers map[string]string, out any) (int, []byte) {
	t.Helper()
	var b any
	if body != "" {
		b = body
	}
	code, raw, _ := o.c.DoHeaders(t, method, pathQuery, b, headers)
	if out != nil && code/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, pathQuery, raw, err)
		}
	}
	return code, raw
}

// raw sends a request to any server (a second API instance, or to read
// response headers) without the harness client.
func raw(t *testing.T, base, key, method, pathQuery, body string, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, base+pathQuery, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, resp.Header
}

func problemCode(t *testing.T, b []byte) string {
	t.Helper()
	var p struct{ Code string }
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem %s: %v", b, err)
	}
	return p.Code
}

// createKey makes an API key of a project with the roles; it returns id and key.
func createKey(t *testing.T, admin *harness.Client, project string, roles ...string) (string, string) {
	t.Helper()
	var k struct{ ID, Key string }
	if code := admin.Do(t, "POST", "/api/v1/projects/"+project+"/api-keys",
		map[string]any{"name": "erp-" + newNonce(t)[:6], "roles": roles}, &k); code != http.StatusCreated {
		t.Fatalf("create api key: %d", code)
	}
	return k.ID, k.Key
}

func setSettings(t *testing.T, admin *harness.Client, project, id string, requireSig bool, limit, window int) {
	t.Helper()
	if code, b, _ := admin.DoRaw(t, "PUT", "/api/v1/projects/"+project+"/api-keys/"+id+"/settings",
		map[string]any{"requireSignature": requireSig, "rateLimit": limit, "rateWindowSeconds": window}); code != http.StatusOK {
		t.Fatalf("key settings: %d %s", code, b)
	}
	var got struct {
		RequireSignature             bool
		RateLimit, RateWindowSeconds int
	}
	if code := admin.Do(t, "GET", "/api/v1/projects/"+project+"/api-keys/"+id+"/settings", nil, &got); code != http.StatusOK ||
		got.RequireSignature != requireSig || got.RateLimit != limit || got.RateWindowSeconds != window {
		t.Fatalf("key settings read back: %d %+v", code, got)
	}
}

// sweepNow runs the demo project's sweep Schedule once and waits for it,
// so meter_state holds what the meters say now.
func sweepNow(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	h := stack.Temporal.ScheduleClient().GetHandle(ctx, sweepwf.ScheduleID("demo"))
	var before int
	eventually.True(t, 60*time.Second, "the demo sweep schedule", func() (bool, string) {
		d, err := h.Describe(ctx)
		if err != nil {
			return false, err.Error()
		}
		before = d.Info.NumActions
		return true, ""
	})
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var wfID, runID string
	eventually.True(t, 60*time.Second, "the triggered sweep started", func() (bool, string) {
		d, err := h.Describe(ctx)
		if err != nil {
			return false, err.Error()
		}
		if d.Info.NumActions <= before || len(d.Info.RecentActions) == 0 {
			return false, fmt.Sprintf("%d actions", d.Info.NumActions)
		}
		last := d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult
		wfID, runID = last.WorkflowID, last.FirstExecutionRunID
		return true, ""
	})
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := stack.Temporal.GetWorkflow(wctx, wfID, runID).Get(wctx, nil); err != nil {
		t.Fatalf("sweep %s: %v", wfID, err)
	}
}

type openMeter struct {
	MeterNo   string  `json:"meterNo"`
	Remaining *string `json:"remaining"`
	UsedKwh   *string `json:"usedKwh"`
	Status    string  `json:"status"`
	ReadAt    *string `json:"readAt"`
}

type meterPage struct {
	Items      []openMeter `json:"items"`
	NextCursor string      `json:"nextCursor"`
}

type openRecharge struct {
	TransactionNo string `json:"transactionNo"`
	MeterNo       string `json:"meterNo"`
	Amount        string `json:"amount"`
	Status        string `json:"status"`
}

var twoPlaces = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

func TestAllElevenCalls(t *testing.T) {
	ctx := context.Background()
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	_, key := createKey(t, admin, "demo", "cashier", "viewer")
	erp := newOutside(admin, key)
	sweepNow(t)

	// 1. One meter.
	var m openMeter
	if code, b := erp.call(t, "GET", "/api/v1/open/meters/M0001", "", &m); code != http.StatusOK {
		t.Fatalf("call 1: %d %s", code, b)
	}
	if m.MeterNo != "M0001" || m.Remaining == nil || !twoPlaces.MatchString(*m.Remaining) || m.UsedKwh == nil ||
		!twoPlaces.MatchString(*m.UsedKwh) || m.ReadAt == nil || m.Status == "" {
		t.Fatalf("call 1: %+v", m)
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/meters/M9999", "", nil); code != http.StatusNotFound || problemCode(t, b) != "not_found" {
		t.Fatalf("call 1, unknown meter: %d %s", code, b)
	}

	// 2. Every meter, page by page.
	var all []string
	next := "/api/v1/open/meters?limit=50"
	for next != "" {
		var p meterPage
		if code, b := erp.call(t, "GET", next, "", &p); code != http.StatusOK {
			t.Fatalf("call 2 %s: %d %s", next, code, b)
		}
		for _, it := range p.Items {
			all = append(all, it.MeterNo)
		}
		next = ""
		if p.NextCursor != "" {
			next = "/api/v1/open/meters?limit=50&cursor=" + p.NextCursor
		}
	}
	if len(all) != 128 || !slices.IsSorted(all) || all[0] != "M0001" || all[127] != "M0128" {
		t.Fatalf("call 2: %d meters %v…", len(all), all[:min(3, len(all))])
	}

	// 6. Below a balance: every meter is below 1000.00, none below -1000.00,
	// and every one listed below 50.01 is.
	for _, c := range []struct {
		below string
		want  func(n int) bool
	}{{"1000.00", func(n int) bool { return n == 128 }}, {"-1000.00", func(n int) bool { return n == 0 }}, {"50.01", func(int) bool { return true }}} {
		var p meterPage
		if code, b := erp.call(t, "GET", "/api/v1/open/meters?limit=500&remainingBelow="+c.below, "", &p); code != http.StatusOK {
			t.Fatalf("call 6 below %s: %d %s", c.below, code, b)
		}
		if !c.want(len(p.Items)) {
			t.Fatalf("call 6 below %s: %d meters", c.below, len(p.Items))
		}
		for _, it := range p.Items {
			if it.Remaining == nil || cents(t, *it.Remaining) >= cents(t, c.below) {
				t.Fatalf("call 6 below %s lists %+v", c.below, it)
			}
		}
	}

	// 3 and 4. A recharge, sent twice with the same transactionNo: one sale,
	// the same answer; then completed on the meter.
	txn := "ERP-" + newNonce(t)[:10]
	body := `{"meterNo":"M0002","amount":"100.00","transactionNo":"` + txn + `"}`
	var first, second struct{ TransactionNo, Status string }
	if code, b := erp.call(t, "POST", "/api/v1/open/recharges", body, &first); code != http.StatusAccepted {
		t.Fatalf("call 3: %d %s", code, b)
	}
	if code, b := erp.call(t, "POST", "/api/v1/open/recharges", body, &second); code != http.StatusAccepted {
		t.Fatalf("call 3 again: %d %s", code, b)
	}
	if first.TransactionNo != txn || second.TransactionNo != txn {
		t.Fatalf("call 3 answers %+v %+v", first, second)
	}
	var sales int
	if err := stack.DB.QueryRow(ctx, `select count(*) from recharges where transaction_no=$1`, txn).Scan(&sales); err != nil || sales != 1 {
		t.Fatalf("%d sales for %s (%v), want 1", sales, txn, err)
	}
	other := `{"meterNo":"M0002","amount":"101.00","transactionNo":"` + txn + `"}`
	if code, b := erp.call(t, "POST", "/api/v1/open/recharges", other, nil); code != http.StatusConflict || problemCode(t, b) != "idempotency_key_reused" {
		t.Fatalf("call 3, same number other amount: %d %s", code, b)
	}
	var rec openRecharge
	eventually.True(t, 60*time.Second, "the open recharge completed", func() (bool, string) {
		if code, b := erp.call(t, "GET", "/api/v1/open/recharges/"+txn, "", &rec); code != http.StatusOK {
			return false, fmt.Sprintf("%d %s", code, b)
		}
		return rec.Status == "completed", rec.Status
	})
	if rec.MeterNo != "M0002" || rec.Amount != "100.00" || rec.TransactionNo != txn {
		t.Fatalf("call 4: %+v", rec)
	}
	var workflowID string
	if err := stack.DB.QueryRow(ctx, `select workflow_id from recharges where transaction_no=$1`, txn).Scan(&workflowID); err != nil ||
		!strings.HasPrefix(workflowID, "recharge/") {
		t.Fatalf("workflow %q: %v", workflowID, err)
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/recharges/NO-SUCH-TXN", "", nil); code != http.StatusNotFound {
		t.Fatalf("call 4, unknown number: %d %s", code, b)
	}

	// 9. Recharge records of the meters between two days.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	var recs struct{ Items []openRecharge }
	if code, b := erp.call(t, "GET", "/api/v1/open/recharges?meterNo=M0002,M0003&from="+today+"&to="+today, "", &recs); code != http.StatusOK {
		t.Fatalf("call 9: %d %s", code, b)
	}
	if !slices.ContainsFunc(recs.Items, func(r openRecharge) bool { return r.TransactionNo == txn && r.Amount == "100.00" }) {
		t.Fatalf("call 9: %+v", recs.Items)
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/recharges?meterNo=M0003&from=2020-01-01&to=2020-01-31", "", &recs); code != http.StatusOK || len(recs.Items) != 0 {
		t.Fatalf("call 9, another period: %d %s", code, b)
	}

	// 5. The customer of a demo meter.
	var cust struct {
		Name, Phone, Unit string
		AccountID         *string
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/meters/M0002/customer", "", &cust); code != http.StatusOK {
		t.Fatalf("call 5: %d %s", code, b)
	}
	var wantName string
	var wantAccount *string
	if err := stack.DB.QueryRow(ctx, `select coalesce(c.name, ''), m.account_id::text from meters m
		left join prepaid_accounts pa on pa.id = m.account_id left join customers c on c.id = pa.customer_id
		where m.meter_no = 'M0002'`).Scan(&wantName, &wantAccount); err != nil {
		t.Fatal(err)
	}
	if cust.Name != wantName || (cust.AccountID == nil) != (wantAccount == nil) || (wantAccount != nil && *cust.AccountID != *wantAccount) {
		t.Fatalf("call 5: %+v, want name %q account %v", cust, wantName, wantAccount)
	}

	// 7 and 8. A month of readings of M0005, written as the sweep would:
	// 10 kWh a day through November, 300 kWh in the month at 1.2000 yuan.
	cst := time.FixedZone("CST", 8*3600)
	for d := 1; d <= 31; d++ {
		at := time.Date(2026, 11, d, 0, 0, 0, 0, cst) // d=31 is 1 December 00:00
		if _, err := stack.DB.Exec(ctx, `select readings_partition($1::timestamptz)`, at); err != nil {
			t.Fatal(err)
		}
		if _, err := stack.DB.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh,
				peak_kwh, flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode,
				status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 0, 0, 0, 0, 0 from meters where meter_no = 'M0005'`,
			at, fmt.Sprintf("%d.00", 1000+(d-1)*10)); err != nil {
			t.Fatal(err)
		}
	}
	var monthly struct {
		Items []struct{ MeterNo, Kwh, Amount string }
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/usage/monthly?meterNo=M0005,M0006&month=2026-11", "", &monthly); code != http.StatusOK {
		t.Fatalf("call 7: %d %s", code, b)
	}
	if len(monthly.Items) != 2 || monthly.Items[0].MeterNo != "M0005" || monthly.Items[0].Kwh != "300.00" ||
		monthly.Items[0].Amount != "360.00" || monthly.Items[1].MeterNo != "M0006" || monthly.Items[1].Kwh != "0.00" {
		t.Fatalf("call 7: %+v", monthly.Items)
	}
	var daily struct {
		Items []struct {
			MeterNo string
			Days    []struct{ Date, Kwh string }
		}
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/usage/daily?meterNo=M0005&month=2026-11", "", &daily); code != http.StatusOK {
		t.Fatalf("call 8: %d %s", code, b)
	}
	if len(daily.Items) != 1 || len(daily.Items[0].Days) != 30 {
		t.Fatalf("call 8: %+v", daily.Items)
	}
	for i, d := range daily.Items[0].Days {
		if d.Date != fmt.Sprintf("2026-11-%02d", i+1) || d.Kwh != "10.00" {
			t.Fatalf("call 8 day %d: %+v", i+1, d)
		}
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/usage/monthly?meterNo=M0005,M9999&month=2026-11", "", nil); code != http.StatusNotFound {
		t.Fatalf("call 7 with an unknown meter: %d %s", code, b)
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/usage/daily?meterNo=M0005&month=November", "", nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("call 8 with a bad month: %d %s", code, b)
	}

	// 11. Switch M0003 off through the meter-command workflow; after the
	// next sweep, 10 lists it as cut off.
	var cmd struct{ ID, Status string }
	if code, b := erp.call(t, "POST", "/api/v1/open/meters/M0003/mode", `{"mode":"switch_off"}`, &cmd); code != http.StatusAccepted || cmd.ID == "" {
		t.Fatalf("call 11: %d %s", code, b)
	}
	eventually.True(t, 60*time.Second, "the switch-off done", func() (bool, string) {
		var c struct{ Status string }
		admin.Do(t, "GET", "/api/v1/meter-commands/"+cmd.ID, nil, &c)
		if c.Status == "failed" {
			t.Fatalf("switch-off failed")
		}
		return c.Status == "done", c.Status
	})
	if code, b := erp.call(t, "POST", "/api/v1/open/meters/M0003/mode", `{"mode":"sideways"}`, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("call 11, unknown mode: %d %s", code, b)
	}
	sweepNow(t)
	var abnormal struct {
		Items []struct{ Kind, ID, Status, Reason string }
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/devices/abnormal", "", &abnormal); code != http.StatusOK {
		t.Fatalf("call 10: %d %s", code, b)
	}
	i := slices.IndexFunc(abnormal.Items, func(a struct{ Kind, ID, Status, Reason string }) bool { return a.ID == "M0003" })
	if i < 0 || abnormal.Items[i].Kind != "meter" || abnormal.Items[i].Status != "cut_off" || abnormal.Items[i].Reason == "" {
		t.Fatalf("call 10: %+v", abnormal.Items)
	}
	if code, b := erp.call(t, "GET", "/api/v1/open/meters/M0003", "", &m); code != http.StatusOK || m.Status != "cut_off" {
		t.Fatalf("call 1 after the switch-off: %d %s", code, b)
	}
	if code, b := erp.call(t, "POST", "/api/v1/open/meters/M0003/mode", `{"mode":"switch_on"}`, &cmd); code != http.StatusAccepted {
		t.Fatalf("call 11 switch_on: %d %s", code, b)
	}
}

func cents(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		t.Fatalf("money %q", s)
	}
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	c := w*100 + f
	if neg {
		c = -c
	}
	return c
}

// Signed requests: a good signature passes; a wrong one, a stale timestamp
// and an unsigned request to a key that requires signing are refused with
// their codes; a replayed nonce is refused by a second API server on the
// same database, and a replayed recharge sells once.
func TestSignatureAndReplay(t *testing.T) {
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	id, key := createKey(t, admin, "demo", "cashier", "viewer")
	erp := newOutside(admin, key)
	const path = "/api/v1/open/meters/M0010"

	// Optional: unsigned passes while the key does not require signing.
	if code, b := erp.call(t, "GET", path, "", nil); code != http.StatusOK {
		t.Fatalf("unsigned: %d %s", code, b)
	}
	setSettings(t, admin, "demo", id, true, 600, 60)

	// A second API server: its own process state and its own pool, the same database.
	db2, err := store.Open(ctx, stack.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	second := httptest.NewServer(api.New(api.Config{DB: db2, Temporal: stack.Temporal, Log: stack.Log, UpdateTimeout: 30 * time.Second}))
	defer second.Close()

	good := erp.sign(t, "GET", path, "", time.Now())
	bad := good
	bad.nonce = newNonce(t) // the signature was over another nonce
	stale := erp.sign(t, "GET", path, "", time.Now().Add(-6*time.Minute))
	future := erp.sign(t, "GET", path, "", time.Now().Add(6*time.Minute))
	query := "/api/v1/open/meters?remainingBelow=1000.00&limit=5"
	withQuery := erp.sign(t, "GET", query, "", time.Now())
	overPath := erp.sign(t, "GET", "/api/v1/open/meters?limit=5", "", time.Now()) // signed without the query sent
	tests := []struct {
		name     string
		path     string
		headers  map[string]string
		wantCode int
		want     string
	}{
		{"unsigned, required", path, nil, 401, "signature_required"},
		{"good", path, good.headers(), 200, ""},
		{"query signed", query, withQuery.headers(), 200, ""},
		{"query differs", query, overPath.headers(), 401, "signature_invalid"},
		{"wrong signature", path, bad.headers(), 401, "signature_invalid"},
		{"timestamp 6 min old", path, stale.headers(), 401, "timestamp_skew"},
		{"timestamp 6 min ahead", path, future.headers(), 401, "timestamp_skew"},
		{"replayed on the same server", path, good.headers(), 401, "nonce_reused"},
		{"missing nonce", path, map[string]string{"X-Voltflow-Timestamp": good.ts, "X-Voltflow-Signature": good.sig}, 401, "signature_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := erp.send(t, "GET", tt.path, "", tt.headers, nil)
			if code != tt.wantCode || (tt.want != "" && problemCode(t, b) != tt.want) {
				t.Fatalf("%d %s, want %d %s", code, b, tt.wantCode, tt.want)
			}
		})
	}

	// A signed request to the first server, replayed byte for byte to the second.
	fresh := erp.sign(t, "GET", path, "", time.Now())
	if code, b := erp.send(t, "GET", path, "", fresh.headers(), nil); code != http.StatusOK {
		t.Fatalf("fresh: %d %s", code, b)
	}
	if code, b, _ := raw(t, second.URL, key, "GET", path, "", fresh.headers()); code != http.StatusUnauthorized || problemCode(t, b) != "nonce_reused" {
		t.Fatalf("replay on the second server: %d %s", code, b)
	}
	// And the other way round: first seen by the second server.
	other := erp.sign(t, "GET", path, "", time.Now())
	if code, b, _ := raw(t, second.URL, key, "GET", path, "", other.headers()); code != http.StatusOK {
		t.Fatalf("second server, fresh: %d %s", code, b)
	}
	if code, b := erp.send(t, "GET", path, "", other.headers(), nil); code != http.StatusUnauthorized || problemCode(t, b) != "nonce_reused" {
		t.Fatalf("replay on the first server: %d %s", code, b)
	}

	// A signed recharge replayed to both servers at once sells once.
	txn := "SIG-" + newNonce(t)[:10]
	body := `{"meterNo":"M0011","amount":"20.00","transactionNo":"` + txn + `"}`
	s := erp.sign(t, "POST", "/api/v1/open/recharges", body, time.Now())
	type answer struct {
		code int
		body []byte
	}
	answers := make(chan answer, 2)
	for _, base := range []string{stack.API.URL, second.URL} {
		go func() {
			// raw, not the harness client: t.Fatal must stay in the test goroutine.
			req, _ := http.NewRequest("POST", base+"/api/v1/open/recharges", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			for k, v := range s.headers() {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{0, []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, b}
		}()
	}
	a, b := <-answers, <-answers
	if a.code > b.code {
		a, b = b, a
	}
	if a.code != http.StatusAccepted || b.code != http.StatusUnauthorized || problemCode(t, b.body) != "nonce_reused" {
		t.Fatalf("signed recharge sent twice at once: %d %s / %d %s", a.code, a.body, b.code, b.body)
	}
	var sales int
	if err := stack.DB.QueryRow(ctx, `select count(*) from recharges where transaction_no=$1`, txn).Scan(&sales); err != nil || sales != 1 {
		t.Fatalf("%d sales (%v), want 1", sales, err)
	}
	// The refused replay is on record.
	var refused int
	if err := stack.DB.QueryRow(ctx, `select count(*) from audit_log where action='open.recharge' and status=401`).Scan(&refused); err != nil || refused < 1 {
		t.Fatalf("%d refused open recharges audited (%v), want the replay", refused, err)
	}
	// A login token is no API key.
	if code, b, _ := raw(t, stack.API.URL, admin.Token, "GET", path, "", nil); code != http.StatusUnauthorized || problemCode(t, b) != "unauthenticated" {
		t.Fatalf("login token on the open API: %d %s", code, b)
	}
	if code, b, _ := raw(t, stack.API.URL, "vfk_not-a-key", "GET", path, "", nil); code != http.StatusUnauthorized {
		t.Fatalf("unknown key: %d %s", code, b)
	}
}

// The rate limit is per key and shared by every API server: the fourth call
// in a window of three is 429 with Retry-After, whichever server gets it,
// and another key is not affected.
func TestRateLimitPerKey(t *testing.T) {
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	id, key := createKey(t, admin, "demo", "viewer")
	setSettings(t, admin, "demo", id, false, 3, 3600)
	_, otherKey := createKey(t, admin, "demo", "viewer")

	db2, err := store.Open(ctx, stack.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	second := httptest.NewServer(api.New(api.Config{DB: db2, Temporal: stack.Temporal, Log: stack.Log}))
	defer second.Close()

	const path = "/api/v1/open/meters/M0001"
	for i, base := range []string{stack.API.URL, second.URL, stack.API.URL} {
		if code, b, _ := raw(t, base, key, "GET", path, "", nil); code != http.StatusOK {
			t.Fatalf("call %d: %d %s", i+1, code, b)
		}
	}
	for _, base := range []string{second.URL, stack.API.URL} {
		code, b, h := raw(t, base, key, "GET", path, "", nil)
		if code != http.StatusTooManyRequests || problemCode(t, b) != "rate_limited" {
			t.Fatalf("over the limit: %d %s", code, b)
		}
		secs, err := strconv.Atoi(h.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3600 {
			t.Fatalf("Retry-After %q", h.Get("Retry-After"))
		}
	}
	// The 429 as the document describes it.
	o := newOutside(admin, key)
	if code, b := o.call(t, "GET", path, "", nil); code != http.StatusTooManyRequests {
		t.Fatalf("over the limit (checked client): %d %s", code, b)
	}
	if code, b, _ := raw(t, stack.API.URL, otherKey, "GET", path, "", nil); code != http.StatusOK {
		t.Fatalf("another key: %d %s", code, b)
	}
	// A viewer's key reads but neither sells nor switches.
	viewer := newOutside(admin, otherKey)
	for _, c := range []struct{ path, body string }{
		{"/api/v1/open/recharges", `{"meterNo":"M0001","amount":"10.00","transactionNo":"VIEWER-1"}`},
		{"/api/v1/open/meters/M0001/mode", `{"mode":"switch_off"}`},
	} {
		if code, b := viewer.call(t, "POST", c.path, c.body, nil); code != http.StatusForbidden || problemCode(t, b) != "forbidden" {
			t.Fatalf("viewer POST %s: %d %s", c.path, code, b)
		}
	}
}

// A key of another project sees none of the demo project's meters or sales.
func TestAnotherProjectsKey(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	code := admin.Do(t, "POST", "/api/v1/projects", map[string]string{"code": "openother", "name": "Other mall", "organisation": "demo-group"}, nil)
	if code != http.StatusCreated {
		t.Fatalf("create project: %d", code)
	}
	_, key := createKey(t, admin, "openother", "cashier", "viewer")
	o := newOutside(admin, key)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/open/meters/M0001", ""},
		{"GET", "/api/v1/open/meters/M0001/customer", ""},
		{"GET", "/api/v1/open/usage/monthly?meterNo=M0001&month=2026-11", ""},
		{"GET", "/api/v1/open/usage/daily?meterNo=M0001&month=2026-11", ""},
		{"GET", "/api/v1/open/recharges?meterNo=M0001&from=2026-01-01&to=2026-12-31", ""},
		{"POST", "/api/v1/open/recharges", `{"meterNo":"M0001","amount":"10.00","transactionNo":"OTHER-1"}`},
		{"POST", "/api/v1/open/meters/M0001/mode", `{"mode":"switch_off"}`},
	} {
		if code, b := o.call(t, c.method, c.path, c.body, nil); code != http.StatusNotFound || problemCode(t, b) != "not_found" {
			t.Fatalf("%s %s with another project's key: %d %s", c.method, c.path, code, b)
		}
	}
	var p meterPage
	if code, b := o.call(t, "GET", "/api/v1/open/meters", "", &p); code != http.StatusOK || len(p.Items) != 0 {
		t.Fatalf("another project's meters: %d %s", code, b)
	}
	var ab struct{ Items []any }
	if code, b := o.call(t, "GET", "/api/v1/open/devices/abnormal", "", &ab); code != http.StatusOK || len(ab.Items) != 0 {
		t.Fatalf("another project's abnormal devices: %d %s", code, b)
	}
}

// A gateway that stops answering: after the next sweep, call 10 names it
// and its meters as lost contact, with reasons, and call 1 says so too.
func TestAbnormalGateway(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	_, key := createKey(t, admin, "demo", "viewer")
	erp := newOutside(admin, key)
	if err := stack.Fleet.Gateway(3).Stop(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stack.Fleet.Gateway(3).Start(context.Background()) }()
	sweepNow(t)
	type device struct{ Kind, ID, Status, Reason string }
	var abnormal struct{ Items []device }
	if code, b := erp.call(t, "GET", "/api/v1/open/devices/abnormal", "", &abnormal); code != http.StatusOK {
		t.Fatalf("call 10: %d %s", code, b)
	}
	if len(abnormal.Items) == 0 || abnormal.Items[0] != (device{"gateway", "GW-04", "lost_contact", abnormal.Items[0].Reason}) || abnormal.Items[0].Reason == "" {
		t.Fatalf("call 10 starts with %+v, want gateway GW-04 lost contact", abnormal.Items[:min(1, len(abnormal.Items))])
	}
	lost := 0
	for _, d := range abnormal.Items {
		if d.Kind == "meter" && d.ID >= "M0097" && d.ID <= "M0128" {
			if d.Status != "lost_contact" || d.Reason == "" {
				t.Fatalf("call 10: %+v", d)
			}
			lost++
		}
	}
	if lost != 32 {
		t.Fatalf("call 10 lists %d of GW-04's 32 meters", lost)
	}
	var m openMeter
	if code, b := erp.call(t, "GET", "/api/v1/open/meters/M0100", "", &m); code != http.StatusOK || m.Status != "lost_contact" {
		t.Fatalf("call 1 behind a dead gateway: %d %s", code, b)
	}
}
