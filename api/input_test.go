package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/api"
)

// TestInputRules: every hostile or invalid input is refused with a 4xx
// problem naming the parameter, never a 5xx.
func TestInputRules(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
		code, field                     string
	}{
		{"NUL in the login username", "", "POST", "/api/v1/auth/login", `{"username":"admin\u0000","password":"x"}`, 400, api.CodeInvalidText, "username"},
		{"control character in a nested field", admin, "POST", "/api/v1/charging-discounts",
			`{"name":"a","kind":"service_percent","percent":"5","groupIds":["g\u0007"]}`, 400, api.CodeInvalidText, "groupIds[0]"},
		{"NUL in a path parameter", admin, "GET", "/api/v1/meters/M%00", "", 400, api.CodeInvalidText, "meterNo"},
		{"invalid UTF-8 in a path parameter", admin, "GET", "/api/v1/recharges/%ff%fe", "", 400, api.CodeInvalidText, "id"},
		{"control character in a query parameter", admin, "GET", "/api/v1/recharges?meterNo=M%01", "", 400, api.CodeInvalidText, "meterNo"},
		{"limit below 1", admin, "GET", "/api/v1/recharges?limit=-1", "", 422, api.CodeInvalidField, "limit"},
		{"limit not a number", admin, "GET", "/api/v1/enterprises?limit=abc", "", 400, api.CodeMalformed, "limit"},
		{"limit above 500", admin, "GET", "/api/v1/recharges?limit=501", "", 422, api.CodeInvalidField, "limit"},
		{"an unknown enum value in a query", admin, "GET", "/api/v1/alarms?kind=nope", "", 422, api.CodeInvalidField, "kind"},
		{"a boolean query parameter", admin, "POST", "/api/v1/projects/demo/meter-imports?dry_run=maybe", "", 400, api.CodeInvalidField, "dry_run"},
		{"a 5,000-character cursor", admin, "GET", "/api/v1/reports/status-board?cursor=" + strings.Repeat("A", 5000), "", 400, api.CodeMalformed, "cursor"},
		{"a cursor of NULs", admin, "GET", "/api/v1/recharges?cursor=" + strings.Repeat("A", 400), "", 400, api.CodeMalformed, ""},
		{"money as a JSON number", admin, "POST", "/api/v1/recharges", `{"meterNo":"M0001","amount":12345,"transactionNo":"t-1"}`, 422, api.CodeInvalidAmount, "amount"},
		{"null for a required field", admin, "POST", "/api/v1/charging-discounts", `{"name":null,"kind":"service_percent","percent":"5"}`, 422, api.CodeInvalidField, "name"},
		{"a required field missing", admin, "POST", "/api/v1/charging-discounts", `{"kind":"service_percent","percent":"5"}`, 422, api.CodeInvalidField, "name"},
		{"an unknown command", admin, "POST", "/api/v1/dispatch/plans", `{"stationId":"S1","kind":"timed","actions":[{"at":"2030-01-01T00:00:00Z","command":"explode","connectorIds":["c"]}]}`, 422, api.CodeUnknownCommand, "actions[0].command"},
		{"an unknown enum value", admin, "POST", "/api/v1/charging-discounts", `{"name":"a","kind":"half_off","percent":"5"}`, 422, api.CodeInvalidField, "kind"},
		{"a version below 1", admin, "POST", "/api/v1/pricing-strategies",
			`{"code":"S","versions":[{"version":-1,"effectiveFrom":"2026-01-01T00:00:00Z","schedule":[],"prices":{}}]}`, 422, api.CodeInvalidField, "versions[0].version"},
		{"a UTC offset out of range", admin, "POST", "/api/v1/pricing-strategies",
			`{"code":"S","versions":[{"version":1,"utcOffsetMinutes":100000,"effectiveFrom":"2026-01-01T00:00:00Z","schedule":[],"prices":{}}]}`, 422, api.CodeInvalidField, "versions[0].utcOffsetMinutes"},
		{"a wrong type", "", "POST", "/api/v1/auth/login", `{"username":["admin"],"password":"x"}`, 422, api.CodeInvalidField, "username"},
		{"trailing data", "", "POST", "/api/v1/auth/login", `{"username":"a","password":"x"} {}`, 400, api.CodeMalformed, ""},
		{"an unknown field", "", "POST", "/api/v1/auth/login", `{"username":"a","password":"x","role":"admin"}`, 400, api.CodeMalformed, ""},
		{"no body", "", "POST", "/api/v1/auth/login", ``, 400, api.CodeMalformed, ""},
		{"a body over 1 MiB", "", "POST", "/api/v1/auth/login", `{"username":"` + strings.Repeat("a", 2<<20) + `"}`, 413, api.CodeMalformed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, srv.URL, c.token, c.method, c.path, c.body)
			var p api.Problem
			_ = json.Unmarshal(body, &p)
			if resp.StatusCode != c.status || p.Code != c.code || p.Field != c.field {
				t.Errorf("%d %s, want %d %s %s", resp.StatusCode, body, c.status, c.code, c.field)
			}
			if strings.Contains(p.Detail, "Go value") || strings.Contains(p.Detail, "api.") || len([]rune(p.Detail)) > 201 ||
				strings.ContainsRune(p.Detail, 0) {
				t.Errorf("detail %q leaks Go names, is too long or holds a NUL", p.Detail)
			}
		})
	}
}

