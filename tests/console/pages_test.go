package console

// The console's other pages (engineer "consolepages"): metering, reports,
// finance, charging, setup and system screens. Every navigation entry, in
// Chinese and English, shows its data-page root with content, no error to
// the administrator and no uncaught JavaScript error; an API problem on a
// form is shown as its readable detail in a .vf-error; the report charts,
// the offline station map, the polled live connector view, the meter
// import's row problems and an API key shown once work in the browser.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/browser"
	"github.com/voltflow/voltflow/tests/harness"
)

var pagesSeedOnce sync.Once

// pagesSeed gives the lists something to show: the demo charging registry
// (stations with their position, charge points, connectors: what `make run`
// loads) and one row of each list a write creates.
func pagesSeed(t *testing.T) {
	t.Helper()
	pagesSeedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := registry.LoadDemo(ctx, stack.DB); err != nil {
			t.Fatalf("demo charging registry: %v", err)
		}
		if err := charger.LoadDemo(ctx, stack.DB, stack.ProjectID); err != nil {
			t.Fatalf("demo chargers: %v", err)
		}
		admin := stack.Login(t, "admin", "admin")
		n := time.Now().UnixNano()
		var customer struct{ ID string }
		if code := admin.Do(t, "POST", "/api/v1/projects/demo/customers", map[string]string{"name": "Seed customer", "kind": "person"}, &customer); code != 201 {
			t.Fatalf("seed customer: %d", code)
		}
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/recharges", map[string]string{"meterNo": "M0031", "amount": "10.00", "transactionNo": fmt.Sprint("PAGES-R-", n)}},
			{"POST", "/api/v1/meters/M0030/commands", map[string]string{"command": "switch_on"}},
			{"POST", "/api/v1/enterprises", map[string]string{"projectId": stack.ProjectID, "code": "PAGES-E", "name": "Seed Co", "email": "seed@example.com"}},
			{"POST", "/api/v1/voucher-batches", map[string]any{"projectId": stack.ProjectID, "name": "Seed vouchers", "faceValue": "5.00",
				"quantity": 3, "expiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339), "transactionNo": fmt.Sprint("PAGES-V-", n)}},
			{"POST", "/api/v1/projects/demo/api-keys", map[string]any{"name": "seed key", "roles": []string{"viewer"}}},
			{"POST", "/api/v1/customer-groups", map[string]any{"projectId": stack.ProjectID, "name": "Seed group", "kind": "person",
				"customerIds": []string{customer.ID}}},
		} {
			code, raw, _ := admin.DoRaw(t, w.method, w.path, w.body)
			if code/100 != 2 {
				t.Fatalf("seed %s %s: %d %s", w.method, w.path, code, raw)
			}
		}
	})
}

// pagesWatch wraps console.error in the page so a test can read what was
// logged (showError logs every error it shows), and fetch so it can wait
// for a page's requests to be answered; hash navigation keeps both.
const pagesWatch = `(() => { if (!window.__vfErrs) { window.__vfErrs = []; const o = console.error;
	console.error = (...a) => { window.__vfErrs.push(a.map(x => x && x.stack ? x.stack : String(x)).join(' ')); o(...a); };
	window.__vfPending = 0; const f = window.fetch;
	window.fetch = (...a) => { window.__vfPending++; return f(...a).finally(() => { window.__vfPending--; }); }; } return true; })()`

type pagesState struct {
	Text     string
	Elements int
	Errors   string
	Logged   []string
	Raw      []string // column headings that are a bare API key (no label)
}

// pagesNav is an entry of the navigation.
type pagesNav struct{ Href, Text, ID string }

