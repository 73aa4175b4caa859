// Package browser drives the operator console in a headless Chromium
// (Debian's chromium package, installed by deploy/install-deps.sh) through
// chromedp, for the browser tests (tests/console): tabs as operators,
// waits on conditions evaluated in the page, screenshots to
// .voltflow/screens/ at the repository root.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/voltflow/voltflow/internal/eventually"
)

// PageLoad bounds a page's wait for its data: the browser, the API, the
// worker and PostgreSQL share a loaded 2-core machine.
const PageLoad = 30 * time.Second

// Tab is one browser tab of one operator (the token lives in the tab's
// sessionStorage, so two tabs are two sessions).
type Tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the API's URL: the console is at base + "/console/"

	mu         sync.Mutex
	exceptions []string
}

// New starts a headless Chromium for the test and returns a function
// opening tabs in it on the console served at base (the API's URL).
func New(t *testing.T, base string) func() *Tab {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (make deps installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in a container has no user namespace sandbox
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1366, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	var root context.Context
	return func() *Tab {
		tb := &Tab{t: t, base: base}
		listen := chromedp.WithListener(func(ev any) {
			var e *cdpruntime.EventExceptionThrown
			switch x := ev.(type) {
			case *cdpruntime.EventExceptionThrown:
				e = x
			case cdpruntime.EventExceptionThrown:
				e = &x
			default:
				return
			}
			tb.mu.Lock()
			tb.exceptions = append(tb.exceptions, exceptionText(e))
			tb.mu.Unlock()
		})
		var cancel context.CancelFunc
		if root == nil {
			// The first tab starts the browser, which lives as long as its context.
			tb.ctx, cancel = chromedp.NewContext(allocCtx, listen)
			root = tb.ctx
		} else {
			tb.ctx, cancel = chromedp.NewContext(root, listen)
		}
		t.Cleanup(cancel)
		if err := chromedp.Do(tb.ctx); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		return tb
	}
}

func exceptionText(e *cdpruntime.EventExceptionThrown) string {
	d := e.ExceptionDetails
	if d == nil {
		return "exception"
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// Run runs browser actions, failing the test on error.
func (b *Tab) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, PageLoad)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.Shot("failed-" + Safe(what))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *Tab) Eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, PageLoad)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[jsontext.Value](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(v, out)
}

// Wait polls a JavaScript condition (an expression that is true when met)
// until it holds or timeout passes; state is a JavaScript expression whose
// value the failure shows.
func (b *Tab) Wait(timeout time.Duration, what, cond, state string) {
	b.t.Helper()
	var last string
	defer func() {
		if b.t.Failed() {
			b.Shot("failed-" + Safe(what))
		}
	}()
	eventually.True(b.t, timeout, what, func() (bool, string) {
		var ok bool
		if err := b.Eval("!!("+cond+")", &ok); err != nil {
			return false, err.Error()
		}
		if !ok && state != "" {
			_ = b.Eval("String("+state+")", &last)
		}
		return ok, last
	})
}

// Screens is .voltflow/screens at the repository root.
func Screens() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".voltflow", "screens")
}

// Shot saves a screenshot of the whole page as .voltflow/screens/<name>.png.
func (b *Tab) Shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, PageLoad)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := Screens()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// Safe makes s a file name.
func Safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// Open loads the console (a full page load) at a hash route, in a language
// and a project.
func (b *Tab) Open(route, lang, project string) {
	b.t.Helper()
	b.Run("open "+route, chromedp.Navigate(b.base+"/console/"),
		chromedp.WaitReady(chromedp.CSS("#main")),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem('vf.lang', %q); localStorage.setItem('vf.project', %q); true`, lang, project)),
		chromedp.Navigate(b.base+"/console/#"+route))
}

// Login logs in through the login form and waits for the shell.
func (b *Tab) Login(user, password, lang string) {
	b.t.Helper()
	b.Open("/login", lang, "demo")
	b.Wait(PageLoad, "login form", `document.querySelector('[data-page="login"] input[name="username"]')`, "")
	b.Run("fill the login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
	b.Shot(lang + "-login")
	b.Run("log in", chromedp.Click(chromedp.CSS(`[data-page="login"] button[type="submit"]`)))
	b.Wait(PageLoad, user+" logged in", `!document.body.classList.contains('vf-anon') && document.querySelector('#vf-nav a')`,
		`(document.querySelector('.vf-error')||{}).textContent`)
}

// GoTo navigates inside the app (hash route) and waits for the page's root.
func (b *Tab) GoTo(route, page string) {
	b.t.Helper()
	b.Run("go "+route, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q; true`, "#"+route)))
	b.Wait(PageLoad, "page "+page, fmt.Sprintf(`document.querySelector('[data-page=%q]')`, page), `location.hash`)
}

// NoExceptions fails the test if a page threw.
func (b *Tab) NoExceptions() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.exceptions {
		b.t.Errorf("uncaught exception in the console: %s", e)
	}
	b.exceptions = nil
}
