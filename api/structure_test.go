package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
)

// must sends a request and fails the test unless it answers status.
func must(t *testing.T, srv *httptest.Server, status int, token, method, path, body string) []byte {
	t.Helper()
	code, b := send(t, srv, token, method, path, body)
	if code != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, status)
	}
	return b
}

func idOf(t *testing.T, b []byte) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", b)
	}
	return v.ID
}

// TestRenameOrganisationAndProject: a platform administrator renames an
// organisation, a project's admin its project; others are refused.
func TestRenameOrganisationAndProject(t *testing.T) {
	srv, _, admin, other := reportsAPI(t)
	b := must(t, srv, 200, admin, "PATCH", "/api/v1/organisations/demo-group", `{"name":"Demo Group Ltd"}`)
	if !strings.Contains(string(b), `"name":"Demo Group Ltd"`) {
		t.Errorf("renamed organisation: %s", b)
	}
	b = must(t, srv, 200, admin, "PATCH", "/api/v1/projects/demo", `{"name":"Demo Plaza"}`)
	if !strings.Contains(string(b), `"name":"Demo Plaza"`) || !strings.Contains(string(b), `"code":"demo"`) {
		t.Errorf("renamed project: %s", b)
	}
	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
		code                            string
	}{
		{"viewer renames an organisation", other, "PATCH", "/api/v1/organisations/other-group", `{"name":"x"}`, 403, api.CodeForbidden},
		{"unknown organisation", admin, "PATCH", "/api/v1/organisations/nope", `{"name":"x"}`, 404, api.CodeNotFound},
		{"empty name", admin, "PATCH", "/api/v1/projects/demo", `{"name":""}`, 422, api.CodeInvalidField},
		{"viewer renames its project", other, "PATCH", "/api/v1/projects/other", `{"name":"x"}`, 403, api.CodeForbidden},
		{"another's project", other, "PATCH", "/api/v1/projects/demo", `{"name":"x"}`, 404, api.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, b := send(t, srv, c.token, c.method, c.path, c.body)
			if code != c.status || problemCode(b) != c.code {
				t.Fatalf("%d %s, want %d %s", code, b, c.status, c.code)
			}
		})
	}
}

