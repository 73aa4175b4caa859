package console

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

// pageLoad bounds a page's wait for its data: the browser, the API, the
// worker and PostgreSQL share a loaded 2-core machine.
const pageLoad = 30 * time.Second

// tab is one browser tab of one operator (the token lives in the tab's
// sessionStorage, so two tabs are two sessions).
type tab struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

// browser starts a headless Chromium for the test and returns a function
// opening tabs in it.
func browser(t *testing.T) func() *tab {
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
	return func() *tab {
		tb := &tab{t: t}
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

// run runs browser actions, failing the test on error.
func (b *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageLoad)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + safe(what))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *tab) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, pageLoad)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[jsontext.Value](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(v, out)
}

// wait polls a JavaScript condition (an expression that is true when met)
// until it holds or timeout passes; state is a JavaScript expression whose
// value the failure shows.
func (b *tab) wait(timeout time.Duration, what, cond, state string) {
	b.t.Helper()
	var last string
	defer func() {
		if b.t.Failed() {
			b.shot("failed-" + safe(what))
		}
	}()
	eventually.True(b.t, timeout, what, func() (bool, string) {
		var ok bool
		if err := b.eval("!!("+cond+")", &ok); err != nil {
			return false, err.Error()
		}
		if !ok && state != "" {
			_ = b.eval("String("+state+")", &last)
		}
		return ok, last
	})
}

// screens is .voltflow/screens at the repository root.
func screens() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".voltflow", "screens")
}

// shot saves a screenshot of the whole page as .voltflow/screens/<name>.png.
func (b *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, pageLoad)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := screens()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// open loads the console (a full page load) at a hash route, in a language
// and a project.
func (b *tab) open(route, lang, project string) {
	b.t.Helper()
	b.run("open "+route, chromedp.Navigate(stack.API.URL+"/console/"),
		chromedp.WaitReady(chromedp.CSS("#main")),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem('vf.lang', %q); localStorage.setItem('vf.project', %q); true`, lang, project)),
		chromedp.Navigate(stack.API.URL+"/console/#"+route))
}

// login logs in through the login form and waits for the shell.
func (b *tab) login(user, password, lang string) {
	b.t.Helper()
	b.open("/login", lang, "demo")
	b.wait(pageLoad, "login form", `document.querySelector('[data-page="login"] input[name="username"]')`, "")
	b.run("fill the login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
	b.shot(lang + "-login")
	b.run("log in", chromedp.Click(chromedp.CSS(`[data-page="login"] button[type="submit"]`)))
	b.wait(pageLoad, user+" logged in", `!document.body.classList.contains('vf-anon') && document.querySelector('#vf-nav a')`,
		`(document.querySelector('.vf-error')||{}).textContent`)
}

// goTo navigates inside the app (hash route) and waits for the page's root.
func (b *tab) goTo(route, page string) {
	b.t.Helper()
	b.run("go "+route, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q; true`, "#"+route)))
	b.wait(pageLoad, "page "+page, fmt.Sprintf(`document.querySelector('[data-page=%q]')`, page), `location.hash`)
}

// noExceptions fails the test if a page threw.
func (b *tab) noExceptions() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.exceptions {
		b.t.Errorf("uncaught exception in the console: %s", e)
	}
	b.exceptions = nil
}
