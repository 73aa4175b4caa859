package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/browser"
	"github.com/voltflow/voltflow/tests/harness"
)

type meter struct {
	MeterNo   string  `json:"meterNo"`
	Remaining *string `json:"remaining"`
}

// readMeter reads a meter now (so its stored balance is the meter's) and
// returns the balance.
func readMeter(t *testing.T, c *harness.Client, meterNo string) decimal.Decimal {
	t.Helper()
	if code := c.Do(t, "POST", "/api/v1/meters/"+meterNo+"/read", nil, nil); code != http.StatusOK {
		t.Fatalf("read %s: status %d", meterNo, code)
	}
	var m meter
	if code := c.Do(t, "GET", "/api/v1/meters/"+meterNo, nil, &m); code != http.StatusOK || m.Remaining == nil {
		t.Fatalf("get %s: status %d %+v", meterNo, code, m)
	}
	return decimal.RequireFromString(*m.Remaining)
}

// The Done-when of issue 18: the cashier sells 600.00 to M0009 at the
// counter; the approver finds it in the inbox and approves it; the sale
// completes and the meter's page shows the new balance; the cashier
// switches M0010 off from the board and its tile turns black within 5 s.
func TestSaleApprovalAndBoard(t *testing.T) {
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	before := readMeter(t, admin, "M0009")
	want := before.Add(decimal.RequireFromString("600.00")).StringFixed(2)

	newTab := browser.New(t, stack.API.URL)
	cashier := newTab()
	cashier.Login("cashier", "cashier", "zh")
	cashier.Wait(browser.PageLoad, "the dashboard", `document.querySelector('[data-page="home"] .vf-card')`, "")
	cashier.Shot("zh-home")

	// The counter: find M0009, sell 600.00; above the auto-approval line it waits.
	cashier.GoTo("/sale", "sale")
	cashier.Run("find M0009",
		chromedp.SendKeys(chromedp.CSS(`[data-form="find"] input[name="find"]`), "M0009"),
		chromedp.Click(chromedp.CSS(`[data-form="find"] button[type="submit"]`)))
	cashier.Wait(browser.PageLoad, "M0009 at the counter", `document.querySelector('[data-form="sell"]')`, "")
	cashier.Run("sell 600.00",
		chromedp.SendKeys(chromedp.CSS(`[data-form="sell"] input[name="amount"]`), "600.00"),
		chromedp.Click(chromedp.CSS(`[data-form="sell"] button[type="submit"]`)))
	cashier.Wait(browser.PageLoad, "the sale waits for approval", `document.querySelector('.vf-result[data-kind="recharge"][data-status="pending_approval"]')`,
		`(document.querySelector('.vf-result')||{dataset:{}}).dataset.status + ' ' + (document.querySelector('.vf-error')||{}).textContent`)
	var rechargeID string
	if err := cashier.Eval(`document.querySelector('.vf-result[data-kind="recharge"]').dataset.id`, &rechargeID); err != nil {
		t.Fatal(err)
	}
	cashier.Shot("zh-sale-pending-approval")

	// The approver finds it in the inbox and approves it.
	approver := newTab()
	approver.Login("approver", "approver", "zh")
	approver.GoTo("/tasks", "tasks")
	findTask := fmt.Sprintf(`[...document.querySelectorAll('[data-task]')].find(e => e.textContent.includes(%q))`, rechargeID)
	approver.Wait(browser.PageLoad, "the sale in the approver's inbox", findTask, `document.querySelectorAll('[data-task]').length + ' tasks'`)
	var text string
	if err := approver.Eval(findTask+`.textContent`, &text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "M0009") || !strings.Contains(text, "600.00") {
		t.Errorf("task shows %q, want M0009 and 600.00", text)
	}
	approver.Shot("zh-inbox")
	// The approver's inbox on a phone.
	approver.Run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	approver.Wait(browser.PageLoad, "the task on a phone", findTask, "")
	approver.Shot("zh-inbox-phone")
	approver.Run("desktop viewport", chromedp.EmulateReset())
	var clicked bool
	if err := approver.Eval(`(() => { const b = [...`+findTask+`.querySelectorAll('button')].find(b => b.textContent.includes('批准')); if (!b) return false; b.click(); return true; })()`, &clicked); err != nil || !clicked {
		t.Fatalf("no 批准 button on the task (%v)", err)
	}
	approver.Wait(browser.PageLoad, "the decision shows", findTask+` === undefined || `+findTask+`.dataset.status === 'approved'`,
		`(document.querySelector('.vf-error')||{}).textContent`)
	approver.Shot("zh-inbox-approved")
	approver.NoExceptions()

	// The cashier's counter follows the sale to completed; the meter's page shows the new balance.
	cashier.Wait(2*browser.PageLoad, "the sale completes", `document.querySelector('.vf-result[data-kind="recharge"][data-status="completed"]')`,
		`(document.querySelector('.vf-result')||{dataset:{}}).dataset.status`)
	cashier.Shot("zh-sale-completed")
	cashier.GoTo("/receipt/"+rechargeID, "receipt")
	cashier.Wait(browser.PageLoad, "the receipt", `document.querySelector('.vf-receipt') && document.querySelector('.vf-receipt').textContent.includes('600.00')`, "")
	cashier.Shot("zh-receipt")
	cashier.GoTo("/meters/M0009", "meter")
	cashier.Wait(browser.PageLoad, "M0009's page shows "+want, fmt.Sprintf(`(document.querySelector('[data-page="meter"] [data-remaining]')||{}).textContent === %q`, want),
		`(document.querySelector('[data-page="meter"] [data-remaining]')||{}).textContent`)
	cashier.Wait(browser.PageLoad, "M0009's charts and lists", `document.querySelector('[data-page="meter"] .vf-charts[data-loaded]') && document.querySelector('[data-page="meter"] .vf-lists[data-loaded]')`,
		`(document.querySelector('[data-page="meter"] .vf-error')||{}).textContent`)
	var meterErrors int
	if err := cashier.Eval(`document.querySelectorAll('[data-page="meter"] .vf-error').length`, &meterErrors); err != nil || meterErrors != 0 {
		t.Errorf("M0009's page shows %d errors (%v)", meterErrors, err)
	}
	cashier.Shot("zh-meter-M0009")

	// The board: select M0010, switch it off; the tile turns black.
	cashier.GoTo("/meters/board", "board")
	tile := `document.querySelector('[data-page="board"] [data-meter="M0010"]')`
	cashier.Wait(browser.PageLoad, "M0010's tile", tile, "")
	cashier.Shot("zh-board")
	cashier.Run("select M0010", chromedp.Click(chromedp.CSS(`[data-page="board"] [data-meter="M0010"]`)))
	cashier.Wait(browser.PageLoad, "M0010 selected", tile+`.classList.contains('vf-sel') && !document.querySelector('[data-action="run-command"]').disabled`, "")
	cashier.Run("choose switch_off", chromedp.SetValue(chromedp.CSS(`[data-page="board"] select[name="command"]`), "switch_off"))
	start := time.Now()
	cashier.Run("send switch_off", chromedp.Click(chromedp.CSS(`[data-action="run-command"]`)))
	cashier.Wait(5*time.Second, "M0010's tile black within 5 s", tile+`.dataset.status === 'cut_off' && getComputedStyle(`+tile+`).backgroundColor === 'rgb(31, 31, 31)'`,
		tile+`.dataset.status + ' ' + (document.querySelector('.vf-batch')||{textContent:''}).textContent + ' ' + (document.querySelector('.vf-error')||{}).textContent`)
	t.Logf("M0010's tile turned black %s after the click", time.Since(start).Round(time.Millisecond))
	cashier.Wait(browser.PageLoad, "the batch's outcome", `document.querySelector('.vf-outcomes [data-meter="M0010"][data-status="done"]')`, "")
	cashier.Shot("zh-board-M0010-off")
	cashier.NoExceptions()

	// Put M0010 back on for the other tests.
	var acc struct{ ID string }
	if code := admin.Do(t, "POST", "/api/v1/meters/M0010/commands", map[string]string{"command": "switch_on"}, &acc); code != http.StatusAccepted {
		t.Fatalf("switch M0010 on: status %d", code)
	}
}