// pagesWalk opens every navigation entry in lang and waits until each has
// settled: more than a heading in its root and every request of the page
// answered and drawn (a request may lead to another: the condition must
// hold on two checks 100 ms apart). It returns the entries and what each
// page showed; screenshots are named pages-<who>-<lang>-<page>.
func pagesWalk(t *testing.T, b *browser.Tab, who, lang string) ([]pagesNav, map[string]pagesState) {
	t.Helper()
	b.Open("/", lang, "demo")
	b.Wait(browser.PageLoad, "nav in "+lang, `document.querySelector('#vf-nav a[data-nav]')`, "")
	if err := b.Eval(pagesWatch, nil); err != nil {
		t.Fatal(err)
	}
	var nav []pagesNav
	if err := b.Eval(`[...document.querySelectorAll('#vf-nav a[data-nav]')].map(a => ({href: a.getAttribute('href'), text: a.textContent.trim(), id: a.dataset.nav}))`, &nav); err != nil {
		t.Fatal(err)
	}
	shown := map[string]pagesState{}
	for _, n := range nav {
		b.GoTo(strings.TrimPrefix(n.Href, "#"), n.ID)
		root := fmt.Sprintf(`document.querySelector('#main [data-page=%q]')`, n.ID)
		settled := fmt.Sprintf(`(() => { const p = %s; return !!p && p.querySelectorAll('*').length > 2 && p.innerText.trim() !== ''
			&& window.__vfPending === 0; })()`, root)
		eventually.True(t, browser.PageLoad, who+" "+lang+" "+n.ID+" shows content", func() (bool, string) {
			var ok bool
			err := b.Eval(`(async () => `+settled+` && await new Promise(r => setTimeout(() => r(`+settled+`), 100)))()`, &ok)
			if err != nil {
				return false, err.Error()
			}
			var text string
			_ = b.Eval(`String(`+root+`?.innerText)`, &text)
			return ok, text
		})
		var st pagesState
		if err := b.Eval(fmt.Sprintf(`(() => { const p = %s; const s = {text: p.innerText.trim(), elements: p.querySelectorAll('*').length,
			errors: [...p.querySelectorAll('.vf-error')].map(e => e.textContent.trim()).join(' | '), logged: window.__vfErrs || [],
			raw: [...p.querySelectorAll('th')].map(th => th.textContent).filter(x => /^[a-z][A-Za-z]*$/.test(x))};
			window.__vfErrs = []; return s; })()`, root), &st); err != nil {
			t.Fatalf("%s %s %s: %v", who, lang, n.ID, err)
		}
		shown[n.ID] = st
		b.Shot("pages-" + who + "-" + lang + "-" + browser.Safe(n.ID))
	}
	return nav, shown
}

// Every navigation entry as the demo administrator (every role; platform
// administrator), in Chinese then English: its root has content beyond its
// title once its loads settle, shows no error, logs none and throws none.
func TestEveryPageShowsContent(t *testing.T) {
	pagesSeed(t)
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "zh")
	labels := map[string]map[string]string{}
	for _, lang := range []string{"zh", "en"} {
		nav, shown := pagesWalk(t, b, "admin", lang)
		if len(nav) < 40 {
			t.Fatalf("%s: %d nav entries, want every page (40+)", lang, len(nav))
		}
		for _, n := range nav {
			if labels[n.ID] == nil {
				labels[n.ID] = map[string]string{}
			}
			labels[n.ID][lang] = n.Text
			if st := shown[n.ID]; st.Errors != "" {
				t.Errorf("%s %s: shows an error to the administrator: %s", lang, n.ID, st.Errors)
			} else if len(st.Logged) > 0 {
				t.Errorf("%s %s: console errors: %v", lang, n.ID, st.Logged)
			}
			if len(shown[n.ID].Raw) > 0 {
				t.Logf("%s %s: headings without a label: %v", lang, n.ID, shown[n.ID].Raw)
			}
		}
	}
	for id, l := range labels {
		if l["zh"] == "" || l["en"] == "" || l["zh"] == l["en"] {
			t.Errorf("nav %s: want a Chinese and an English label, got %v", id, l)
		}
	}
	// A detail page reached by a link: the seeded enterprise with its
	// wallet, staff and bills.
	b.GoTo("/enterprises", "enterprises")
	b.Wait(browser.PageLoad, "the enterprise's link", `document.querySelector('[data-page="enterprises"] a[href^="#/enterprises/"]')`, "")
	b.Run("open the enterprise", chromedp.Click(chromedp.CSS(`[data-page="enterprises"] a[href^="#/enterprises/"]`)))
	b.Wait(browser.PageLoad, "the enterprise page", `(document.querySelector('[data-page="enterprise"] h2:not(.vf-page-title)')||{}).textContent?.includes('Seed Co')
		&& document.querySelectorAll('[data-page="enterprise"] .vf-list').length === 2 && window.__vfPending === 0`,
		`(document.querySelector('[data-page="enterprise"]')||{}).innerText`)
	var errs string
	if err := b.Eval(`[...document.querySelectorAll('[data-page="enterprise"] .vf-error')].map(e => e.textContent).join(' | ')`, &errs); err != nil || errs != "" {
		t.Errorf("enterprise page: errors %q (%v)", errs, err)
	}
	b.Shot("pages-enterprise")
	b.NoExceptions()
}

