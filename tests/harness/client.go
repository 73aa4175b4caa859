package harness

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Client is an API caller logged in as one operator. Every request it sends
// and every answer it gets is checked against the OpenAPI document.
type Client struct {
	Base     string
	Token    string
	contract *contract
}

// Login returns a client for username/password, failing the test otherwise.
func (s *Stack) Login(t testing.TB, username, password string) *Client {
	t.Helper()
	c := &Client{Base: s.API.URL, contract: s.contract}
	var out struct{ Token string }
	if code := c.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, &out); code != 200 {
		t.Fatalf("login %s: status %d", username, code)
	}
	c.Token = out.Token
	return c
}

// Do sends a JSON request and decodes the JSON answer into out (if not nil);
// it returns the status code. body may be a string of raw JSON.
func (c *Client) Do(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	code, raw, _ := c.DoRaw(t, method, path, body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return code
}

// DoRaw is Do returning the raw body and content type.
func (c *Client) DoRaw(t testing.TB, method, path string, body any) (int, []byte, string) {
	t.Helper()
	return c.DoHeaders(t, method, path, body, nil)
}

// DoHeaders is DoRaw with extra request headers (Idempotency-Key, a
// Content-Type other than JSON).
func (c *Client) DoHeaders(t testing.TB, method, path string, body any, headers map[string]string) (int, []byte, string) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if c.contract != nil {
		if err := c.contract.check(req, raw, resp.StatusCode, resp.Header, answer); err != nil {
			t.Errorf("%s %s → %d: not as api/openapi.json documents: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, answer, resp.Header.Get("Content-Type")
}

// Bearer returns a client calling with a token obtained otherwise (a
// driver token, an API key); its exchanges are checked like Login's.
func (s *Stack) Bearer(token string) *Client {
	return &Client{Base: s.API.URL, Token: token, contract: s.contract}
}
