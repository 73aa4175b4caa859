// Package consolepages drives every page of the operator console's
// navigation in a real headless Chromium (issue 18, "every page" Done-when):
// in Chinese and in English each nav entry shows its data-page root with
// content, a label of its own in each language and no uncaught JavaScript
// error; an API problem on a form is shown as its readable detail.
package consolepages

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	// OCPP brings the demo charging registry and its charge points, so the
	// station list, map and live view have stations to show.
	harness.Main(m, "consolepages", harness.Options{OCPP: true, Gateways: 1, MetersPerGW: 16}, &stack)
}

// browser starts headless Chromium at 1366×768 and collects what the page
// reports: uncaught exceptions and console errors.
type browser struct {
	ctx context.Context
	mu  sync.Mutex
	// exceptions are uncaught errors and unhandled rejections; consoleErrs
	// are console.error calls (showError logs every error it shows).
	exceptions, consoleErrs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (deploy/install-deps.sh installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.NoSandbox, chromedp.WindowSize(1366, 768), chromedp.Flag("lang", "zh-CN"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", text, d.URL, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				b.consoleErrs = append(b.consoleErrs, strings.Join(parts, " "))
			}
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// take returns and clears what was collected.
func (b *browser) take() (exceptions, consoleErrs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	exceptions, consoleErrs = b.exceptions, b.consoleErrs
	b.exceptions, b.consoleErrs = nil, nil
	return
}

func (b *browser) run(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.screenshot(t, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
}

var screenName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// screenshot writes the viewport to .voltflow/screens/pages-<name>.png.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := filepath.Join("..", "..", ".voltflow", "screens")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screens: %v", err)
		return
	}
	var png []byte
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, "pages-"+screenName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// login signs in through the login form (contracts.md "Console": inputs
// username and password, one submit button) and waits for the navigation.
func (b *browser) login(t *testing.T, user, password string) {
	t.Helper()
	b.run(t, "login",
		chromedp.Navigate(stack.API.URL+"/console/#/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, user),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Click(`#main form button[type="submit"]`),
		chromedp.WaitVisible(`#vf-nav a[data-nav]`),
	)
}

// setLang clicks the header's language switch and waits for the nav to follow.
func (b *browser) setLang(t *testing.T, lang string) {
	t.Helper()
	b.run(t, "language "+lang,
		chromedp.Click("#vf-lang-"+lang),
		chromedp.Poll(fmt.Sprintf(`document.documentElement.lang.startsWith(%q)`, map[string]string{"zh": "zh", "en": "en"}[lang]), nil,
			chromedp.WithPollingTimeout(5*time.Second)),
	)
}

type navEntry struct {
	ID    string `json:"id"`
	Href  string `json:"href"`
	Label string `json:"label"`
}

func (b *browser) nav(t *testing.T) []navEntry {
	t.Helper()
	var entries []navEntry
	b.run(t, "read nav", chromedp.Evaluate(`[...document.querySelectorAll('#vf-nav a[data-nav]')]
		.map(a => ({id: a.dataset.nav, href: a.getAttribute('href'), label: a.textContent.trim()}))`, &entries))
	return entries
}

// pageState is what a visited page shows.
type pageState struct {
	Found    bool   `json:"found"`
	Text     string `json:"text"`
	Elements int    `json:"elements"`
	Errors   string `json:"errors"`
}

// visit opens a nav entry and waits until its data-page root shows more
// than its title (a table, an empty-list note, a form, a chart or an error).
func (b *browser) visit(t *testing.T, e navEntry) pageState {
	t.Helper()
	var st pageState
	js := fmt.Sprintf(`(() => {
		const root = document.querySelector('#main [data-page=%q]');
		if (!root) return {found: false, text: '', elements: 0, errors: ''};
		const errs = [...root.querySelectorAll('.vf-error')].map(e => e.textContent.trim()).join(' | ');
		return {found: true, text: root.innerText.trim(), elements: root.querySelectorAll('*').length, errors: errs};
	})()`, e.ID)
	b.run(t, "visit "+e.ID, chromedp.Evaluate(fmt.Sprintf(`location.hash = %q`, e.Href), nil))
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.run(t, "inspect "+e.ID, chromedp.Evaluate(js, &st))
		// Settled: the root has content beyond a heading and no request
		// of the page is still drawing (tables, notes, forms, errors).
		if st.Found && st.Elements > 2 && st.Text != "" {
			var busy bool
			b.run(t, "settle "+e.ID, chromedp.Sleep(150*time.Millisecond), chromedp.Evaluate(js, &st),
				chromedp.Evaluate(`document.querySelectorAll('#main button[disabled]').length > 0`, &busy))
			if !busy {
				return st
			}
		}
		if time.Now().After(deadline) {
			return st
		}
		b.run(t, "wait "+e.ID, chromedp.Sleep(100*time.Millisecond))
	}
}

var han = regexp.MustCompile(`\p{Han}`)

// TestEveryNavEntry visits every entry of the navigation as the demo's
// administrator (every role, platform administrator), in Chinese then in
// English.
func TestEveryNavEntry(t *testing.T) {
	seed(t)
	b := newBrowser(t)
	b.login(t, "admin", "admin")
	labels := map[string]map[string]string{}
	for _, lang := range []string{"zh", "en"} {
		b.setLang(t, lang)
		entries := b.nav(t)
		if len(entries) < 30 {
			t.Fatalf("%s: %d nav entries, want every page (30+): %v", lang, len(entries), entries)
		}
		for _, e := range entries {
			if labels[e.ID] == nil {
				labels[e.ID] = map[string]string{}
			}
			labels[e.ID][lang] = e.Label
			st := b.visit(t, e)
			b.screenshot(t, lang+"-"+e.ID)
			exceptions, consoleErrs := b.take()
			switch {
			case !st.Found:
				t.Errorf("%s %s (%s): no [data-page=%s] root", lang, e.ID, e.Href, e.ID)
			case st.Text == "" || st.Elements <= 2:
				t.Errorf("%s %s: the page shows nothing beyond its title: %q", lang, e.ID, st.Text)
			}
			if st.Errors != "" {
				t.Errorf("%s %s: shows an error to the administrator: %s", lang, e.ID, st.Errors)
			}
			if len(exceptions) > 0 {
				t.Errorf("%s %s: uncaught JavaScript errors: %v", lang, e.ID, exceptions)
			}
			if len(consoleErrs) > 0 {
				t.Errorf("%s %s: console errors: %v", lang, e.ID, consoleErrs)
			}
		}
	}
	for id, l := range labels {
		switch {
		case l["zh"] == "" || l["en"] == "":
			t.Errorf("nav %s: a label in one language only: %v", id, l)
		case !han.MatchString(l["zh"]):
			t.Errorf("nav %s: Chinese label %q has no Chinese", id, l["zh"])
		case han.MatchString(l["en"]):
			t.Errorf("nav %s: English label %q has Chinese", id, l["en"])
		}
	}
}

// TestFormShowsProblemDetail creates an organisation with a code the API
// refuses (422 invalid_field): the form shows the problem's detail in a
// .vf-error and the page stays.
func TestFormShowsProblemDetail(t *testing.T) {
	b := newBrowser(t)
	b.login(t, "admin", "admin")
	b.setLang(t, "en")
	form := `[data-page="organisations"] details.vf-create form`
	var detail string
	b.run(t, "organisation form",
		chromedp.Evaluate(`location.hash = '#/setup/organisations'`, nil),
		chromedp.WaitVisible(form+` input[name="code"]`),
		chromedp.SendKeys(form+` input[name="code"]`, "not a code!"),
		chromedp.SendKeys(form+` input[name="name"]`, "Bad code"),
		chromedp.Click(form+` button[type="submit"]`),
		chromedp.WaitVisible(form+` .vf-error`),
		chromedp.Text(form+` .vf-error`, &detail),
	)
	b.screenshot(t, "organisation-invalid-code")
	// api/setup.go validCode: "code: 1–64 of letters, digits, _ . -", code invalid_field.
	if !strings.Contains(detail, "code: 1–64 of letters, digits") || !strings.Contains(detail, "invalid_field") {
		t.Errorf("error shown %q, want the problem detail and its code", detail)
	}
	exceptions, _ := b.take()
	if len(exceptions) > 0 {
		t.Errorf("uncaught JavaScript errors: %v", exceptions)
	}
	// The same form then creates a valid organisation, which the list shows.
	var listed bool
	b.run(t, "valid organisation",
		chromedp.SetValue(form+` input[name="code"]`, "console-org"),
		chromedp.SetValue(form+` input[name="name"]`, "Console Org"),
		chromedp.Click(form+` button[type="submit"]`),
		chromedp.Poll(`[...document.querySelectorAll('[data-page="organisations"] td')].some(td => td.textContent === 'console-org')`,
			&listed, chromedp.WithPollingTimeout(10*time.Second)),
	)
}

// seed writes a row into the lists the pages show, so each draws its table
// (and chart) from real answers rather than an empty note.
func seed(t *testing.T) {
	t.Helper()
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
		{"POST", "/api/v1/recharges", map[string]string{"meterNo": "M0003", "amount": "10.00", "transactionNo": fmt.Sprint("SEED-R-", n)}},
		{"POST", "/api/v1/meters/M0005/commands", map[string]string{"command": "switch_on"}},
		{"POST", "/api/v1/enterprises", map[string]string{"projectId": stack.ProjectID, "code": "SEED-E", "name": "Seed Co", "email": "seed@example.com"}},
		{"POST", "/api/v1/voucher-batches", map[string]any{"projectId": stack.ProjectID, "name": "Seed vouchers", "faceValue": "5.00",
			"quantity": 3, "expiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339), "transactionNo": fmt.Sprint("SEED-V-", n)}},
		{"POST", "/api/v1/projects/demo/api-keys", map[string]any{"name": "seed key", "roles": []string{"viewer"}}},
		{"POST", "/api/v1/customer-groups", map[string]any{"projectId": stack.ProjectID, "name": "Seed group", "kind": "person",
			"customerIds": []string{customer.ID}}},
	} {
		code, raw, _ := admin.DoRaw(t, w.method, w.path, w.body)
		if code/100 != 2 {
			t.Fatalf("seed %s %s: %d %s", w.method, w.path, code, raw)
		}
	}
}

// TestChartsMapAndLive: the sales report draws its chart from a completed
// sale, the station map plots the demo station, and the live connector view
// polls (its "updated" stamp moves without a reload).
func TestChartsMapAndLive(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	var sale struct{ ID string }
	if code := admin.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0006", "amount": "12.00",
		"transactionNo": fmt.Sprint("CHART-", time.Now().UnixNano())}, &sale); code/100 != 2 {
		t.Fatalf("sale: %d", code)
	}
	b := newBrowser(t)
	b.login(t, "admin", "admin")
	b.setLang(t, "en")
	var stamp1, stamp2 string
	b.run(t, "sales chart",
		// Searching again until the sale has completed and is counted.
		chromedp.Evaluate(`location.hash = '#/reports/sales'`, nil),
		chromedp.Poll(`(() => {
			const c = document.querySelector('[data-page="report-sales"] svg.vf-chart rect');
			if (!c) document.querySelector('[data-page="report-sales"] form.vf-filters button[type=submit]')?.click();
			return !!c; })()`, nil, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(time.Second)),
	)
	b.screenshot(t, "sales-chart")
	b.run(t, "station map",
		chromedp.Evaluate(`location.hash = '#/charging/map'`, nil),
		chromedp.WaitVisible(`[data-page="station-map"] svg.vf-map g.vf-map-station`),
	)
	b.screenshot(t, "station-map")
	b.run(t, "live view",
		chromedp.Click(`[data-page="station-map"] g.vf-map-station circle`),
		chromedp.WaitVisible(`[data-page="charging-live"] [data-connector]`),
		chromedp.Text(`[data-page="charging-live"] .vf-stamp`, &stamp1),
	)
	b.run(t, "live view polls",
		chromedp.Poll(fmt.Sprintf(`document.querySelector('[data-page="charging-live"] .vf-stamp').textContent !== %q`, stamp1),
			nil, chromedp.WithPollingTimeout(6*time.Second)),
		chromedp.Text(`[data-page="charging-live"] .vf-stamp`, &stamp2),
	)
	b.screenshot(t, "charging-live")
	if exceptions, _ := b.take(); len(exceptions) > 0 {
		t.Errorf("uncaught JavaScript errors: %v", exceptions)
	}
	if stamp1 == "" || stamp1 == stamp2 {
		t.Errorf("live view stamp %q then %q, want it to move every 2 s", stamp1, stamp2)
	}
}

// TestImportProblemsAndKeyOnce: a meter sheet with bad rows shows every
// row's problem as a table (422 invalid_import) and nothing is stored; a new
// API key is shown once, in the answer to its creation.
func TestImportProblemsAndKeyOnce(t *testing.T) {
	sheet := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(sheet, []byte("meter_no,gateway,unit_address,profile,price\nX1,GW-NEW,999,generic,1.0000\n,GW-NEW,2,generic,abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.login(t, "admin", "admin")
	b.setLang(t, "en")
	var rows int
	var key string
	b.run(t, "import",
		chromedp.Evaluate(`location.hash = '#/meter-imports'`, nil),
		chromedp.WaitVisible(`[data-page="meter-imports"] input[type=file]`),
		chromedp.SetUploadFiles(`[data-page="meter-imports"] input[type=file]`, []string{sheet}),
		chromedp.Click(`[data-page="meter-imports"] form button[type=submit]`),
		chromedp.WaitVisible(`[data-page="meter-imports"] .vf-import-result table`),
		chromedp.WaitVisible(`[data-page="meter-imports"] .vf-error`),
		chromedp.Evaluate(`document.querySelectorAll('[data-page="meter-imports"] .vf-import-result tbody tr').length`, &rows),
	)
	b.screenshot(t, "meter-import-problems")
	if rows < 2 {
		t.Errorf("%d problem rows shown, want one per problem (2+)", rows)
	}
	b.run(t, "api key",
		chromedp.Evaluate(`location.hash = '#/setup/api-keys'`, nil),
		chromedp.WaitVisible(`[data-page="api-keys"] form input[name="name"]`),
		chromedp.SendKeys(`[data-page="api-keys"] form input[name="name"]`, "console test"),
		chromedp.SendKeys(`[data-page="api-keys"] form input[name="roles"]`, "viewer"),
		chromedp.Click(`[data-page="api-keys"] form button[type=submit]`),
		chromedp.WaitVisible(`[data-page="api-keys"] code.vf-key`),
		chromedp.Text(`[data-page="api-keys"] code.vf-key`, &key),
	)
	b.screenshot(t, "api-key-once")
	if len(key) < 20 {
		t.Errorf("key shown %q, want the new key", key)
	}
	// The key works once copied: a viewer key reads the meters of the project.
	c := &harness.Client{Base: stack.API.URL, Token: key}
	if code := c.Do(t, "GET", "/api/v1/meters?limit=1", nil, nil); code != 200 {
		t.Errorf("GET /meters with the key shown: %d", code)
	}
	if exceptions, _ := b.take(); len(exceptions) > 0 {
		t.Errorf("uncaught JavaScript errors: %v", exceptions)
	}
}