// An organisation with a code the API refuses (422 invalid_field): the form
// shows the problem's detail in a .vf-error and stays; corrected, it creates
// the organisation, which the list then shows.
func TestSetupFormShowsProblemDetail(t *testing.T) {
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	form := `[data-page="organisations"] details.vf-create form`
	b.GoTo("/setup/organisations", "organisations")
	b.Wait(browser.PageLoad, "organisation form", `document.querySelector('`+form+` input[name="code"]')`, "")
	b.Run("invalid code",
		chromedp.SendKeys(chromedp.CSS(form+` input[name="code"]`), "not a code!"),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="name"]`), "Bad code"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
	// api/setup.go validCode: "code: 1–64 of letters, digits, _ . -", invalid_field.
	b.Wait(browser.PageLoad, "the problem's detail shows",
		`(document.querySelector('`+form+` .vf-error')||{}).textContent?.includes('code: 1–64 of letters, digits')`,
		`(document.querySelector('.vf-error')||{}).textContent`)
	b.Shot("pages-organisation-invalid-code")
	b.Run("valid code",
		chromedp.SetValue(chromedp.CSS(form+` input[name="code"]`), "console-org"),
		chromedp.SetValue(chromedp.CSS(form+` input[name="name"]`), "Console Org"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the new organisation is listed",
		`[...document.querySelectorAll('[data-page="organisations"] td')].some(td => td.textContent === 'console-org')`, "")
	b.NoExceptions()
}

// The sales report draws its chart from a completed sale, the station map
// plots the demo station offline, a click opens the live connector view and
// it polls (its "updated" stamp moves without a reload).
func TestChartsMapAndLiveView(t *testing.T) {
	pagesSeed(t)
	admin := stack.Login(t, "admin", "admin")
	if code := admin.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0032", "amount": "12.00",
		"transactionNo": fmt.Sprint("PAGES-C-", time.Now().UnixNano())}, nil); code/100 != 2 {
		t.Fatalf("sale: %d", code)
	}
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	b.GoTo("/reports/sales", "report-sales")
	// Searching again until the sale has completed and is counted.
	b.Wait(browser.PageLoad, "the sales chart", `(() => {
		const c = document.querySelector('[data-page="report-sales"] svg.vf-chart rect');
		if (!c) document.querySelector('[data-page="report-sales"] form.vf-filters button[type=submit]')?.click();
		return !!c; })()`, "")
	b.Shot("pages-sales-chart")
	b.GoTo("/charging/map", "station-map")
	b.Wait(browser.PageLoad, "the station on the map", `document.querySelector('[data-page="station-map"] svg.vf-map g.vf-map-station')`, "")
	b.Shot("pages-station-map")
	b.Run("open the station", chromedp.Click(chromedp.CSS(`[data-page="station-map"] g.vf-map-station circle`)))
	b.Wait(browser.PageLoad, "its connectors", `document.querySelector('[data-page="charging-live"] [data-connector]')`, "location.hash")
	var stamp string
	if err := b.Eval(`document.querySelector('[data-page="charging-live"] .vf-stamp').textContent`, &stamp); err != nil || stamp == "" {
		t.Fatalf("live view stamp %q: %v", stamp, err)
	}
	b.Wait(6*time.Second, "the live view polls", fmt.Sprintf(`document.querySelector('[data-page="charging-live"] .vf-stamp')?.textContent !== %q`, stamp), "")
	b.Shot("pages-charging-live")
	b.NoExceptions()
}

// A meter sheet with bad rows shows every row's problem in a table (422
// invalid_import, nothing stored); a new API key is shown once, and works.
func TestImportProblemsAndAPIKeyOnce(t *testing.T) {
	sheet := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(sheet, []byte("meter_no,gateway,unit_address,profile,price\nX1,GW-NEW,999,generic,1.0000\n,GW-NEW,2,generic,abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	b.GoTo("/meter-imports", "meter-imports")
	b.Wait(browser.PageLoad, "the upload form", `document.querySelector('[data-page="meter-imports"] input[type=file]')`, "")
	b.Run("upload a bad sheet",
		chromedp.SetUploadFiles(chromedp.CSS(`[data-page="meter-imports"] input[type=file]`), []string{sheet}),
		chromedp.Click(chromedp.CSS(`[data-page="meter-imports"] form button[type=submit]`)))
	b.Wait(browser.PageLoad, "a row per problem", `document.querySelectorAll('[data-page="meter-imports"] .vf-import-result tbody tr').length >= 2
		&& document.querySelector('[data-page="meter-imports"] .vf-error')`, "")
	b.Shot("pages-meter-import-problems")

	b.GoTo("/setup/api-keys", "api-keys")
	b.Wait(browser.PageLoad, "the key form", `document.querySelector('[data-page="api-keys"] form input[name="name"]')`, "")
	b.Run("create a key",
		chromedp.SendKeys(chromedp.CSS(`[data-page="api-keys"] form input[name="name"]`), "console test"),
		chromedp.SendKeys(chromedp.CSS(`[data-page="api-keys"] form input[name="roles"]`), "viewer"),
		chromedp.Click(chromedp.CSS(`[data-page="api-keys"] form button[type=submit]`)))
	b.Wait(browser.PageLoad, "the key shown", `document.querySelector('[data-page="api-keys"] code.vf-key')`, "")
	var key string
	if err := b.Eval(`document.querySelector('[data-page="api-keys"] code.vf-key').textContent`, &key); err != nil {
		t.Fatal(err)
	}
	b.Shot("pages-api-key-once")
	// Copied from the screen, the key reads the project's meters.
	c := &harness.Client{Base: stack.API.URL, Token: key}
	if code := c.Do(t, "GET", "/api/v1/meters?limit=1", nil, nil); code != 200 {
		t.Errorf("GET /meters with the key shown (%d characters): %d", len(key), code)
	}
	b.NoExceptions()
}

// The cashier sees fewer entries (no organisations, operators, audit log,
// API keys, settings, import); each opens with content, and where the
// cashier's roles do not reach, the API's refusal shows as a readable
// message (its detail), never a blank page or a thrown error.
func TestEveryPageAsCashier(t *testing.T) {
	pagesSeed(t)
	b := browser.New(t, stack.API.URL)()
	b.Login("cashier", "cashier", "en")
	nav, shown := pagesWalk(t, b, "cashier", "en")
	for _, n := range nav {
		switch n.ID {
		case "organisations", "operators", "audit-log", "api-keys", "settings", "meter-imports":
			t.Errorf("the cashier's navigation has %s", n.ID)
		}
		if e := shown[n.ID].Errors; e != "" {
			t.Logf("cashier %s: %s", n.ID, e)
		}
		for _, l := range shown[n.ID].Logged {
			// showError logs what it shows; anything else logged is a bug.
			if !strings.Contains(l, "ProblemError") {
				t.Errorf("%s: console error not shown as a problem: %s", n.ID, l)
			}
		}
	}
	b.NoExceptions()
}

// The gateway screen looks a gateway up (its codes from the project's
// meters); the site tree creates a site, which appears in the tree, and —
// where the API has PATCH …/sites/{id} — renames it inline.
func TestGatewayAndSiteTree(t *testing.T) {
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	b.GoTo("/setup/gateways", "gateways")
	b.Wait(browser.PageLoad, "gateway codes", `document.querySelector('[data-page="gateways"] select[name="code"] option')`, "")
	b.Run("look the first gateway up", chromedp.Click(chromedp.CSS(`[data-page="gateways"] form button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the gateway and its form", `document.querySelector('[data-page="gateways"] input[name="address"]')
		&& [...document.querySelectorAll('[data-page="gateways"] td')].some(td => /modbus|dlt645/.test(td.textContent))`,
		`(document.querySelector('[data-page="gateways"]')||{}).innerText`)
	b.Shot("pages-gateway")

	b.GoTo("/setup/sites", "sites")
	b.Wait(browser.PageLoad, "the site form", `document.querySelector('[data-page="sites"] form input[name="name"]')`, "")
	b.Run("create a site",
		chromedp.SendKeys(chromedp.CSS(`[data-page="sites"] form input[name="name"]`), "Pages Tower"),
		chromedp.Click(chromedp.CSS(`[data-page="sites"] form button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the site in the tree", `[...document.querySelectorAll('[data-page="sites"] .vf-tree-node strong')].some(s => s.textContent === 'Pages Tower')`,
		`(document.querySelector('[data-page="sites"] .vf-error')||{}).textContent`)
	var canPatch bool
	if err := b.Eval(`fetch('/api/v1/openapi.json').then(r => r.json()).then(d => !!d.paths['/api/v1/projects/{project}/sites/{id}']?.patch)`, &canPatch); err != nil {
		t.Fatal(err)
	}
	if canPatch {
		node := `[...document.querySelectorAll('[data-page="sites"] .vf-tree-node')].find(n => n.querySelector('strong').textContent === 'Pages Tower')`
		if err := b.Eval(`(() => { const n = `+node+`; n.querySelector('.vf-tree-edit').hidden = false;
			n.querySelector('input[name="siteName"]').value = 'Pages Tower B'; [...n.querySelectorAll('button')].find(x => /Save name/.test(x.textContent)).click(); return true; })()`, nil); err != nil {
			t.Fatal(err)
		}
		b.Wait(browser.PageLoad, "the renamed site", `[...document.querySelectorAll('[data-page="sites"] .vf-tree-node strong')].some(s => s.textContent === 'Pages Tower B')`,
			`(document.querySelector('[data-page="sites"] .vf-error')||{}).textContent`)
	}
	b.Shot("pages-site-tree")
	b.NoExceptions()
}