// A cashier without the approver role sees a pending sale in the inbox but
// no button to approve it, and the API refuses the approval if forged.
func TestCashierCannotApprove(t *testing.T) {
	cashierAPI := stack.Login(t, "cashier", "cashier")
	var acc struct{ ID string }
	tx := fmt.Sprintf("CONSOLE-%d", time.Now().UnixNano())
	if code := cashierAPI.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0011", "amount": "700.00", "transactionNo": tx}, &acc); code != http.StatusAccepted {
		t.Fatalf("sale: status %d", code)
	}
	t.Cleanup(func() {
		// Leave no sale waiting: the approver rejects it.
		approver := stack.Login(t, "approver", "approver")
		var inbox struct {
			Items []struct {
				ID      string
				Details map[string]string
			}
		}
		approver.Do(t, "GET", "/api/v1/projects/demo/inbox?status=pending", nil, &inbox)
		for _, it := range inbox.Items {
			if it.Details["rechargeId"] == acc.ID {
				approver.Do(t, "POST", "/api/v1/tasks/"+it.ID+"/reject", map[string]string{"comment": "test over"}, nil)
			}
		}
	})
	findTask := fmt.Sprintf(`[...document.querySelectorAll('[data-task]')].find(e => e.textContent.includes(%q))`, acc.ID)
	newTab := browser.New(t, stack.API.URL)
	var cashier *browser.Tab
	for _, lang := range []string{"zh", "en"} {
		cashier = newTab()
		cashier.Login("cashier", "cashier", lang)
		cashier.GoTo("/tasks", "tasks")
		cashier.Wait(browser.PageLoad, "the sale in the cashier's inbox", findTask, `document.querySelectorAll('[data-task]').length + ' tasks'`)
		var buttons []string
		if err := cashier.Eval(`[...document.querySelectorAll('[data-page="tasks"] button')].map(b => b.textContent)`, &buttons); err != nil {
			t.Fatal(err)
		}
		for _, b := range buttons {
			if strings.Contains(b, "批准") || strings.Contains(b, "驳回") || strings.Contains(b, "Approve") || strings.Contains(b, "Reject") {
				t.Errorf("%s: a cashier sees the button %q", lang, b)
			}
		}
		cashier.Shot(lang + "-inbox-cashier")
	}
	var taskID string
	if err := cashier.Eval(findTask+`.dataset.task`, &taskID); err != nil {
		t.Fatal(err)
	}
	// The same request the approver's button sends, with the cashier's token.
	var status int
	if err := cashier.Eval(fmt.Sprintf(`fetch('/api/v1/tasks/%s/approve', {method: 'POST', headers: {Authorization: 'Bearer ' + sessionStorage.getItem('vf.token'),
		'Content-Type': 'application/json'}, body: '{"comment":"forged"}'}).then(r => r.status)`, taskID), &status); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("forged approve by a cashier: status %d, want 403", status)
	}
	cashier.NoExceptions()

	// An approver in English sees Approve and Reject on it, and rejects it.
	approver := newTab()
	approver.Login("approver", "approver", "en")
	approver.GoTo("/tasks", "tasks")
	approver.Wait(browser.PageLoad, "the sale in the approver's inbox", findTask, "")
	var clicked bool
	if err := approver.Eval(`(() => { const bs = [...`+findTask+`.querySelectorAll('button')];
		if (!bs.some(b => b.textContent.includes('Approve'))) return false;
		const r = bs.find(b => b.textContent.includes('Reject')); if (!r) return false; r.click(); return true; })()`, &clicked); err != nil || !clicked {
		t.Fatalf("no Approve and Reject buttons on the task in English (%v)", err)
	}
	approver.Wait(browser.PageLoad, "the rejection shows", findTask+` === undefined || `+findTask+`.dataset.status === 'rejected'`,
		`(document.querySelector('.vf-error')||{}).textContent`)
	approver.Shot("en-inbox-rejected")
	approver.NoExceptions()
}

