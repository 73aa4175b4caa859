package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestConsumptionByFloorHTTP: the consumption report grouped by floor, as
// JSON and xlsx, hand-computed. The demo's M0001 and M0003 are on Building
// A / Floor 1; M0002's unit moves to Floor 1 of a new Building B. A viewer
// scoped to Building B sees only its floor.
func TestConsumptionByFloorHTTP(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	building := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"Building B","level":1,"parentId":null}`))
	floor := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"Floor 1","level":2,"parentId":"`+building+`"}`))
	unit := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/units", `{"code":"B-101","name":"B 101","siteId":"`+floor+`"}`))
	if _, err := db.Exec(ctx, `update meters set unit_id=$1 where meter_no='M0002'`, unit); err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	for _, r := range []struct {
		meterNo string
		hour    int
		energy  string
	}{
		{"M0001", 0, "10.00"}, {"M0001", 12, "12.50"}, {"M0001", 24, "15.00"}, // 5.00
		{"M0003", 0, "7.00"}, {"M0003", 24, "8.25"}, // 1.25
		{"M0002", 0, "100.00"}, {"M0002", 6, "100.40"}, {"M0002", 24, "103.00"}, // 3.00
	} {
		readAt := time.Date(2026, 5, 1, r.hour, 0, 0, 0, cst)
		if _, err := db.Exec(ctx, `select readings_partition($1)`, readAt); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh,
			valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 50, 1, 0, 0, 0 from meters where meter_no=$3`, readAt, r.energy, r.meterNo); err != nil {
			t.Fatal(err)
		}
	}
	const q = "/api/v1/reports/consumption?from=2026-05-01&to=2026-05-02&granularity=day&groupBy=floor"
	type item struct{ Key, EnergyKwh string }
	page := func(token string) []item {
		t.Helper()
		resp, body := get(t, srv, token, q)
		var p struct{ Items []item }
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return p.Items
	}
	want := []item{{"Building A / Floor 1", "6.25"}, {"Building B / Floor 1", "3.00"}}
	if got := page(admin); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("floors = %+v, want %+v", got, want)
	}

	resp, body := get(t, srv, admin, q+"&format=xlsx")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx %d %s", resp.StatusCode, body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("consumption")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "Building A / Floor 1" || rows[1][2] != "6.25" ||
		rows[2][1] != "Building B / Floor 1" || rows[2][2] != "3" {
		t.Errorf("workbook rows %v", rows)
	}

	alice := newViewer(t, srv, admin)
	must(t, srv, 201, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"viewer","siteIds":["`+building+`"]}`)
	if got := page(alice); len(got) != 1 || got[0] != want[1] {
		t.Errorf("building B viewer's floors = %+v, want only %+v", got, want[1])
	}
}
