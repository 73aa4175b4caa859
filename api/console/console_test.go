package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{"/", "", "", http.StatusFound},
		{"/console/", "text/html", `src="/console/main.js"`, http.StatusOK},
		{"/console/meters/board", "text/html", `<main id="main"`, http.StatusOK},
		{"/console/lib.js", "javascript", "export function register", http.StatusOK},
		{"/console/pages/index.js", "javascript", "import './login.js'", http.StatusOK},
		{"/console/style.css", "text/css", ".vf-tile", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := noRedirect.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusFound {
				if loc := res.Header.Get("Location"); loc != "/console/" {
					t.Fatalf("Location %q", loc)
				}
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			if res.Header.Get("X-Frame-Options") != "DENY" {
				t.Error("X-Frame-Options missing")
			}
		})
	}
}
