package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The server serves the console at /console/, sends / there, and leaves
// every other path to the API.
func TestConsoleMount(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, wantLocation, wantType string
		want                         int
	}{
		{"/", "/console/", "", http.StatusFound},
		{"/console", "/console/", "", http.StatusFound},
		{"/console/", "", "text/html", http.StatusOK},
		{"/console/sale", "", "text/html", http.StatusOK},
		{"/console/main.js", "", "javascript", http.StatusOK},
		{"/api/v1/auth/me", "", "application/problem+json", http.StatusUnauthorized},
		{"/consolex", "", "application/problem+json", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := noRedirect.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if loc := res.Header.Get("Location"); loc != tt.wantLocation {
				t.Errorf("Location %q, want %q", loc, tt.wantLocation)
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantType)
			}
		})
	}
}