// An API error shows as a readable message: a sale of an invalid amount
// shows the problem's detail, the one the API gives.
func TestAPIErrorIsReadable(t *testing.T) {
	c := stack.Login(t, "cashier", "cashier")
	var p struct{ Detail, Title string }
	code, _, _ := c.DoRaw(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0012", "amount": "-5", "transactionNo": "CONSOLE-BAD-1"})
	if code < 400 {
		t.Fatalf("a sale of -5: status %d", code)
	}
	c.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0012", "amount": "-5", "transactionNo": "CONSOLE-BAD-2"}, &p)
	if p.Detail == "" {
		t.Fatalf("the API gives no detail for a bad amount: %+v", p)
	}
	for _, lang := range []string{"zh", "en"} {
		b := browser.New(t, stack.API.URL)()
		b.Login("cashier", "cashier", lang)
		b.GoTo("/sale?meterNo=M0012", "sale")
		b.Wait(browser.PageLoad, "M0012 at the counter", `document.querySelector('[data-form="sell"]')`, "")
		b.Run("sell -5",
			chromedp.SendKeys(chromedp.CSS(`[data-form="sell"] input[name="amount"]`), "-5"),
			chromedp.Click(chromedp.CSS(`[data-form="sell"] button[type="submit"]`)))
		b.Wait(browser.PageLoad, "the problem's detail shows", fmt.Sprintf(`(document.querySelector('[data-form="sell"] .vf-error')||{}).textContent?.includes(%q)`, p.Detail),
			`(document.querySelector('.vf-error')||{}).textContent`)
		b.Shot(lang + "-sale-error")
		b.NoExceptions()
	}
}

var han = regexp.MustCompile(`\p{Han}`)

// Every page in the navigation opens in both languages, with a label in
// that language, and shows something — never a blank page.
func TestEveryNavPageInBothLanguages(t *testing.T) {
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "zh")
	for _, lang := range []string{"zh", "en"} {
		b.Open("/", lang, "demo")
		b.Wait(browser.PageLoad, "home in "+lang, `document.querySelector('[data-page="home"]') && document.querySelector('#vf-nav a')`, "")
		var nav []struct{ Href, Text, ID string }
		if err := b.Eval(`[...document.querySelectorAll('#vf-nav a')].map(a => ({href: a.getAttribute('href'), text: a.textContent, id: a.dataset.nav}))`, &nav); err != nil {
			t.Fatal(err)
		}
		if len(nav) < 4 {
			t.Fatalf("%s: only %d nav entries", lang, len(nav))
		}
		for _, n := range nav {
			if lang == "zh" && !han.MatchString(n.Text) {
				t.Errorf("zh: nav label %q (%s) has no Chinese", n.Text, n.Href)
			}
			if lang == "en" && han.MatchString(n.Text) {
				t.Errorf("en: nav label %q (%s) is not English", n.Text, n.Href)
			}
			route := strings.TrimPrefix(n.Href, "#")
			b.GoTo(route, n.ID)
			// Shown: the page root has text beyond nothing, and whatever it
			// loads has either arrived or failed readably.
			b.Wait(browser.PageLoad, lang+" "+route+" not blank",
				fmt.Sprintf(`(() => { const p = document.querySelector('[data-page=%q]'); return p && p.innerText.trim().length > 0; })()`, n.ID), "")
			b.Shot(lang + "-nav-" + browser.Safe(n.ID))
		}
	}
	b.NoExceptions()
}