// TestAnswerHeaders: a request id, nosniff and no-store on every answer,
// a login's token included.
func TestAnswerHeaders(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	for _, c := range []struct{ name, token, method, path, body string }{
		{"login", "", "POST", "/api/v1/auth/login", `{"username":"admin","password":"admin"}`},
		{"a list", admin, "GET", "/api/v1/meters", ""},
		{"a problem", admin, "GET", "/api/v1/meters/NOPE", ""},
		{"no route", admin, "GET", "/api/v1/nothing", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := do(t, srv.URL, c.token, c.method, c.path, c.body)
			h := resp.Header
			if h.Get("X-Request-Id") == "" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("%d headers %v", resp.StatusCode, h)
			}
		})
	}
}

// TestRefusedInputIsAudited: a write refused for a NUL or control byte, in
// its body or its path, leaves exactly one audit record with the input
// escaped; a record that cannot be written fails the request.
func TestRefusedInputIsAudited(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := context.Background()
	for _, c := range []struct{ name, path, body, action, want string }{
		{"NUL in a body field", "/api/v1/recharges", `{"meterNo":"M0001","amount":"1.00","transactionNo":"t\u0000x"}`, "recharge.create", `t\u0000x`},
		{"control byte in a path parameter", "/api/v1/recharges/a%01b/redispatch", `{}`, "recharge.redispatch", `a\u0001b`},
		{"NUL in a comment", "/api/v1/tasks/x/approve", `{"comment":"ok\u0000\u001b[31m"}`, "task.approve", `ok\u0000\u001b[31m`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before int
			if err := db.QueryRow(ctx, `select count(*) from audit_log where action=$1`, c.action).Scan(&before); err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, srv.URL, admin, "POST", c.path, c.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var n int
			var value, username string
			if err := db.QueryRow(ctx, `select count(*), max(detail->>'value'), max(username) from audit_log
				where action=$1 and request_id=$2`, c.action, resp.Header.Get("X-Request-Id")).Scan(&n, &value, &username); err != nil {
				t.Fatal(err)
			}
			var after int
			_ = db.QueryRow(ctx, `select count(*) from audit_log where action=$1`, c.action).Scan(&after)
			if n != 1 || after != before+1 || !strings.Contains(value, c.want) || username != "admin" {
				t.Errorf("records %d (%d→%d), value %q, username %q; want one with %q", n, before, after, value, username, c.want)
			}
		})
	}
	t.Run("a record that cannot be written fails the request", func(t *testing.T) {
		if _, err := db.Exec(ctx, `alter table audit_log add constraint refuse_all check (false) not valid`); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := db.Exec(ctx, `alter table audit_log drop constraint refuse_all`); err != nil {
				t.Error(err)
			}
		}()
		resp, body := do(t, srv.URL, "", "POST", "/api/v1/auth/login", `{"username":"admin","password":"admin"}`)
		var p api.Problem
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != http.StatusInternalServerError || p.Code != api.CodeInternal || bytes.Contains(body, []byte("token")) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}

func do(t *testing.T, base, token, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
