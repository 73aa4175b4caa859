package harness

import (
	"context"
	"path/filepath"
	"testing"
)

// Binary is the path of the voltflow binary the stack runs, for tests that
// start more of its processes (simulators, a second API).
func (s *Stack) Binary() string { return filepath.Join(s.binDir, "voltflow") }

// LoginAt is Login against another API process (base URL), with the same
// contract checks.
func (s *Stack) LoginAt(t testing.TB, base, username, password string) *Client {
	t.Helper()
	c := ClientAt(t, base)
	var out struct{ Token string }
	if code := c.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, &out); code != 200 {
		t.Fatalf("login %s at %s: status %d", username, base, code)
	}
	c.Token = out.Token
	return c
}

// OnStop runs f when the stack stops, before anything else stops (the
// processes a test started on the stack).
func (s *Stack) OnStop(f func()) { s.onStop = append(s.onStop, f) }

// ClientAt is an anonymous client of the API process at base, its requests
// and answers checked against the OpenAPI document.
func ClientAt(t testing.TB, base string) *Client {
	t.Helper()
	k, err := newContract(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{Base: base, contract: k}
}
