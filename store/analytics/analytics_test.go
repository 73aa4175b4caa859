package analytics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/analytics"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/report"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

var cst = time.FixedZone("CST", 8*3600)

func at(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, cst) }

type fixture struct {
	ctx     context.Context
	db      *store.DB
	project string
	c1, c2  string
}

// setup is the demo station (two 480 kW split chargers "Demo Power
// SPLIT-480", 12 connectors of 160 kW each) and two customers.
func setup(t testing.TB) fixture {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15021}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	f := fixture{ctx: ctx, db: db, project: p.ProjectID, c1: uuid.NewString(), c2: uuid.NewString()}
	for i, c := range []string{f.c1, f.c2} {
		if _, err := db.Exec(ctx, `insert into customers (id, project_id, name, phone, kind) values ($1,$2,$3,$4,'person')`,
			c, f.project, fmt.Sprintf("Driver %d", i+1), fmt.Sprintf("1380000000%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

type order struct {
	eq, conn         int // equipment index, connector number
	status           string
	start, stop      time.Time
	kwh, amount      string
	customer, reason string
	tx               int
}

func (f fixture) insert(t testing.TB, o order) string {
	t.Helper()
	id := uuid.NewString()
	var start, stop, cust, reason, tx, kwh, amount any
	if !o.start.IsZero() {
		start = o.start
	}
	if !o.stop.IsZero() {
		stop = o.stop
	}
	if o.customer != "" {
		cust = o.customer
	}
	if o.reason != "" {
		reason = o.reason
	}
	if o.tx != 0 {
		tx = o.tx
	}
	if o.kwh != "" {
		kwh, amount = o.kwh, o.amount
	}
	created := o.start
	if created.IsZero() {
		created = o.stop
	}
	if _, err := f.db.Exec(f.ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, card_no, customer_id,
		station_id, equipment_id, connector_no, transaction_id, status, stop_reason, started_at, stopped_at, energy_kwh, amount,
		meter_start_wh, meter_stop_wh, created_at)
		values ($1,$2,$3,'card','K1','K1',$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,
			case when $8::int is null then null else 0 end, case when $8::int is null then null else ($13::numeric * 1000)::bigint end, $15)`,
		id, f.project, "charging/"+id, cust, registry.DemoStationID, registry.DemoEquipmentIDs[o.eq], o.conn, tx, o.status,
		reason, start, stop, kwh, amount, created); err != nil {
		t.Fatal(err)
	}
	return id
}

func collect[T any](t *testing.T, walk func(fn func(T) error) error) []T {
	t.Helper()
	var out []T
	if err := walk(func(r T) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A seeded month (November 2026, China days) of orders; each figure is
// worked out by hand in the comments.
func TestSeededMonth(t *testing.T) {
	f := setup(t)
	// #1 A-1, 3 Nov 10:00–11:00, 50 kWh, 60.00, with meter samples (transaction 7001)
	if _, err := f.db.Exec(f.ctx, `insert into ocpp_transactions (id, equipment_id, connector_no, id_tag, auth_status, meter_start_wh, started_at)
		values (7001, $1, 1, 'K1', 'Accepted', 0, $2)`, registry.DemoEquipmentIDs[0], at(3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(f.ctx, `insert into ocpp_meter_values (transaction_id, equipment_id, connector_no, at, energy_wh, power_w)
		values (7001, $1, 1, $2, 12000, 48000), (7001, $1, 1, $3, 37000, 50000)`,
		registry.DemoEquipmentIDs[0], at(3, 10, 15), at(3, 10, 45)); err != nil {
		t.Fatal(err)
	}
	f.insert(t, order{eq: 0, conn: 1, status: "completed", start: at(3, 10, 0), stop: at(3, 11, 0), kwh: "50.000", amount: "60.00",
		customer: f.c1, reason: "Local", tx: 7001})
	// #2 A-1, 3 Nov 23:30 – 4 Nov 00:30, 20 kWh, 24.00, the charger's protection stopped it
	f.insert(t, order{eq: 0, conn: 1, status: "completed", start: at(3, 23, 30), stop: at(4, 0, 30), kwh: "20.000", amount: "24.00",
		customer: f.c1, reason: "EmergencyStop"})
	// #3 B-2, 10 Nov 08:00–10:00, 100 kWh, 110.00, power loss: recorded charging, then completed (the update path)
	o3 := f.insert(t, order{eq: 1, conn: 2, status: "charging", start: at(10, 8, 0), customer: f.c2})
	if _, err := f.db.Exec(f.ctx, `update charging_orders set status='completed', stopped_at=$2, energy_kwh=100, amount=110,
		stop_reason='PowerLoss' where id=$1`, o3, at(10, 10, 0)); err != nil {
		t.Fatal(err)
	}
	// #4 B-2, 10 Nov 12:00, failed to start
	f.insert(t, order{eq: 1, conn: 2, status: "failed", stop: at(10, 12, 0), customer: f.c2})
	// #5 A-3, 31 Oct 23:00 – 1 Nov 01:00, 40 kWh, 50.00: an October order, one hour of it in November
	f.insert(t, order{eq: 0, conn: 3, status: "completed", start: at(0, 23, 0), stop: at(1, 1, 0), kwh: "40.000", amount: "50.00",
		customer: f.c1})
	// #6 A-3, 1 Dec 09:00–10:00, 10 kWh: December
	f.insert(t, order{eq: 0, conn: 3, status: "completed", start: at(31, 9, 0), stop: at(31, 10, 0), kwh: "10.000", amount: "12.00",
		customer: f.c1})
	// #7 A-1, 30 Nov 23:00 – 1 Dec 01:00, 30 kWh, 36.00: November, one hour of it in December
	f.insert(t, order{eq: 0, conn: 1, status: "completed", start: at(30, 23, 0), stop: at(31, 1, 0), kwh: "30.000", amount: "36.00",
		customer: f.c1})
	// #8 changed after completion, then deleted: leaves nothing behind
	o8 := f.insert(t, order{eq: 1, conn: 5, status: "completed", start: at(20, 8, 0), stop: at(20, 9, 0), kwh: "5.000", amount: "6.00",
		customer: f.c2})
	if _, err := f.db.Exec(f.ctx, `update charging_orders set energy_kwh=7 where id=$1`, o8); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(f.ctx, `delete from charging_orders where id=$1`, o8); err != nil {
		t.Fatal(err)
	}

	nov := analytics.Filter{Projects: []string{f.project}, Period: report.Period{From: at(1, 0, 0), To: at(31, 0, 0)}}

	// Station summary: completed #1 #2 #3 #7 = 4 (200 kWh, 230.00, 21,600 s); failed #4.
	// Busy time in November: 3600 + 3600 + 7200 + 3600 (#5) + 3600 (#7) = 21,600 s of 24 × 30 × 86,400 = 0.03 %.
	// Energy inside November: 50 + 20 + 100 + 20 (#5's half) + 15 (#7's half) = 205 kWh of 960 kW × 720 h = 0.03 %.
	st := collect(t, func(fn func(analytics.StationSummary) error) error {
		return analytics.Stations(f.ctx, f.db, nov, report.Page{}, fn)
	})
	if len(st) != 1 {
		t.Fatalf("stations %+v", st)
	}
	got := fmt.Sprintf("%d %d %s %s %d %d %s %s %s %s %d %d %s", st[0].Orders, st[0].FailedOrders, st[0].EnergyKWh, st[0].Amount,
		st[0].ChargeSeconds, st[0].BusySeconds, st[0].TimeUtilPct, st[0].PowerUtilPct, st[0].FailureRatePct, st[0].AvgOrderKWh,
		st[0].AvgOrderSeconds, st[0].Connectors, st[0].RatedKW)
	if want := "4 1 200.000 230.00 21600 21600 0.03 0.03 20.00 50.000 5400 24 960.0"; got != want {
		t.Fatalf("station summary %s, want %s", got, want)
	}
	total, err := analytics.Total(f.ctx, f.db, nov)
	if err != nil || total.Orders != 4 || total.EnergyKWh != "200.000" || total.Amount != "230.00" {
		t.Fatalf("total %+v %v", total, err)
	}

	// Utilisation of connector A-1 on 3 Nov: 3600 (#1) + 1800 (#2) = 5400 s of 86,400 = 6.25 %;
	// 50 + 10 (#2 pro rata) = 60 kWh of 160 kW × 24 h = 3840 kWh = 1.56 %. On 4 Nov: 1800 s = 2.08 %, 10 kWh = 0.26 %.
	u := collect(t, func(fn func(analytics.Utilisation) error) error {
		return analytics.UtilisationOf(f.ctx, f.db, nov, analytics.ByConnectorDay, report.Page{}, fn)
	})
	if len(u) != 24*30 {
		t.Fatalf("%d connector-days, want 720", len(u))
	}
	byKey := map[string]analytics.Utilisation{}
	for _, r := range u {
		byKey[*r.ConnectorID+" "+*r.Day] = r
	}
	a1 := registry.DemoEquipmentIDs[0] + "001"
	for key, want := range map[string]string{
		a1 + " 2026-11-03": "5400 6.25 60.000 1.56",
		a1 + " 2026-11-04": "1800 2.08 10.000 0.26",
		a1 + " 2026-11-30": "3600 4.17 15.000 0.39",
		a1 + " 2026-11-05": "0 0.00 0.000 0.00",
	} {
		r := byKey[key]
		if got := fmt.Sprintf("%d %s %s %s", r.BusySeconds, r.TimeUtilPct, r.EnergyKWh, r.PowerUtilPct); got != want {
			t.Errorf("utilisation %s: %s, want %s", key, got, want)
		}
	}
	// The station on 10 Nov: 7200 s of 24 × 86,400 = 0.35 %; 100 kWh of 960 × 24 = 0.43 %.
	sd := collect(t, func(fn func(analytics.Utilisation) error) error {
		return analytics.UtilisationOf(f.ctx, f.db, nov, analytics.ByStationDay, report.Page{}, fn)
	})
	if len(sd) != 30 || *sd[9].Day != "2026-11-10" || sd[9].TimeUtilPct != "0.35" || sd[9].PowerUtilPct != "0.43" || sd[9].Orders != 1 {
		t.Fatalf("station-day utilisation %+v", sd[9])
	}
	// Paging by connector gives every connector once.
	var pages []analytics.Utilisation
	after := ""
	for {
		page := collect(t, func(fn func(analytics.Utilisation) error) error {
			return analytics.UtilisationOf(f.ctx, f.db, nov, analytics.ByConnector, report.Page{After: after, Limit: 10}, fn)
		})
		pages = append(pages, page...)
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].Cursor()
	}
	if len(pages) != 24 || *pages[0].ConnectorID != a1 || pages[0].BusySeconds != 3600+3600+3600 {
		t.Fatalf("connector pages: %d, first %+v", len(pages), pages[0])
	}

	// Trends by day: 3 Nov has #1 and #2 (70 kWh, 84.00, 7200 s); 10 Nov #3 and the failed #4.
	tr := collect(t, func(fn func(analytics.Trend) error) error {
		return analytics.Trends(f.ctx, f.db, nov, analytics.Daily, report.Page{}, fn)
	})
	if len(tr) != 30 {
		t.Fatalf("%d days", len(tr))
	}
	if got := join(tr[2].Period, tr[2].Orders, tr[2].EnergyKWh, tr[2].Amount, tr[2].ChargeSeconds, tr[2].BusySeconds); got != "2026-11-03 2 70.000 84.00 7200 5400" {
		t.Errorf("3 Nov trend %s", got)
	}
	if got := join(tr[9].Orders, tr[9].FailedOrders, tr[9].EnergyKWh); got != "1 1 100.000" {
		t.Errorf("10 Nov trend %s", got)
	}
	// By month over October–December: #5 in October, four in November, #6 in December.
	q4 := nov
	q4.Period = report.Period{From: time.Date(2026, 10, 1, 0, 0, 0, 0, cst), To: time.Date(2027, 1, 1, 0, 0, 0, 0, cst)}
	mt := collect(t, func(fn func(analytics.Trend) error) error {
		return analytics.Trends(f.ctx, f.db, q4, analytics.Monthly, report.Page{}, fn)
	})
	if got := join(mt[0].Period, mt[0].Orders, mt[0].EnergyKWh, mt[1].Period, mt[1].Orders, mt[1].EnergyKWh,
		mt[2].Period, mt[2].Orders, mt[2].EnergyKWh); got != "2026-10 1 40.000 2026-11 4 200.000 2026-12 1 10.000" {
		t.Errorf("monthly trend %s", got)
	}

	// Power by hour from #1's samples: 0 → 12,000 → 37,000 Wh inside 10:00, 50,000 at the 11:00 stop:
	// 37 kWh at 10, 13 kWh at 11; averaged over 30 days 1.233 and 0.433 kW; peak 50 kW.
	ph := collect(t, func(fn func(analytics.PowerHour) error) error {
		return analytics.PowerByHour(f.ctx, f.db, nov, report.Page{}, fn)
	})
	if len(ph) != 24 {
		t.Fatalf("%d hours", len(ph))
	}
	if got := join(ph[10].EnergyKWh, ph[10].AvgPowerKW, ph[10].PeakPowerKW, ph[11].EnergyKWh, ph[11].AvgPowerKW, ph[9].EnergyKWh); got != "37.000 1.233 50.000 13.000 0.433 0.000" {
		t.Errorf("power by hour %s", got)
	}

	// Protection by brand and model: 4 orders, #2 protection, #3 abnormal, #4 failed.
	pr := collect(t, func(fn func(analytics.Protection) error) error {
		return analytics.ProtectionByModel(f.ctx, f.db, nov, report.Page{}, fn)
	})
	if len(pr) != 1 {
		t.Fatalf("protection %+v", pr)
	}
	if got := join(pr[0].Brand, pr[0].Model, pr[0].Chargers, pr[0].Orders, pr[0].Protection, pr[0].Abnormal, pr[0].Failed,
		pr[0].ProtectionPct, pr[0].AbnormalPct, pr[0].FailedPct); got != "Demo Power SPLIT-480 2 4 1 1 1 25.00 25.00 20.00" {
		t.Errorf("protection %s", got)
	}

	// Customers: driver 1 has #1 #2 #7 (100 kWh, 120.00) from 3 to 30 Nov; driver 2 #3 (the failed #4 and deleted #8 do not count).
	cs := collect(t, func(fn func(analytics.Customer) error) error {
		return analytics.Customers(f.ctx, f.db, nov, report.Page{}, fn)
	})
	if len(cs) != 2 {
		t.Fatalf("customers %+v", cs)
	}
	for _, c := range cs {
		got := join(c.Name, c.Orders, c.EnergyKWh, c.Amount, c.Stations, c.FirstDay, c.LastDay)
		want := map[string]string{f.c1: "Driver 1 3 100.000 120.00 1 2026-11-03 2026-11-30", f.c2: "Driver 2 1 100.000 110.00 1 2026-11-10 2026-11-10"}[c.CustomerID]
		if got != want {
			t.Errorf("customer %s, want %s", got, want)
		}
	}

	// A caller scoped to another station sees none of it.
	scoped := nov
	scoped.Scope = store.StationScope{Projects: []string{f.project}, Stations: []string{"44030000000000009999"}}
	if n := len(collect(t, func(fn func(analytics.StationSummary) error) error {
		return analytics.Stations(f.ctx, f.db, scoped, report.Page{}, fn)
	})); n != 0 {
		t.Errorf("scoped caller sees %d stations", n)
	}
	if n := len(collect(t, func(fn func(analytics.Customer) error) error {
		return analytics.Customers(f.ctx, f.db, scoped, report.Page{}, fn)
	})); n != 0 {
		t.Errorf("scoped caller sees %d customers", n)
	}

	// The station rollup is the connector rollup summed.
	var off int
	if err := f.db.QueryRow(f.ctx, `select count(*) from (select project_id, station_id, day, sum(orders) as orders,
			sum(failed) as failed, sum(energy_kwh) as energy_kwh, sum(busy_seconds) as busy_seconds, sum(busy_kwh) as busy_kwh
			from charging_daily_rollup group by 1, 2, 3) d
		full join charging_station_rollup s using (project_id, station_id, day)
		where (d.orders, d.failed, d.energy_kwh, d.busy_seconds, d.busy_kwh)
			is distinct from (s.orders, s.failed, s.energy_kwh, s.busy_seconds, s.busy_kwh)`).Scan(&off); err != nil || off != 0 {
		t.Errorf("%d station-days differ from their connectors (%v)", off, err)
	}
	// The changed and deleted #8 left no row with anything in it.
	var left int
	if err := f.db.QueryRow(f.ctx, `select count(*) from charging_daily_rollup where equipment_id = $1 and connector_no = 5
		and (orders <> 0 or energy_kwh <> 0 or busy_seconds <> 0 or busy_kwh <> 0)`, registry.DemoEquipmentIDs[1]).Scan(&left); err != nil || left != 0 {
		t.Errorf("order #8 left %d rows (%v)", left, err)
	}
}

// Operating status over a day from one connector's status history; the
// other 23 connectors have none (unknown).
func TestStatusHistory(t *testing.T) {
	f := setup(t)
	a1 := registry.DemoEquipmentIDs[0] + "001"
	for _, h := range []struct {
		at     time.Time
		status int
	}{{at(2, 22, 0), 1}, {at(3, 10, 0), 3}, {at(3, 11, 0), 1}, {at(3, 12, 0), 255}, {at(3, 18, 0), 0}, {at(4, 9, 0), 1}} {
		if _, err := f.db.Exec(f.ctx, `insert into connector_status_history (connector_id, info, changed_at) values ($1, $2, $3)`,
			a1, fmt.Sprintf(`{"ConnectorID":%q,"Status":%d}`, a1, h.status), h.at); err != nil {
			t.Fatal(err)
		}
	}
	day := analytics.Filter{Projects: []string{f.project}, Period: report.Period{From: at(3, 0, 0), To: at(4, 0, 0)}}
	rows := collect(t, func(fn func(analytics.StatusDay) error) error {
		return analytics.StatusHistory(f.ctx, f.db, day, report.Page{}, fn)
	})
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	// idle 00–10 and 11–12, charging 10–11, fault 12–18, offline 18–24; 4 changes; (36,000 + 3600 + 3600) / 86,400 = 50 %.
	got := join(r.Changes, r.IdleSeconds, r.ChargingSeconds, r.FaultSeconds, r.OfflineSeconds, r.UnknownSeconds, r.AvailablePct)
	if want := join(4, 39600, 3600, 21600, 21600, 23*86400, "50.00"); got != want {
		t.Fatalf("status day %s, want %s", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to time.Time
		field    string
	}{
		{"whole days", at(1, 0, 0), at(2, 0, 0), ""},
		{"not midnight", at(1, 0, 0), at(2, 3, 0), "to"},
		{"backwards", at(2, 0, 0), at(1, 0, 0), "from"},
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, cst), at(1, 0, 0), "from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			field, _ := analytics.Filter{Period: report.Period{From: tc.from, To: tc.to}}.Validate()
			if field != tc.field {
				t.Fatalf("field %q, want %q", field, tc.field)
			}
		})
	}
}

// join is fmt.Sprintln without the newline: every value space-separated.
func join(a ...any) string { return strings.TrimSuffix(fmt.Sprintln(a...), "\n") }