// Every "Export Excel" button downloads a workbook of the page's filter
// through the API (the blob's type is xlsx), with no error shown.
func TestExcelExports(t *testing.T) {
	pagesSeed(t)
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	b.GoTo("/alarms", "alarms")
	// Record the blobs download() hands to an <a download>.
	if err := b.Eval(pagesWatch+` && (() => { if (!window.__vfBlobs) { window.__vfBlobs = []; const c = URL.createObjectURL;
		URL.createObjectURL = x => { window.__vfBlobs.push({type: x.type, size: x.size}); return c(x); }; } return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ route, id string }{
		{"/alarms", "alarms"}, {"/meter-commands", "meter-commands"}, {"/refunds", "refunds"}, {"/invoices", "invoices"},
		{"/reports/consumption", "report-consumption"}, {"/reports/sales", "report-sales"}, {"/reports/statement", "report-statement"},
		{"/reports/lost-contact", "report-lost-contact"}, {"/reports/command-log", "report-command-log"},
		{"/reports/finance", "report-finance"}, {"/reports/om", "report-om"}, {"/charging/orders", "charging-orders"},
		{"/charging/tou", "charging-tou"}, {"/system/audit", "audit-log"},
	} {
		b.GoTo(p.route, p.id)
		sel := fmt.Sprintf(`[data-page=%q] .vf-export`, p.id)
		b.Wait(browser.PageLoad, p.id+" export button", `document.querySelector('`+sel+`') && window.__vfPending === 0`, "")
		var before int
		if err := b.Eval(`window.__vfBlobs.length`, &before); err != nil {
			t.Fatal(err)
		}
		b.Run("export "+p.id, chromedp.Click(chromedp.CSS(sel)))
		b.Wait(browser.PageLoad, p.id+" downloaded", fmt.Sprintf(`window.__vfBlobs.length > %d || document.querySelector('[data-page=%q] .vf-error')`, before, p.id), "")
		var got struct {
			Type   string
			Size   int
			Errors string
		}
		if err := b.Eval(fmt.Sprintf(`({...(window.__vfBlobs[%d] || {}), errors: [...document.querySelectorAll('[data-page=%q] .vf-error')].map(e => e.textContent).join(' | ')})`, before, p.id), &got); err != nil {
			t.Fatal(err)
		}
		if got.Errors != "" || !strings.Contains(got.Type, "spreadsheetml") || got.Size == 0 {
			t.Errorf("%s: export %+v, want an xlsx workbook and no error", p.id, got)
		}
	}
	b.NoExceptions()
}

// Opening an account (开户) picks the customer and the unit from the
// project's lists; a meter the project lacks is refused with the field
// named, shown readably.
func TestOpenAccountForm(t *testing.T) {
	pagesSeed(t)
	b := browser.New(t, stack.API.URL)()
	b.Login("admin", "admin", "en")
	b.GoTo("/setup/accounts", "accounts")
	form := `[data-page="accounts"] form`
	b.Wait(browser.PageLoad, "customers and units to pick", `document.querySelector('`+form+` select[name="customerId"] option')
		&& document.querySelector('`+form+` select[name="unitId"] option')`, "")
	b.Run("open an account on an unknown meter",
		chromedp.SendKeys(chromedp.CSS(form+` input[name="meters"]`), "NO-SUCH-METER"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
	b.Wait(browser.PageLoad, "the refusal", `(document.querySelector('`+form+` .vf-error')||{}).textContent?.includes('NO-SUCH-METER')`,
		`(document.querySelector('`+form+`')||{}).innerText`)
	b.Shot("pages-open-account-refused")
	b.GoTo("/setup/units", "units")
	b.Wait(browser.PageLoad, "the units and customers listed", `[...document.querySelectorAll('[data-page="units"] td')].some(td => td.textContent === 'Seed customer')`, "")
	b.NoExceptions()
}
