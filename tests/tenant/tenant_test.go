package tenant

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

// tenantOf gives the demo customer of the meter a fresh phone number (the
// demo's tenants have none) and returns it.
func tenantOf(t *testing.T, meterNo string) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		t.Fatal(err)
	}
	phone := fmt.Sprintf("139%08d", n.Int64())
	tag, err := stack.DB.Exec(context.Background(), `update customers set phone=$1 where id =
		(select a.customer_id from meters m join prepaid_accounts a on a.id=m.account_id and a.status='open' where m.meter_no=$2)`, phone, meterNo)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("give meter %s's tenant phone %s: %v (%d rows)", meterNo, phone, err, tag.RowsAffected())
	}
	return phone
}

var codeRe = regexp.MustCompile(`[0-9]{6}`)

// smsCode reads the newest login code SMS delivered to the phone, where
// the tenant reads it: the outbox's inbox (harness.Stack.SMSInbox), not
// the SMS log operators read, which has the code masked.
func smsCode(t *testing.T, phone string) string {
	t.Helper()
	var code string
	eventually.True(t, 30*time.Second, "login code SMS to "+phone, func() (bool, string) {
		got, err := stack.SMSDelivered(phone)
		if err != nil || len(got) == 0 {
			return false, fmt.Sprintf("%d messages (%v)", len(got), err)
		}
		text := got[len(got)-1].Text
		code = codeRe.FindString(text)
		return code != "", text
	})
	return code
}

// operatorSeesNoCode fails when GET /api/v1/sms shows an operator the code
// (the message is logged, masked).
func operatorSeesNoCode(t *testing.T, phone, code string) {
	t.Helper()
	admin := stack.Login(t, "admin", "admin")
	var page struct {
		Items []struct {
			Recipient, Kind, Text string
		}
	}
	eventually.True(t, 30*time.Second, "login code SMS logged for "+phone, func() (bool, string) {
		if st := admin.Do(t, "GET", "/api/v1/sms?limit=200", nil, &page); st != 200 {
			return false, fmt.Sprintf("GET /api/v1/sms: %d", st)
		}
		for _, m := range page.Items {
			if m.Recipient == phone && m.Kind == "login_code" {
				if strings.Contains(m.Text, code) {
					t.Fatalf("an operator reads the login code: %q", m.Text)
				}
				return true, m.Text
			}
		}
		return false, fmt.Sprintf("%d messages, none to %s", len(page.Items), phone)
	})
}

func simPost(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return out
}

type tenantMeter struct {
	MeterNo, Remaining, TodayKwh, MonthKwh string
	Recharges                              []struct{ Amount, Status, TransactionNo string }
	Readings                               []struct{ EnergyKwh string }
	Payments                               []struct{ OrderNo, Status string }
}

