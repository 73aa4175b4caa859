package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
)

// The lists the console needed: stations (with their position) of the
// caller's projects only; operators to a platform administrator (all) and
// to a project admin (those with a role in its projects), no one else.
func TestConsoleLists(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	var demoID string
	if err := db.QueryRow(ctx, `select id::text from projects where code='demo'`).Scan(&demoID); err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, demoID); err != nil {
		t.Fatal(err)
	}
	// carol administers the other project only.
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators", `{"username":"carol","password":"`+alicePassword+`"}`); code != http.StatusCreated {
		t.Fatalf("create carol: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/carol/roles", `{"project":"other","role":"admin"}`); code != http.StatusCreated {
		t.Fatalf("grant carol: %d %s", code, b)
	}
	_, carol, _ := login(t, srv, "carol", alicePassword)

	type station struct {
		StationID            string
		Lng, Lat             float64
		Chargers, Connectors int
	}
	for _, c := range []struct {
		name, token string
		stations    int // at least; 0: exactly none
	}{
		{"admin of the demo", admin, 1},
		{"viewer of another project", other, 0},
	} {
		resp, b := get(t, srv, c.token, "/api/v1/charging-stations")
		var out struct{ Items []station }
		if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
			t.Fatalf("%s: stations %d %s", c.name, resp.StatusCode, b)
		}
		if c.stations == 0 && len(out.Items) != 0 || len(out.Items) < c.stations {
			t.Errorf("%s: %d stations, want %d", c.name, len(out.Items), c.stations)
		}
		for _, s := range out.Items {
			if s.Lng < 73 || s.Lng > 136 || s.Lat < 3 || s.Lat > 54 || s.Chargers == 0 || s.Connectors == 0 {
				t.Errorf("%s: station %+v: want its position in China and its chargers and connectors", c.name, s)
			}
		}
	}

	type listed struct {
		Username string
		Roles    []struct{ Project, Role string }
	}
	for _, c := range []struct {
		name, token string
		status      int
		want, not   []string
	}{
		{"platform administrator", admin, 200, []string{"admin", "other", "carol"}, nil},
		{"admin of the other project", carol, 200, []string{"other", "carol"}, []string{"admin"}},
		{"viewer", other, 403, nil, nil},
	} {
		resp, b := get(t, srv, c.token, "/api/v1/operators")
		if resp.StatusCode != c.status {
			t.Errorf("%s: operators %d %s, want %d", c.name, resp.StatusCode, b, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		var out struct{ Items []listed }
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range out.Items {
			names = append(names, o.Username)
			for _, r := range o.Roles {
				if c.token == carol && r.Project != "other" {
					t.Errorf("%s: %s's role %s in %s shown to the other project's admin", c.name, o.Username, r.Role, r.Project)
				}
			}
		}
		for _, w := range c.want {
			if !slices.Contains(names, w) {
				t.Errorf("%s: %v, want %s in it", c.name, names, w)
			}
		}
		for _, n := range c.not {
			if slices.Contains(names, n) {
				t.Errorf("%s: %v, want no %s", c.name, names, n)
			}
		}
	}
}

// A project's units and customers: every one to a whole-project viewer; a
// site-scoped operator only units under its sites and customers with an
// account there.
func TestUnitAndCustomerLists(t *testing.T) {
	srv, _, admin, other := reportsAPI(t)
	id := func(code int, b []byte) string {
		t.Helper()
		var out struct{ ID string }
		if code != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.ID == "" {
			t.Fatalf("create: %d %s", code, b)
		}
		return out.ID
	}
	east := id(send(t, srv, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"East","level":1}`))
	west := id(send(t, srv, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"West","level":1}`))
	id(send(t, srv, admin, "POST", "/api/v1/projects/demo/units", `{"code":"E-101","name":"East 101","siteId":"`+east+`"}`))
	id(send(t, srv, admin, "POST", "/api/v1/projects/demo/units", `{"code":"W-101","name":"West 101","siteId":"`+west+`"}`))
	id(send(t, srv, admin, "POST", "/api/v1/projects/demo/customers", `{"name":"Zhao","kind":"person"}`))
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators", `{"username":"dave","password":"`+alicePassword+`"}`); code != http.StatusCreated {
		t.Fatalf("create dave: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/dave/roles", `{"project":"demo","role":"viewer","siteIds":["`+east+`"]}`); code != http.StatusCreated {
		t.Fatalf("grant dave: %d %s", code, b)
	}
	_, dave, _ := login(t, srv, "dave", alicePassword)

	names := func(token, path string) ([]string, int) {
		resp, b := get(t, srv, token, path)
		var out struct{ Items []struct{ Name string } }
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
		}
		var ns []string
		for _, x := range out.Items {
			ns = append(ns, x.Name)
		}
		return ns, resp.StatusCode
	}
	for _, c := range []struct {
		name, token, path string
		status            int
		has, hasNot       []string
	}{
		{"admin's units", admin, "/api/v1/projects/demo/units", 200, []string{"East 101", "West 101"}, nil},
		{"scoped units", dave, "/api/v1/projects/demo/units", 200, []string{"East 101"}, []string{"West 101"}},
		{"admin's customers", admin, "/api/v1/projects/demo/customers", 200, []string{"Zhao"}, nil},
		{"scoped customers", dave, "/api/v1/projects/demo/customers", 200, nil, []string{"Zhao"}},
		{"another project's viewer", other, "/api/v1/projects/demo/units", 404, nil, nil},
	} {
		ns, status := names(c.token, c.path)
		if status != c.status {
			t.Errorf("%s: %d, want %d", c.name, status, c.status)
			continue
		}
		for _, n := range c.has {
			if !slices.Contains(ns, n) {
				t.Errorf("%s: %v, want %s in it", c.name, ns, n)
			}
		}
		for _, n := range c.hasNot {
			if slices.Contains(ns, n) {
				t.Errorf("%s: %v, want no %s", c.name, ns, n)
			}
		}
	}
}
