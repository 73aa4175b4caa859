package chargeorder_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/fleet"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
)

// Routes bind vehicles; the statistics of a vehicle sum its completed
// orders in the range, in total and by TOU period (尖峰平谷 order).
func TestVehiclesRoutesAndStats(t *testing.T) {
	f := moneySetup(t)
	projects := []string{f.project}
	const vin, other = "LVVDB11B0ND000101", "LVVDB11B0ND000102"
	for _, v := range []string{vin, other} {
		if err := chargeorderstore.RegisterVehicle(f.ctx, f.db, projects, v, charger.DemoCard, "粤B"+v[12:]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := chargeorderstore.CreateRoute(f.ctx, f.db, f.project, fleet.Route{Code: "B101", Name: "101路"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chargeorderstore.CreateRoute(f.ctx, f.db, f.project, fleet.Route{Code: "B101", Name: "again"}); !errors.Is(err, chargeorderstore.ErrRouteExists) {
		t.Fatalf("route twice: %v", err)
	}
	v, err := chargeorderstore.BindRoute(f.ctx, f.db, projects, vin, r.ID)
	if err != nil || v.RouteCode == nil || *v.RouteCode != "B101" {
		t.Fatalf("bind: %+v %v", v, err)
	}
	if _, err := chargeorderstore.BindRoute(f.ctx, f.db, projects, vin, uuid.NewString()); !errors.Is(err, chargeorderstore.ErrNotFound) {
		t.Fatalf("bind to an unknown route: %v", err)
	}
	list, err := chargeorderstore.ListVehicles(f.ctx, f.db, chargeorderstore.VehicleQuery{Projects: projects, RouteID: r.ID, Limit: 10})
	if err != nil || len(list) != 1 || list[0].VIN != vin {
		t.Fatalf("route's vehicles %+v %v", list, err)
	}
	if routes, err := chargeorderstore.ListRoutes(f.ctx, f.db, projects); err != nil || len(routes) != 1 || routes[0].Vehicles != 1 {
		t.Fatalf("routes %+v %v", routes, err)
	}

	// Two orders of the vehicle inside the range, one outside, one of another vehicle.
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	order := func(v string, at time.Time, kwh, amount, voucher, lines string) {
		t.Helper()
		id := uuid.NewString()
		if _, err := f.db.Exec(f.ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, vin,
			equipment_id, connector_no, status, energy_kwh, amount, voucher_amount, lines, started_at)
			values ($1,$2,$3,'vin',$4,$4,'EQ1',1,'completed',$5,$6,$7,$8,$9)`,
			id, f.project, "charging/"+id, v, kwh, amount, voucher, lines, at); err != nil {
			t.Fatal(err)
		}
	}
	line := func(period, kwh, e, s string) string {
		return fmt.Sprintf(`{"period":%q,"kwh":%q,"energyFee":%q,"serviceFee":%q}`, period, kwh, e, s)
	}
	order(vin, day.Add(2*time.Hour), "30.000", "40.60", "0", "["+line("flat", "10.000", "7.00", "5.00")+","+line("peak", "20.000", "20.00", "12.00")+"]")
	order(vin, day.Add(20*time.Hour), "2.000", "0.40", "1.00", "["+line("valley", "2.000", "0.60", "0.80")+"]")
	order(vin, day.Add(-time.Hour), "5.000", "6.00", "0", "["+line("flat", "5.000", "3.50", "2.50")+"]")
	order(other, day.Add(time.Hour), "5.000", "6.00", "0", "["+line("flat", "5.000", "3.50", "2.50")+"]")
	from, to := day, day.Add(24*time.Hour)
	st, err := chargeorderstore.StatsOfVehicle(f.ctx, f.db, projects, vin, &from, &to)
	if err != nil {
		t.Fatal(err)
	}
	// Amount is what the orders were priced at: 40.60 + (0.40 + 1.00 voucher).
	if st.Orders != 2 || st.KWh.String() != "32" || st.Amount.String() != "42.00" {
		t.Fatalf("stats %+v", st)
	}
	got := fmt.Sprint(st.Periods)
	if want := "[{peak 1 20 20.00 12.00} {flat 1 10 7.00 5.00} {valley 1 2 0.60 0.80}]"; got != want {
		t.Fatalf("periods %s, want %s", got, want)
	}
	if _, err := chargeorderstore.StatsOfVehicle(f.ctx, f.db, projects, "LVVDB11B0ND999999", nil, nil); !errors.Is(err, chargeorderstore.ErrNotFound) {
		t.Fatalf("unknown vehicle: %v", err)
	}
}
