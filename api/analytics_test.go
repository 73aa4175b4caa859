package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
)

// Every analytic answers JSON and xlsx for the demo station, refuses bad
// parameters, and shows another tenant nothing of it.
func TestChargingAnalyticsHTTP(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	var project string
	if err := db.QueryRow(ctx, `select id::text from projects where code='demo'`).Scan(&project); err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, project); err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	id := uuid.NewString()
	if _, err := db.Exec(ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, station_id, equipment_id,
		connector_no, status, started_at, stopped_at, energy_kwh, amount) values ($1,$2,$3,'card','K1',$4,$5,1,'completed',$6,$7,24,30)`,
		id, project, "charging/"+id, registry.DemoStationID, registry.DemoEquipmentIDs[0],
		time.Date(2026, 11, 3, 10, 0, 0, 0, cst), time.Date(2026, 11, 3, 12, 0, 0, 0, cst)); err != nil {
		t.Fatal(err)
	}
	const period = "from=2026-11-01&to=2026-12-01"
	for _, name := range []string{"stations", "utilisation", "trends", "power-by-hour", "protection", "customers", "status-history", "failure-rate"} {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, srv, admin, "/api/v1/charging-analytics/"+name+"?"+period)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			resp, body = get(t, srv, admin, "/api/v1/charging-analytics/"+name+"?format=xlsx&"+period)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || len(body) < 100 {
				t.Fatalf("xlsx: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		})
	}
	var st struct {
		Items []struct {
			StationID   string `json:"stationId"`
			Orders      int    `json:"orders"`
			EnergyKWh   string `json:"energyKwh"`
			Amount      string `json:"amount"`
			TimeUtilPct string `json:"timeUtilisationPct"`
		} `json:"items"`
		Total struct {
			Orders int `json:"orders"`
		} `json:"total"`
	}
	_, body := get(t, srv, admin, "/api/v1/charging-analytics/stations?"+period)
	if err := json.Unmarshal(body, &st); err != nil || len(st.Items) != 1 || st.Items[0].Orders != 1 ||
		st.Items[0].EnergyKWh != "24.000" || st.Items[0].Amount != "30.00" || st.Total.Orders != 1 {
		t.Fatalf("stations %s", body)
	}
	_, body = get(t, srv, other, "/api/v1/charging-analytics/stations?"+period)
	if err := json.Unmarshal(body, &st); err != nil || len(st.Items) != 0 {
		t.Fatalf("another tenant sees %s", body)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"utilisation?groupBy=week&" + period, http.StatusUnprocessableEntity},
		{"trends?granularity=year&" + period, http.StatusUnprocessableEntity},
		{"stations?from=2026-11-01T03:00:00Z&to=2026-12-01", http.StatusUnprocessableEntity},
		{"stations", http.StatusUnprocessableEntity},
		{"stations?from=yesterday&to=2026-12-01", http.StatusBadRequest},
		{"nothing?" + period, http.StatusNotFound},
		{"stations?stationId=x-y&" + period, http.StatusUnprocessableEntity},
		{"stations?from=0000-01-01&to=2026-12-01", http.StatusUnprocessableEntity},
		{"utilisation?groupBy=connector-day&from=2020-01-01&to=2026-12-01", http.StatusUnprocessableEntity},
	} {
		if resp, body := get(t, srv, admin, "/api/v1/charging-analytics/"+tc.query); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.query, resp.StatusCode, body, tc.want)
		}
	}
}
