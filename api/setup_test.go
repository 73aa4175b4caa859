package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/store"
)

// demoSite is the demo project's building.
func demoSite(t *testing.T, db *store.DB) string {
	t.Helper()
	var id string
	if err := db.QueryRow(t.Context(), `select s.id::text from sites s join projects p on p.id=s.project_id
		where p.code='demo' and s.level=1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newCashier has the admin create operator carol with the cashier role in
// the demo project, and logs her in.
func newCashier(t *testing.T, srv *httptest.Server, admin string) string {
	t.Helper()
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators", `{"username":"carol","password":"`+alicePassword+`"}`); code != 201 {
		t.Fatalf("create operator: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/carol/roles", `{"project":"demo","role":"cashier"}`); code != 201 {
		t.Fatalf("grant: %d %s", code, b)
	}
	code, token, _ := login(t, srv, "carol", alicePassword)
	if code != http.StatusOK {
		t.Fatalf("carol login: %d", code)
	}
	return token
}

// TestSettingUp builds a project through the API alone: organisation,
// project, site tree, unit, customer, an account on two meters and settings.
func TestSettingUp(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := t.Context()
	cashier := newCashier(t, srv, admin)
	id := func(b []byte) string {
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		return v.ID
	}
	must := func(status int, token, method, path, body string) []byte {
		t.Helper()
		code, b := send(t, srv, token, method, path, body)
		if code != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, status)
		}
		return b
	}
	for _, c := range []struct {
		name, token, path, body string
		status                  int
		code                    string
	}{
		{"cashier creates a project", cashier, "/api/v1/projects", `{"code":"x","name":"X","organisation":"demo-group"}`, 403, api.CodeForbidden},
		{"cashier opens an account", cashier, "/api/v1/projects/demo/customers", `{"name":"X","kind":"person"}`, 403, api.CodeForbidden},
		{"viewer creates a project", other, "/api/v1/projects", `{"code":"x","name":"X","organisation":"demo-group"}`, 403, api.CodeForbidden},
		{"viewer creates an organisation", other, "/api/v1/organisations", `{"code":"x","name":"X"}`, 403, api.CodeForbidden},
		{"unknown organisation", admin, "/api/v1/projects", `{"code":"x","name":"X","organisation":"nope"}`, 422, api.CodeInvalidField},
		{"duplicate project", admin, "/api/v1/projects", `{"code":"demo","name":"X","organisation":"demo-group"}`, 409, api.CodeProjectExists},
	} {
		if code, b := send(t, srv, c.token, "POST", c.path, c.body); code != c.status || problemCode(b) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, b, c.status, c.code)
		}
	}
	must(201, admin, "POST", "/api/v1/organisations", `{"code":"acme","name":"Acme Property"}`)
	must(409, admin, "POST", "/api/v1/organisations", `{"code":"acme","name":"Acme Property"}`)
	must(201, admin, "POST", "/api/v1/projects", `{"code":"mall","name":"Mall","organisation":"acme"}`)
	var projects struct{ Items []struct{ Code string } }
	_ = json.Unmarshal(must(200, admin, "GET", "/api/v1/projects", ""), &projects)
	if len(projects.Items) != 3 {
		t.Errorf("projects: %+v, want demo, mall, other", projects.Items)
	}

	building := id(must(201, admin, "POST", "/api/v1/projects/mall/sites", `{"name":"Building A","level":1,"parentId":null}`))
	floor := id(must(201, admin, "POST", "/api/v1/projects/mall/sites", `{"name":"Floor 1","level":2,"parentId":"`+building+`"}`))
	if code, b := send(t, srv, admin, "POST", "/api/v1/projects/mall/sites", `{"name":"Bad","level":3,"parentId":"`+building+`"}`); code != 422 {
		t.Errorf("level 3 under level 1: %d %s", code, b)
	}
	var tree struct {
		Items []struct {
			ID       string
			Children []struct{ ID string }
		}
	}
	_ = json.Unmarshal(must(200, admin, "GET", "/api/v1/projects/mall/sites", ""), &tree)
	if len(tree.Items) != 1 || tree.Items[0].ID != building || len(tree.Items[0].Children) != 1 || tree.Items[0].Children[0].ID != floor {
		t.Errorf("tree: %+v", tree)
	}
	must(201, admin, "POST", "/api/v1/projects/mall/units", `{"code":"S101","name":"Shop 101","siteId":"`+floor+`"}`)
	if code, b := send(t, srv, admin, "POST", "/api/v1/projects/mall/units", `{"code":"S101","name":"Again","siteId":"`+floor+`"}`); code != 409 || problemCode(b) != api.CodeUnitExists {
		t.Errorf("duplicate unit: %d %s", code, b)
	}

	// Accounts: two demo meters freed of their demo account, then opened together.
	if _, err := db.Exec(ctx, `update meters set account_id=null where meter_no in ('M0003','M0004')`); err != nil {
		t.Fatal(err)
	}
	unit := id(must(201, admin, "POST", "/api/v1/projects/demo/units", `{"code":"U1","name":"Unit 1","siteId":"`+demoSite(t, db)+`"}`))
	cust := id(must(201, admin, "POST", "/api/v1/projects/demo/customers", `{"name":"Li Lei","phone":"13800001111","kind":"person"}`))
	acct := id(must(201, admin, "POST", "/api/v1/projects/demo/accounts", `{"customerId":"`+cust+`","unitId":"`+unit+`","meters":["M0003","M0004"]}`))
	var n int
	if err := db.QueryRow(ctx, `select count(*) from meters where account_id=$1 and unit_id=$2`, acct, unit).Scan(&n); err != nil || n != 2 {
		t.Errorf("meters in the account: %d %v, want 2", n, err)
	}
	for _, meters := range []string{`["M0004"]`, `["M0001"]`} {
		if code, b := send(t, srv, admin, "POST", "/api/v1/projects/demo/accounts", `{"customerId":"`+cust+`","unitId":"`+unit+`","meters":`+meters+`}`); code != 409 || problemCode(b) != api.CodeMeterInAccount {
			t.Errorf("meters %s already in an open account: %d %s", meters, code, b)
		}
	}

	// Settings: written, read back.
	must(200, admin, "PUT", "/api/v1/projects/demo/settings",
		`{"readingInterval":"15m","autoApproveUpTo":"800.00","hoardingCap":"5000.00","defaultPrice":"1.1000","alarm1":"30.00","alarm2":"15.00"}`)
	var st map[string]any
	_ = json.Unmarshal(must(200, admin, "GET", "/api/v1/projects/demo/settings", ""), &st)
	want := map[string]any{"readingInterval": "15m0s", "autoApproveUpTo": "800.00", "hoardingCap": "5000.00", "defaultPrice": "1.1000", "alarm1": "30.00", "alarm2": "15.00"}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("settings %s: %v, want %v", k, st[k], v)
		}
	}
	if code, _ := send(t, srv, other, "PUT", "/api/v1/projects/demo/settings", `{"autoApproveUpTo":"1.00","alarm1":"0.00","alarm2":"0.00"}`); code != http.StatusNotFound {
		t.Errorf("settings of a project the caller cannot see: %d, want 404", code)
	}
}