// The board with 10,000 meters (imported into a project of their own, on
// addresses nobody needs to answer) is interactive quickly: measured in the
// browser from navigation to tiles drawn and clickable, and logged (not
// asserted: the machine's load decides it).
func TestBoardWith10000Meters(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	project := fmt.Sprintf("board%d", time.Now().UnixNano()%1e9)
	if code := admin.Do(t, "POST", "/api/v1/projects", map[string]string{"code": project, "name": "Board 10k", "organisation": "demo-group"}, nil); code != http.StatusCreated {
		t.Fatalf("create project: status %d", code)
	}
	var csv strings.Builder
	csv.WriteString("meter_no,gateway,gateway_address,protocol,unit_address,profile,price\n")
	for i := 0; i < 10000; i++ {
		gw, unit := i/200, i%200+1
		addr, proto := "", ""
		if unit == 1 {
			// Port 9 (discard) on loopback: nothing listens, nothing needs to.
			addr, proto = "127.0.0.1:9", "modbus-tcp"
		}
		fmt.Fprintf(&csv, "%s-%05d,%s-GW%02d,%s,%s,%d,ref-prepaid-v1,1.2\n", project, i+1, project, gw, addr, proto, unit)
	}
	code, body, _ := admin.DoHeaders(t, "POST", "/api/v1/projects/"+project+"/meter-imports", csv.String(), map[string]string{"Content-Type": "text/csv"})
	if code != http.StatusCreated {
		t.Fatalf("import 10,000 meters: status %d: %.500s", code, body)
	}

	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "zh")
	// A full load of the console at the board: from navigation start.
	b.Open("/meters/board", "zh", project)
	ready := `document.querySelector('[data-page="board"][data-ready-at]')`
	b.Wait(browser.PageLoad, "the 10k board", ready, "")
	var fullLoad float64
	if err := b.Eval(`Number(document.querySelector('[data-page="board"]').dataset.readyAt)`, &fullLoad); err != nil {
		t.Fatal(err)
	}
	var total string
	if err := b.Eval(`document.querySelector('.vf-pager span').textContent`, &total); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(total, "10000") {
		t.Errorf("board pager says %q, want 10000 meters", total)
	}
	b.Shot("zh-board-10000")
	// In the app: from the hash change to the tiles drawn and clickable.
	b.GoTo("/", "home")
	var fromClick float64
	if err := b.Eval(`new Promise(done => { const t0 = performance.now(); location.hash = '#/meters/board';
		const check = () => { const p = document.querySelector('[data-page="board"][data-ready-at]');
			if (p) done(Number(p.dataset.readyAt) - t0); else setTimeout(check, 5); }; check(); })`, &fromClick); err != nil {
		t.Fatal(err)
	}
	// Clickable: a click selects a tile at once.
	first := fmt.Sprintf(`document.querySelector('[data-page="board"] [data-meter="%s-00001"]')`, project)
	b.Run("click a tile", chromedp.Click(chromedp.CSS(`[data-page="board"] .vf-tile`)))
	b.Wait(browser.PageLoad, "the tile selected", first+`.classList.contains('vf-sel')`, "")
	// The next page answers too.
	b.Run("next page", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.vf-pager button')].pop().click(); true`))
	b.Wait(browser.PageLoad, "page 2", fmt.Sprintf(`document.querySelector('[data-page="board"] [data-meter="%s-00501"]')`, project), "")
	t.Logf("board with 10,000 meters interactive: %.0f ms from a full page load, %.0f ms from the navigation click",
		fullLoad, fromClick)
	fmt.Printf("console board-10k full_load_ms=%.0f nav_ms=%.0f\n", fullLoad, fromClick)
	b.NoExceptions()
}