func TestTenantLogsInByCodeAndPaysOnline(t *testing.T) {
	stack.CheckLedger(t)
	pay := stack.StartPayments(t)
	meter := stack.UnsoldMeter(t, "M0081", "M0082", "M0083", "M0084")
	phone := tenantOf(t, meter)
	anon := harness.ClientAt(t, pay.API)

	// A code by SMS; asking again at once is refused with Retry-After.
	if code := anon.Do(t, "POST", "/api/v1/tenant/login-codes", map[string]string{"phone": phone}, nil); code != 202 {
		t.Fatalf("login code: %d", code)
	}
	code, _, _ := anon.DoRaw(t, "POST", "/api/v1/tenant/login-codes", map[string]string{"phone": phone})
	if code != http.StatusTooManyRequests {
		t.Fatalf("second code within the minute: %d, want 429", code)
	}
	// A number that is nobody's gets the same answer and no SMS.
	if code := anon.Do(t, "POST", "/api/v1/tenant/login-codes", map[string]string{"phone": "13000000000"}, nil); code != 202 {
		t.Fatalf("unknown phone: %d", code)
	}
	sms := smsCode(t, phone)
	operatorSeesNoCode(t, phone, sms)
	var stored int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from tenant_login_codes where phone=$1 and code_hash = convert_to($2, 'UTF8')`,
		phone, sms).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("the code is stored in clear: %d (%v)", stored, err)
	}
	wrong := "000000"
	if sms == wrong {
		wrong = "111111"
	}
	if code := anon.Do(t, "POST", "/api/v1/tenant/sessions", map[string]string{"phone": phone, "code": wrong}, nil); code != 401 {
		t.Fatalf("wrong code: %d", code)
	}
	var session struct{ Token string }
	if code := anon.Do(t, "POST", "/api/v1/tenant/sessions", map[string]string{"phone": phone, "code": sms}, &session); code != 200 {
		t.Fatalf("login: %d", code)
	}
	if code := anon.Do(t, "POST", "/api/v1/tenant/sessions", map[string]string{"phone": phone, "code": sms}, nil); code != 401 {
		t.Fatalf("a spent code logged in again: %d", code)
	}
	tenant := harness.ClientAt(t, pay.API)
	tenant.Token = session.Token

	// The tenant's meters (one), and only theirs.
	var list struct{ Items []tenantMeter }
	if code := tenant.Do(t, "GET", "/api/v1/tenant/meters", nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].MeterNo != meter {
		t.Fatalf("tenant meters: %d %+v", code, list)
	}
	if code := tenant.Do(t, "GET", "/api/v1/tenant/meters/M0001", nil, nil); code != 404 {
		t.Fatalf("another tenant's meter: %d, want 404", code)
	}
	if code := tenant.Do(t, "POST", "/api/v1/tenant/payments", map[string]string{"meterNo": "M0001", "amount": "50.00"}, nil); code != 404 {
		t.Fatalf("paying for another tenant's meter: %d, want 404", code)
	}
	if code := harness.ClientAt(t, pay.API).Do(t, "GET", "/api/v1/tenant/meters", nil, nil); code != 401 {
		t.Fatalf("no session: %d", code)
	}
	before, _ := stack.MeterRegisters(t, meter)

	// Pay 50.00; the callback is replayed three times.
	var p struct{ OrderNo, CodeURL, Status string }
	if code := tenant.Do(t, "POST", "/api/v1/tenant/payments", map[string]string{"meterNo": meter, "amount": "50.00"}, &p); code != 201 || p.CodeURL == "" {
		t.Fatalf("tenant payment: %d %+v", code, p)
	}
	if out := simPost(t, pay.Sim+"/sim/orders/"+p.OrderNo+"/pay"); out["status"] != float64(204) {
		t.Fatalf("callback: %v", out)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); simPost(t, pay.Sim+"/sim/orders/"+p.OrderNo+"/notify") }()
	}
	wg.Wait()
	var view tenantMeter
	eventually.True(t, 60*time.Second, "the tenant sees the recharge completed", func() (bool, string) {
		tenant.Do(t, "GET", "/api/v1/tenant/meters/"+meter, nil, &view)
		if len(view.Recharges) == 0 {
			return false, "no recharge"
		}
		return view.Recharges[0].Status == "completed", fmt.Sprintf("%+v", view.Recharges)
	})
	if len(view.Recharges) != 1 || view.Recharges[0].Amount != "50.00" || view.Recharges[0].TransactionNo != p.OrderNo ||
		len(view.Payments) != 1 || view.Payments[0].Status != "credited" {
		t.Fatalf("credited once? %+v", view)
	}
	after, _ := stack.MeterRegisters(t, meter)
	if after-before != 5000 {
		t.Fatalf("meter %s holds %d → %d cents, want 50.00 more", meter, before, after)
	}
	// The balance shown is the sweep's: after the next reading it shows the
	// money (an operator's read stands in for the sweep here).
	admin := stack.LoginAt(t, pay.API, "admin", "admin")
	if code := admin.Do(t, "POST", "/api/v1/meters/"+meter+"/read", nil, nil); code/100 != 2 {
		t.Fatalf("read meter: %d", code)
	}
	want := fmt.Sprintf("%d.%02d", after/100, after%100)
	eventually.True(t, 30*time.Second, "the balance page shows the paid balance", func() (bool, string) {
		tenant.Do(t, "GET", "/api/v1/tenant/meters/"+meter, nil, &view)
		return view.Remaining == want, view.Remaining + " want " + want
	})
}

// The phone page is served by Voltflow under the console's CSP.
func TestMobilePageIsServed(t *testing.T) {
	pay := stack.StartPayments(t)
	for _, path := range []string{"/m/", "/m/app.js", "/m/style.css"} {
		resp, err := http.Get(pay.API + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Fatalf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		if path == "/m/" && (!strings.Contains(string(b), "电费自助") || strings.Contains(string(b), "<script>")) {
			t.Fatalf("/m/ is not the page, or has inline script:\n%s", b)
		}
	}
}