// TestMoveSites: a move recomputes the moved subtree's levels, refuses one
// that would pass level 4 and one under the site itself.
func TestMoveSites(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	site := func(name string, level int, parent string) string {
		p := "null"
		if parent != "" {
			p = `"` + parent + `"`
		}
		return idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites",
			`{"name":"`+name+`","level":`+string(rune('0'+level))+`,"parentId":`+p+`}`))
	}
	a := site("A", 1, "")
	a1 := site("A1", 2, a)
	a1x := site("A1x", 3, a1)
	b := site("B", 1, "")
	b1 := site("B1", 2, b)
	b1a := site("B1a", 3, b1)
	b1a1 := site("B1a1", 4, b1a)
	levels := func(t *testing.T) map[string]int {
		t.Helper()
		out := map[string]int{}
		for name, id := range map[string]string{"A": a, "A1": a1, "A1x": a1x, "B": b, "B1": b1, "B1a": b1a, "B1a1": b1a1} {
			var l int
			if err := db.QueryRow(ctx, `select level from sites where id=$1`, id).Scan(&l); err != nil {
				t.Fatal(err)
			}
			out[name] = l
		}
		return out
	}
	move := func(id, parent string) (int, []byte) {
		p := "null"
		if parent != "" {
			p = `"` + parent + `"`
		}
		return send(t, srv, admin, "PATCH", "/api/v1/projects/demo/sites/"+id, `{"parentId":`+p+`}`)
	}
	for _, c := range []struct {
		name, site, parent string
		code               string
	}{
		{"A1 under a level-4 site", a1, b1a1, api.CodeSiteTooDeep},
		{"A1 and its child under a level-3 site", a1, b1a, api.CodeSiteTooDeep},
		{"B under its own grandchild", b, b1a, api.CodeSiteCycle},
		{"B under itself", b, b, api.CodeSiteCycle},
		{"under another project's site", a1, uuid.NewString(), api.CodeInvalidField},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := levels(t)
			code, body := move(c.site, c.parent)
			if code != 422 || problemCode(body) != c.code {
				t.Fatalf("%d %s, want 422 %s", code, body, c.code)
			}
			if after := levels(t); !mapsEqual(before, after) {
				t.Errorf("a refused move changed levels: %v → %v", before, after)
			}
		})
	}
	if code, body := move(a1, b1); code != 200 || !strings.Contains(string(body), `"level":3`) {
		t.Fatalf("A1 under B1: %d %s", code, body)
	}
	if l := levels(t); l["A1"] != 3 || l["A1x"] != 4 || l["A"] != 1 {
		t.Errorf("after moving A1 under B1: %v, want A1 3, A1x 4", l)
	}
	if code, body := move(a1, ""); code != 200 {
		t.Fatalf("A1 to the top: %d %s", code, body)
	}
	if l := levels(t); l["A1"] != 1 || l["A1x"] != 2 {
		t.Errorf("after moving A1 to the top: %v, want A1 1, A1x 2", l)
	}
	// A rename keeps the place in the tree.
	body := must(t, srv, 200, admin, "PATCH", "/api/v1/projects/demo/sites/"+a1x, `{"name":"Floor 1"}`)
	if !strings.Contains(string(body), `"name":"Floor 1"`) || !strings.Contains(string(body), `"parentId":"`+a1+`"`) {
		t.Errorf("rename: %s", body)
	}
	if code, body := send(t, srv, admin, "PATCH", "/api/v1/projects/demo/sites/"+uuid.NewString(), `{"name":"x"}`); code != 404 {
		t.Errorf("unknown site: %d %s", code, body)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUnitChangesAndDetail renames and moves a unit and reads it back with
// the meter and the account opened on it.
func TestUnitChangesAndDetail(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := t.Context()
	siteA := demoSite(t, db)
	siteB := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"B","level":1,"parentId":null}`))
	unit := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/units", `{"code":"U-101","name":"101","siteId":"`+siteA+`"}`))
	b := must(t, srv, 200, admin, "PATCH", "/api/v1/projects/demo/units/"+unit, `{"name":"Shop 101","siteId":"`+siteB+`"}`)
	if !strings.Contains(string(b), `"siteId":"`+siteB+`"`) || !strings.Contains(string(b), `"name":"Shop 101"`) {
		t.Errorf("unit after the change: %s", b)
	}
	if code, b := send(t, srv, admin, "PATCH", "/api/v1/projects/demo/units/"+unit, `{"siteId":"`+uuid.NewString()+`"}`); code != 422 {
		t.Errorf("move to an unknown site: %d %s", code, b)
	}
	if code, b := send(t, srv, admin, "PATCH", "/api/v1/projects/demo/units/"+uuid.NewString(), `{"name":"x"}`); code != 404 {
		t.Errorf("unknown unit: %d %s", code, b)
	}
	if _, err := db.Exec(ctx, `update meters set account_id=null where meter_no='M0004'`); err != nil {
		t.Fatal(err)
	}
	customer := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/customers", `{"name":"Li Si","kind":"person"}`))
	account := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/accounts",
		`{"customerId":"`+customer+`","unitId":"`+unit+`","meters":["M0004"]}`))
	_, b = get(t, srv, admin, "/api/v1/projects/demo/units/"+unit)
	var u struct {
		SiteID string
		Meters []struct {
			MeterNo   string
			AccountID *string
		}
		Accounts []struct {
			ID, Customer string
			Meters       []string
		}
	}
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if u.SiteID != siteB || len(u.Meters) != 1 || u.Meters[0].MeterNo != "M0004" || u.Meters[0].AccountID == nil ||
		*u.Meters[0].AccountID != account || len(u.Accounts) != 1 || u.Accounts[0].ID != account ||
		u.Accounts[0].Customer != "Li Si" || !slices.Equal(u.Accounts[0].Meters, []string{"M0004"}) {
		t.Errorf("unit detail: %s", b)
	}
	if resp, _ := get(t, srv, other, "/api/v1/projects/demo/units/"+unit); resp.StatusCode != 404 {
		t.Errorf("another project's caller reads the unit: %d", resp.StatusCode)
	}
}

// TestGroupHQ: the hq role on an organisation reads every project of it —
// meters and reports — none of another organisation, and sells nothing.
func TestGroupHQ(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	// A second project of the demo organisation, with meters P….
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost, o.Operators = []int{1}, 2, bcrypt.MinCost, nil
	o.Project, o.MeterPrefix = "demo2", "P"
	if _, err := demo.Load(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	must(t, srv, 201, admin, "POST", "/api/v1/operators", `{"username":"hq","password":"`+alicePassword+`"}`)
	for _, c := range []struct {
		name, token, body string
		status            int
	}{
		{"a viewer grants hq", other, `{"organisation":"other-group","role":"hq"}`, 403},
		{"hq on a project", admin, `{"project":"demo","role":"hq"}`, 422},
		{"another role on an organisation", admin, `{"organisation":"demo-group","role":"cashier"}`, 422},
		{"unknown organisation", admin, `{"organisation":"nope","role":"hq"}`, 422},
	} {
		if code, b := send(t, srv, c.token, "POST", "/api/v1/operators/hq/roles", c.body); code != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, code, b, c.status)
		}
	}
	must(t, srv, 201, admin, "POST", "/api/v1/operators/hq/roles", `{"organisation":"demo-group","role":"hq"}`)
	code, hq, _ := login(t, srv, "hq", alicePassword)
	if code != 200 {
		t.Fatalf("hq login: %d", code)
	}
	prefixes := func(t *testing.T, path string) map[byte]int {
		t.Helper()
		resp, b := get(t, srv, hq, path)
		var page struct{ Items []struct{ MeterNo string } }
		if err := json.Unmarshal(b, &page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		out := map[byte]int{}
		for _, it := range page.Items {
			out[it.MeterNo[0]]++
		}
		return out
	}
	for _, path := range []string{"/api/v1/meters", "/api/v1/reports/status-board",
		"/api/v1/reports/statement?from=2026-01-01&to=2027-01-01"} {
		if p := prefixes(t, path); p['M'] == 0 || p['P'] == 0 || p['N'] != 0 {
			t.Errorf("%s: meters by prefix %v, want demo's M and demo2's P, no N of other-group", path, p)
		}
	}
	_, b := get(t, srv, hq, "/api/v1/projects")
	if !strings.Contains(string(b), `"code":"demo"`) || !strings.Contains(string(b), `"code":"demo2"`) || strings.Contains(string(b), `"code":"other"`) {
		t.Errorf("hq's projects: %s", b)
	}
	if resp, _ := get(t, srv, hq, "/api/v1/meters/N0001"); resp.StatusCode != 404 {
		t.Errorf("another organisation's meter: %d, want 404", resp.StatusCode)
	}
	for _, c := range []struct{ path, body string }{
		{"/api/v1/recharges", `{"meterNo":"M0001","amount":"10.00","transactionNo":"hq-1"}`},
		{"/api/v1/projects/demo/customers", `{"name":"X","kind":"person"}`},
		{"/api/v1/meters/M0001/commands", `{"command":"switch_off"}`},
	} {
		if code, b := send(t, srv, hq, "POST", c.path, c.body); code != 403 {
			t.Errorf("hq POST %s: %d %s, want 403", c.path, code, b)
		}
	}
	var sales int
	if err := db.QueryRow(ctx, `select count(*) from recharges where transaction_no='hq-1'`).Scan(&sales); err != nil || sales != 0 {
		t.Errorf("hq's refused sale recorded %d recharges (%v)", sales, err)
	}
	if code, b := send(t, srv, admin, "DELETE", "/api/v1/operators/hq/roles?organisation=demo-group&role=hq", ""); code != 204 {
		t.Fatalf("revoke hq: %d %s", code, b)
	}
	if p := prefixes(t, "/api/v1/meters"); len(p) != 0 {
		t.Errorf("after revoking hq: %v", p)
	}
}

// TestSiteScopeInListsAndReports: a viewer scoped to building B gets only
// B's meter in the meter list, the status board (page, counts and xlsx),
// the statement and the recharge list, and 404 for a meter of building A.
func TestSiteScopeInListsAndReports(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	building := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"Building B","level":1,"parentId":null}`))
	floor := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"Floor 1","level":2,"parentId":"`+building+`"}`))
	unit := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/units", `{"code":"B-101","name":"B 101","siteId":"`+floor+`"}`))
	if _, err := db.Exec(ctx, `update meters set unit_id=$1 where meter_no='M0002'`, unit); err != nil {
		t.Fatal(err)
	}
	for i, no := range []string{"M0001", "M0002"} {
		if _, err := db.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount,
			status, needs_approval, workflow_id, created_by, completed_at) select gen_random_uuid(), project_id, id, meter_no,
			$2, 10, 'completed', false, 'recharge/'||$2, (select id from operators limit 1), now() from meters where meter_no=$1`,
			no, "scope-"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `insert into tasks(id, project_id, kind, subject, role, workflow_id, status)
			select gen_random_uuid(), project_id, 'recharge_approval', meter_no, 'viewer', 'recharge/task-'||meter_no, 'pending'
			from meters where meter_no=$1`, no); err != nil {
			t.Fatal(err)
		}
	}
	alice := newViewer(t, srv, admin)
	must(t, srv, 201, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"viewer","siteIds":["`+building+`"]}`)
	meters := func(t *testing.T, token, path string) []string {
		t.Helper()
		resp, b := get(t, srv, token, path)
		var page struct{ Items []struct{ MeterNo string } }
		if err := json.Unmarshal(b, &page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		var out []string
		for _, it := range page.Items {
			if !slices.Contains(out, it.MeterNo) {
				out = append(out, it.MeterNo)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, path := range []string{"/api/v1/meters", "/api/v1/reports/status-board", "/api/v1/recharges",
		"/api/v1/reports/statement?from=2020-01-01&to=2100-01-01",
		"/api/v1/finance-reports/recharge-detail?from=2020-01-01&to=2100-01-01"} {
		t.Run(path, func(t *testing.T) {
			if got := meters(t, alice, path); !slices.Equal(got, []string{"M0002"}) {
				t.Errorf("building B viewer sees %v, want [M0002]", got)
			}
			if got := meters(t, admin, path); !slices.Contains(got, "M0001") || !slices.Contains(got, "M0002") {
				t.Errorf("the admin sees %v, want M0001 and M0002 among them", got)
			}
		})
	}
	_, b := get(t, srv, alice, "/api/v1/tasks")
	var tasks struct{ Items []struct{ Subject string } }
	if err := json.Unmarshal(b, &tasks); err != nil || len(tasks.Items) != 1 || tasks.Items[0].Subject != "M0002" {
		t.Errorf("tasks of the scoped viewer: %s, want M0002's only", b)
	}
	_, b = get(t, srv, alice, "/api/v1/reports/status-board")
	var board struct{ Counts map[string]int }
	if err := json.Unmarshal(b, &board); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range board.Counts {
		total += n
	}
	if total != 1 {
		t.Errorf("status counts of the scoped viewer: %v, want 1 meter in all", board.Counts)
	}
	resp, b := get(t, srv, alice, "/api/v1/reports/status-board?format=xlsx")
	if resp.StatusCode != 200 {
		t.Fatalf("xlsx: %d", resp.StatusCode)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][0] != "M0002" {
		t.Errorf("xlsx export of the scoped viewer: %v, want the header and M0002", rows)
	}
	if resp, _ := get(t, srv, alice, "/api/v1/meters/M0001"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("meter of another building: %d, want 404", resp.StatusCode)
	}
	for no, want := range map[string]int{"M0001": 404, "M0002": 200} {
		var id string
		if err := db.QueryRow(ctx, `select id::text from recharges where meter_no=$1 and transaction_no like 'scope-%'`, no).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if resp, b := get(t, srv, alice, "/api/v1/recharges/"+id); resp.StatusCode != want {
			t.Errorf("recharge of %s: %d %s, want %d", no, resp.StatusCode, b, want)
		}
	}
}

// TestStationScope: a maintenance role granted on one station sees that
// station's chargers, connectors and charging orders only; another
// station's charger and order are 404 to it, and it sees no meter.
func TestStationScope(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	more, err := registry.AddStations(ctx, db, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var project string
	if err := db.QueryRow(ctx, `select id::text from projects where code='demo'`).Scan(&project); err != nil {
		t.Fatal(err)
	}
	mine, others := registry.DemoStationID, more[0]
	var otherEquipment string
	if err := db.QueryRow(ctx, `select equipment_id from charging_equipment where station_id=$1`, others).Scan(&otherEquipment); err != nil {
		t.Fatal(err)
	}
	equipment := map[string]string{mine: registry.DemoEquipmentIDs[0], others: otherEquipment}
	orders := map[string]string{}
	for _, st := range []string{mine, others} {
		if err := charger.Enroll(ctx, db, equipment[st], project, "secret"); err != nil {
			t.Fatal(err)
		}
		orders[st] = uuid.NewString()
		if _, err := db.Exec(ctx, `insert into charging_orders(id, project_id, workflow_id, source, id_tag, station_id, equipment_id,
			connector_no, status) values($1::uuid,$2,'charge-order/'||$1::text,'card','D1',$3,$4,1,'completed')`, orders[st], project, st, equipment[st]); err != nil {
			t.Fatal(err)
		}
	}
	must(t, srv, 201, admin, "POST", "/api/v1/operators", `{"username":"fixer","password":"`+alicePassword+`"}`)
	if code, b := send(t, srv, admin, "POST", "/api/v1/operators/fixer/roles", `{"project":"demo","role":"maintenance","stationIds":["99990000000000000000"]}`); code != 422 {
		t.Errorf("unknown station: %d %s", code, b)
	}
	must(t, srv, 201, admin, "POST", "/api/v1/operators/fixer/roles", `{"project":"demo","role":"maintenance","stationIds":["`+mine+`"]}`)
	code, fixer, _ := login(t, srv, "fixer", alicePassword)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	_, b := get(t, srv, fixer, "/api/v1/charging-orders")
	var page struct {
		Items []struct{ ID, StationID string }
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(page.Items) != 1 || page.Items[0].ID != orders[mine] {
		t.Errorf("station-scoped orders: %s, want only %s", b, orders[mine])
	}
	_, b = get(t, srv, admin, "/api/v1/charging-orders")
	if !strings.Contains(string(b), orders[others]) || !strings.Contains(string(b), orders[mine]) {
		t.Errorf("the admin's orders: %s", b)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/charging-orders/" + orders[mine], 200},
		{"/api/v1/charging-orders/" + orders[others], 404},
		{"/api/v1/chargers/" + equipment[mine], 200},
		{"/api/v1/chargers/" + equipment[others], 404},
		{"/api/v1/chargers/" + equipment[mine] + "/messages", 200},
		{"/api/v1/chargers/" + equipment[others] + "/messages", 404},
		{"/api/v1/dispatch/plans", 200},
	} {
		if resp, b := get(t, srv, fixer, c.path); resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, b, c.status)
		}
	}
	_, b = get(t, srv, fixer, "/api/v1/charging-stations/"+others+"/live")
	if strings.Contains(string(b), equipment[others]) {
		t.Errorf("another station's live view: %s", b)
	}
	_, b = get(t, srv, fixer, "/api/v1/charging-stations/"+mine+"/live")
	if !strings.Contains(string(b), equipment[mine]) {
		t.Errorf("its station's live view: %s", b)
	}
	_, b = get(t, srv, fixer, "/api/v1/meters")
	if strings.Contains(string(b), `"meterNo"`) {
		t.Errorf("a station-scoped role sees meters: %s", b)
	}
}