// An operator changes its password on the password page (a mismatch and a
// weak password shown as readable errors) and logs out; the new password
// logs in, the old one no longer does.
func TestPasswordChangeAndLogout(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	user := fmt.Sprintf("desk%d", time.Now().UnixNano()%1e9)
	oldPassword, newPassword := "Desk-Pass-2026", "Night-Shift-2027"
	if code := admin.Do(t, "POST", "/api/v1/operators", map[string]string{"username": user, "password": oldPassword, "displayName": "Desk"}, nil); code != http.StatusCreated {
		t.Fatalf("create operator: status %d", code)
	}
	if code := admin.Do(t, "POST", "/api/v1/operators/"+user+"/roles", map[string]string{"project": "demo", "role": "cashier"}, nil); code != http.StatusCreated {
		t.Fatalf("grant cashier: status %d", code)
	}
	b := browser.New(t, stack.API.URL)()
	b.Login(user, oldPassword, "zh")
	b.Run("open the password page", chromedp.Click(chromedp.CSS(`#vf-user a[href="#/password"]`)))
	b.Wait(browser.PageLoad, "the password page", `document.querySelector('[data-page="password"] input[name="current"]')`, "")
	change := func(current, next, again string) {
		t.Helper()
		b.Run("change the password", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const f = document.querySelector('[data-page="password"] form');
			f.elements.current.value = %q; f.elements.next.value = %q; f.elements.again.value = %q;
			f.querySelector('button[type="submit"]').click(); })()`, current, next, again)))
	}
	errorText := `(document.querySelector('[data-page="password"] .vf-error')||{}).textContent`
	change(oldPassword, newPassword, newPassword+"x")
	b.Wait(browser.PageLoad, "a mismatch is refused", errorText+`?.includes('两次输入的新密码不一致')`, errorText)
	change(oldPassword, "short", "short")
	b.Wait(browser.PageLoad, "a weak password shows the API's detail", errorText+`?.includes('at least 10 characters')`, errorText)
	b.Shot("zh-password-weak")
	change(oldPassword, newPassword, newPassword)
	b.Wait(browser.PageLoad, "the password changed", `document.querySelector('[data-page="password"] .vf-notice')`, errorText)
	b.Shot("zh-password-changed")
	b.Run("log out", chromedp.Click(chromedp.CSS(`#vf-user a[data-action="logout"]`)))
	b.Wait(browser.PageLoad, "back at the login page", `document.querySelector('[data-page="login"] input[name="username"]') && !sessionStorage.getItem('vf.token')`, `location.hash`)
	b.NoExceptions()

	c := &harness.Client{Base: stack.API.URL}
	if code := c.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": oldPassword}, nil); code != http.StatusUnauthorized {
		t.Errorf("old password: status %d, want 401", code)
	}
	stack.Login(t, user, newPassword)

	// An administrator resets it: the next login lands on the password page,
	// and once changed the console opens.
	resetPassword, finalPassword := "Reset-Pass-2028", "Final-Pass-2029"
	if code := admin.Do(t, "POST", "/api/v1/operators/"+user+"/password", map[string]string{"password": resetPassword}, nil); code != http.StatusNoContent {
		t.Fatalf("reset password: status %d", code)
	}
	b.Login(user, resetPassword, "en")
	b.Wait(browser.PageLoad, "the password page first", `document.querySelector('[data-page="password"] .vf-warn')`, `location.hash`)
	b.Shot("en-password-reset")
	change(resetPassword, finalPassword, finalPassword)
	b.Wait(browser.PageLoad, "the console opens", `document.querySelector('[data-page="home"] .vf-card')`,
		`location.hash + ' ' + (document.querySelector('.vf-error')||{}).textContent`)
	b.NoExceptions()
	stack.Login(t, user, finalPassword)
}

