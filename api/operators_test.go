package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/api"
)

const alicePassword = "Zhang-San-2024"

// login answers the status and token of a login.
func login(t *testing.T, srv *httptest.Server, user, password string) (int, string, *http.Response) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Token, resp
}

// problemCode is the code of a problem+json body.
func problemCode(b []byte) string {
	var p struct{ Code string }
	_ = json.Unmarshal(b, &p)
	return p.Code
}

// newViewer has the admin create operator alice with the viewer role in the
// demo project, and logs her in.
func newViewer(t *testing.T, srv *httptest.Server, admin string) string {
	t.Helper()
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators",
		`{"username":"alice","password":"`+alicePassword+`","displayName":"Alice"}`); code != http.StatusCreated {
		t.Fatalf("create operator: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"viewer"}`); code != http.StatusCreated {
		t.Fatalf("grant: %d %s", code, b)
	}
	code, token, _ := login(t, srv, "alice", alicePassword)
	if code != http.StatusOK {
		t.Fatalf("alice login: %d", code)
	}
	return token
}

func TestOperatorCreateAndRoles(t *testing.T) {
	srv, _, admin, other := reportsAPI(t)
	for _, c := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"weak password", admin, `{"username":"bob","password":"bob"}`, 422, api.CodeWeakPassword},
		{"bad username", admin, `{"username":"a b","password":"` + alicePassword + `"}`, 422, api.CodeInvalidField},
		{"not an admin", other, `{"username":"bob","password":"` + alicePassword + `"}`, 403, api.CodeForbidden},
	} {
		if code, b := send(t, srv, c.token, "POST", "/api/v1/operators", c.body); code != c.status || problemCode(b) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, b, c.status, c.code)
		}
	}
	alice := newViewer(t, srv, admin)
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators", `{"username":"alice","password":"`+alicePassword+`"}`); code != 409 || problemCode(b) != api.CodeOperatorExists {
		t.Errorf("duplicate: %d %s", code, b)
	}
	if resp, b := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Fatalf("viewer meter: %d %s", resp.StatusCode, b)
	}
	if code, b := send(t, srv, admin, "DELETE", "/api/v1/operators/alice/roles?project=demo&role=viewer", ""); code != 204 {
		t.Fatalf("revoke: %d %s", code, b)
	}
	if resp, _ := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != 404 {
		t.Errorf("revoked role still sees the meter: %d", resp.StatusCode)
	}
	if code, _ := send(t, srv, admin, "DELETE", "/api/v1/operators/alice/roles?project=demo&role=viewer", ""); code != 404 {
		t.Errorf("revoke twice: %d", code)
	}
	// other is no admin of demo: it may not grant there.
	if code, b := send(t, srv, other, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"admin"}`); code != 404 && code != 403 {
		t.Errorf("grant by a stranger: %d %s", code, b)
	}
}

func TestSiteScopedRole(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := context.Background()
	building, floor := uuid.NewString(), uuid.NewString()
	if _, err := db.Exec(ctx, `insert into sites(id, project_id, level, name) select $1, id, 1, 'Building B' from projects where code='demo';
		`, building); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `insert into sites(id, project_id, parent_id, level, name) select $1, id, $2, 2, 'Floor 1' from projects where code='demo'`,
		floor, building); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `update units set site_id=$1 where id=(select unit_id from meters where meter_no='M0002')`, floor); err != nil {
		t.Fatal(err)
	}
	alice := newViewer(t, srv, admin)
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"cashier","siteIds":["`+uuid.NewString()+`"]}`); code != 422 {
		t.Errorf("unknown site: %d %s", code, b)
	}
	// Replace the whole-project viewer role with one scoped to building B.
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"viewer","siteIds":["`+building+`"]}`); code != 201 {
		t.Fatalf("scoped grant: %d %s", code, b)
	}
	resp, b := get(t, srv, alice, "/api/v1/meters")
	var page struct{ Items []struct{ MeterNo string } }
	if err := json.Unmarshal(b, &page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	if len(page.Items) != 1 || page.Items[0].MeterNo != "M0002" {
		t.Errorf("building B viewer sees %+v, want only M0002 (on a floor of B)", page.Items)
	}
	if resp, _ := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != 404 {
		t.Errorf("meter of building A: %d, want 404", resp.StatusCode)
	}
}

func TestPasswordChange(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	first := newViewer(t, srv, admin)
	_, second, _ := login(t, srv, "alice", alicePassword)
	const newPassword = "Li-Si-2025-spring"
	for _, c := range []struct {
		name, body string
		code       string
	}{
		{"wrong old", `{"oldPassword":"nope","newPassword":"` + newPassword + `"}`, api.CodeBadCredentials},
		{"weak new", `{"oldPassword":"` + alicePassword + `","newPassword":"short"}`, api.CodeWeakPassword},
	} {
		if code, b := send(t, srv, first, "POST", "/api/v1/auth/password", c.body); code != 422 || problemCode(b) != c.code {
			t.Errorf("%s: %d %s", c.name, code, b)
		}
	}
	if resp, _ := get(t, srv, second, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Fatalf("a refused change ended a session: %d", resp.StatusCode)
	}
	if code, b := send(t, srv, first, "POST", "/api/v1/auth/password",
		`{"oldPassword":"`+alicePassword+`","newPassword":"`+newPassword+`"}`); code != 204 {
		t.Fatalf("change: %d %s", code, b)
	}
	if resp, _ := get(t, srv, second, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("other session still valid after the change: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, first, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Errorf("the changing session ended: %d", resp.StatusCode)
	}
	if code, _, _ := login(t, srv, "alice", alicePassword); code != 401 {
		t.Errorf("old password still logs in: %d", code)
	}
	if code, _, _ := login(t, srv, "alice", newPassword); code != 200 {
		t.Errorf("new password refused: %d", code)
	}
}

func TestAdminResetForcesChange(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	old := newViewer(t, srv, admin)
	const temp = "Temporary-0001"
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/password", `{"password":"`+temp+`"}`); code != 204 {
		t.Fatalf("reset: %d %s", code, b)
	}
	if resp, _ := get(t, srv, old, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("session survived the reset: %d", resp.StatusCode)
	}
	code, token, _ := login(t, srv, "alice", temp)
	if code != 200 {
		t.Fatalf("login with the temporary password: %d", code)
	}
	if resp, b := get(t, srv, token, "/api/v1/meters/M0001"); resp.StatusCode != 403 || problemCode(b) != api.CodePasswordChangeRequired {
		t.Errorf("before the change: %d %s", resp.StatusCode, b)
	}
	if code, b := send(t, srv, token, "POST", "/api/v1/auth/password", `{"oldPassword":"`+temp+`","newPassword":"Wang-Wu-2026!"}`); code != 204 {
		t.Fatalf("change: %d %s", code, b)
	}
	if resp, _ := get(t, srv, token, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Errorf("after the change: %d", resp.StatusCode)
	}
}

func TestLoginLockout(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	newViewer(t, srv, admin)
	for i := range 5 {
		if code, _, _ := login(t, srv, "alice", "wrong-"+strconv.Itoa(i)); code != 401 {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	code, _, resp := login(t, srv, "alice", alicePassword)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if code != http.StatusTooManyRequests || retry <= 0 || retry > 15*60 {
		t.Fatalf("6th login: %d Retry-After %q, want 429 with 1..900", code, resp.Header.Get("Retry-After"))
	}
	// The count is in PostgreSQL: another API process sees the lock too.
	srv2 := httptest.NewServer(api.New(api.Config{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv2.Close()
	if code, _, _ := login(t, srv2, "alice", alicePassword); code != http.StatusTooManyRequests {
		t.Errorf("second process: %d, want 429", code)
	}
	// Other usernames are not locked.
	if code, _, _ := login(t, srv, "admin", "admin"); code != 200 {
		t.Errorf("admin locked by alice's failures: %d", code)
	}
	// Once the failures leave the 15-minute window, the right password works.
	if _, err := db.Exec(context.Background(), `update login_failures set at = at - interval '16 minutes' where username='alice'`); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := login(t, srv, "alice", alicePassword); code != 200 {
		t.Errorf("after the window: %d", code)
	}
}

func TestDisableEndsSessions(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	alice := newViewer(t, srv, admin)
	if resp, _ := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/disable", ""); code != 204 {
		t.Fatalf("disable: %d %s", code, b)
	}
	if resp, _ := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("session of a disabled operator: %d, want 401", resp.StatusCode)
	}
	code, _, _ := login(t, srv, "alice", alicePassword)
	if code != http.StatusForbidden {
		t.Errorf("login of a disabled operator: %d, want 403", code)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/alice/enable", ""); code != 204 {
		t.Fatalf("enable: %d %s", code, b)
	}
	if code, _, _ := login(t, srv, "alice", alicePassword); code != 200 {
		t.Errorf("login after enable: %d", code)
	}
}

func TestSessionsRevocable(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	first := newViewer(t, srv, admin)
	_, second, _ := login(t, srv, "alice", alicePassword)
	resp, b := get(t, srv, first, "/api/v1/auth/sessions")
	var out struct {
		Items []struct {
			ID      string
			Current bool
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 || len(out.Items) != 2 {
		t.Fatalf("sessions: %d %s", resp.StatusCode, b)
	}
	var otherID string
	for _, s := range out.Items {
		if !s.Current {
			otherID = s.ID
		}
	}
	if code, b := send(t, srv, first, "DELETE", "/api/v1/auth/sessions/"+otherID, ""); code != 204 {
		t.Fatalf("end session: %d %s", code, b)
	}
	// A session id that is not a number names no session (it was a 500).
	if code, b := send(t, srv, first, "DELETE", "/api/v1/auth/sessions/fz763", ""); code != 404 {
		t.Errorf("end session fz763: %d %s, want 404", code, b)
	}
	if resp, _ := get(t, srv, second, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("ended session still works: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, first, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Errorf("current session ended: %d", resp.StatusCode)
	}
	if code, _ := send(t, srv, admin, "DELETE", "/api/v1/operators/alice/sessions", ""); code != 204 {
		t.Fatalf("admin ends sessions: %d", code)
	}
	if resp, _ := get(t, srv, first, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("session survived the admin's revocation: %d", resp.StatusCode)
	}
}

func TestAPIKeyRevocation(t *testing.T) {
	srv, _, admin, other := reportsAPI(t)
	if code, _ := send(t, srv, other, "POST", "/api/v1/projects/demo/api-keys", `{"name":"x","roles":["viewer"]}`); code != 404 {
		t.Errorf("key for a project the caller cannot see: %d", code)
	}
	code, b := send(t, srv, admin, "POST", "/api/v1/projects/demo/api-keys", `{"name":"billing system","roles":["viewer"]}`)
	var created struct{ ID, Key string }
	if err := json.Unmarshal(b, &created); err != nil || code != 201 || created.Key == "" {
		t.Fatalf("create key: %d %s", code, b)
	}
	if resp, b := get(t, srv, created.Key, "/api/v1/meters/M0001"); resp.StatusCode != 200 {
		t.Fatalf("key reads a demo meter: %d %s", resp.StatusCode, b)
	}
	if resp, _ := get(t, srv, created.Key, "/api/v1/meters/N0001"); resp.StatusCode != 404 {
		t.Errorf("key reads a meter of another project: %d", resp.StatusCode)
	}
	if code, b := send(t, srv, created.Key, "POST", "/api/v1/projects/demo/tariffs", `{"code":"K","tariff":{"kind":"single","price":"1.0000"}}`); code != 403 {
		t.Errorf("viewer key configures a tariff: %d %s", code, b)
	}
	resp, b := get(t, srv, admin, "/api/v1/projects/demo/api-keys")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"lastUsedAt":"`) || strings.Contains(string(b), created.Key) {
		t.Errorf("key list (last use shown, key never): %d %s", resp.StatusCode, b)
	}
	if code, b := send(t, srv, admin, "DELETE", "/api/v1/projects/demo/api-keys/"+created.ID, ""); code != 204 {
		t.Fatalf("revoke: %d %s", code, b)
	}
	if resp, _ := get(t, srv, created.Key, "/api/v1/meters/M0001"); resp.StatusCode != 401 {
		t.Errorf("revoked key still works: %d", resp.StatusCode)
	}
}

func TestAuditLogRead(t *testing.T) {
	srv, _, admin, other := reportsAPI(t)
	newViewer(t, srv, admin)
	resp, b := get(t, srv, admin, "/api/v1/audit-log?operator=admin&action=operator.create&limit=5")
	var out struct {
		Items []struct {
			Operator, Action, Subject string
			Status                    int
			At                        string
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("audit log: %d %s", resp.StatusCode, b)
	}
	if len(out.Items) != 1 || out.Items[0].Subject != "alice" || out.Items[0].Status != 201 || out.Items[0].At == "" {
		t.Errorf("audit items: %+v", out.Items)
	}
	if resp, b := get(t, srv, admin, "/api/v1/audit-log?action=operator.role.grant&subject=alice"); resp.StatusCode != 200 || !strings.Contains(string(b), "operator.role.grant") {
		t.Errorf("by subject: %d %s", resp.StatusCode, b)
	}
	if resp, _ := get(t, srv, other, "/api/v1/audit-log"); resp.StatusCode != 403 {
		t.Errorf("viewer reads the audit log: %d", resp.StatusCode)
	}
	resp, b = get(t, srv, admin, "/api/v1/audit-log?format=xlsx")
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "PK") {
		t.Errorf("xlsx: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
