package harness

import (
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
	c := &Client{Base: base, contract: s.contract}
	var out struct{ Token string }
	if code := c.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, &out); code != 200 {
		t.Fatalf("login %s at %s: status %d", username, base, code)
	}
	c.Token = out.Token
	return c
}