// approveTask approves, through the API as the approver, the pending task
// whose details name id (a rechargeId or refundId).
func approveTask(t *testing.T, id string) {
	t.Helper()
	approver := stack.Login(t, "approver", "approver")
	var inbox struct {
		Items []struct {
			ID      string
			Details map[string]string
		}
	}
	eventually.True(t, browser.PageLoad, "the task of "+id, func() (bool, string) {
		approver.Do(t, "GET", "/api/v1/projects/demo/inbox?status=pending", nil, &inbox)
		for _, it := range inbox.Items {
			if it.Details["rechargeId"] == id || it.Details["refundId"] == id {
				if code := approver.Do(t, "POST", "/api/v1/tasks/"+it.ID+"/approve", map[string]string{"comment": "ok"}, nil); code != http.StatusOK {
					t.Fatalf("approve %s: status %d", it.ID, code)
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d pending tasks", len(inbox.Items))
	})
}

// At the counter a cashier sells twice, reverses the second sale (冲正) and
// refunds (退电) part of the first;
// the reversal and the refund wait for an approver, and the counter follows
// each to completed; the meter ends where the three leave it.
func TestRefundAndReversalAtTheCounter(t *testing.T) {
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	before := readMeter(t, admin, "M0013")
	b := browser.New(t, stack.API.URL)()
	b.Login("cashier", "cashier", "zh")
	b.GoTo("/sale?meterNo=M0013", "sale")
	b.Wait(browser.PageLoad, "M0013 at the counter", `document.querySelector('[data-form="sell"]')`, "")
	// A result, and for a final one the counter redrawn after it (the notice).
	result := func(kind, status string) string {
		r := fmt.Sprintf(`document.querySelector('.vf-result[data-kind=%q][data-status=%q]')`, kind, status)
		if status == "completed" {
			r = `(document.querySelector('.vf-follow .vf-notice') && ` + r + `)`
		}
		return r
	}
	state := `(document.querySelector('.vf-result')||{dataset:{}}).dataset.status + ' ' + (document.querySelector('.vf-error')||{}).textContent`
	// Two sales: 60.00, then 20.00 that was a mistake.
	var saleID string
	for _, amount := range []string{"60.00", "20.00"} {
		b.Run("sell "+amount,
			chromedp.SendKeys(chromedp.CSS(`[data-form="sell"] input[name="amount"]`), amount),
			chromedp.Click(chromedp.CSS(`[data-form="sell"] button[type="submit"]`)))
		b.Wait(2*browser.PageLoad, "the sale of "+amount+" completes", fmt.Sprintf(`%s && %s.dataset.id !== %q`, result("recharge", "completed"), result("recharge", "completed"), saleID), state)
		if err := b.Eval(`document.querySelector('.vf-result[data-kind="recharge"]').dataset.id`, &saleID); err != nil {
			t.Fatal(err)
		}
	}

	// Reverse the 20.00: the button on that sale in the recent sales, a reason.
	reverse := fmt.Sprintf(`[data-reverse=%q]`, saleID)
	b.Wait(browser.PageLoad, "the sale's reverse button", `document.querySelector('`+reverse+`')`, "")
	b.Run("reverse", chromedp.Click(chromedp.CSS(reverse)))
	b.Run("give a reason",
		chromedp.SendKeys(chromedp.CSS(`[data-form="reverse"] input[name="reason"]`), "wrong meter"),
		chromedp.Click(chromedp.CSS(`[data-form="reverse"] button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the reversal waits for approval", result("refund", "pending_approval"), state)
	b.Shot("zh-sale-reversal-pending")
	var id string
	if err := b.Eval(`document.querySelector('.vf-result[data-kind="refund"]').dataset.id`, &id); err != nil {
		t.Fatal(err)
	}
	approveTask(t, id)
	b.Wait(2*browser.PageLoad, "the reversal completes", result("refund", "completed"), state)

	// Refund 10.00 of the balance.
	b.Wait(browser.PageLoad, "the refund form", `document.querySelector('[data-form="refund"]')`, "")
	b.Run("refund 10.00",
		chromedp.SendKeys(chromedp.CSS(`[data-form="refund"] input[name="amount"]`), "10.00"),
		chromedp.Click(chromedp.CSS(`[data-form="refund"] button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the refund waits for approval", fmt.Sprintf(`%s && %s.dataset.id !== %q`, result("refund", "pending_approval"), result("refund", "pending_approval"), id), state)
	if err := b.Eval(`document.querySelector('.vf-result[data-kind="refund"]').dataset.id`, &id); err != nil {
		t.Fatal(err)
	}
	approveTask(t, id)
	b.Wait(2*browser.PageLoad, "the refund completes", result("refund", "completed"), state)
	want := before.Add(decimal.RequireFromString("50.00")).StringFixed(2) // +60 +20 -20 -10
	b.Wait(browser.PageLoad, "the counter shows "+want, fmt.Sprintf(`(document.querySelector('[data-page="sale"] [data-remaining]')||{}).textContent === %q`, want),
		`(document.querySelector('[data-page="sale"] [data-remaining]')||{}).textContent`)
	b.Shot("zh-sale-refund-completed")
	b.NoExceptions()
}
