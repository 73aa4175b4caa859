package analytics_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/analytics"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/report"
)

// BenchmarkUtilisation1M answers the utilisation (and the other order
// analytics) over 1,000,000 orders of one year on 50 stations × 2 chargers
// × 10 connectors, generated with generate_series and rolled up by the
// trigger as they are inserted, then vacuumed (as autovacuum would). It
// reports the p50 and p99 of each query in ms.
// The set-up takes minutes, so it runs only with VOLTFLOW_BENCH_1M=1:
//
//	VOLTFLOW_BENCH_1M=1 go test -run '^$' -bench Utilisation1M -benchtime 200x -timeout 60m ./store/analytics/
//
// VOLTFLOW_BENCH_ORDERS changes the number of orders; VOLTFLOW_BENCH_DB (a
// database URL) measures the queries on a database a run before filled.
func BenchmarkUtilisation1M(b *testing.B) {
	if os.Getenv("VOLTFLOW_BENCH_1M") == "" {
		b.Skip("set VOLTFLOW_BENCH_1M=1 to generate 1,000,000 orders")
	}
	ctx := context.Background()
	if url := os.Getenv("VOLTFLOW_BENCH_DB"); url != "" {
		db, err := store.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		var project string
		if err := db.QueryRow(ctx, `select project_id::text from charging_stations where station_id = $1`, registry.DemoStationID).Scan(&project); err != nil {
			b.Fatal(err)
		}
		benchQueries(b, db, project)
		return
	}
	n := 1_000_000
	if v := os.Getenv("VOLTFLOW_BENCH_ORDERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	db := pg.NewDB(b)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15021}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		b.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		b.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		b.Fatal(err)
	}
	if _, err := registry.AddStations(ctx, db, 49, 2, 10); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `update charging_stations set project_id=$1 where project_id is null`, p.ProjectID); err != nil {
		b.Fatal(err)
	}
	// 1000 connectors (the demo station's 24 and 49 × 20); order g starts
	// g × (one year / n) into 2026 on connector g mod 1000, for 30–120 min.
	start := time.Now()
	const batch = 100_000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n) - 1
		if _, err := db.Exec(ctx, `with c as (
				select array_agg(c.equipment_id order by c.connector_id) as eq,
					array_agg(right(c.connector_id, 3)::int order by c.connector_id) as no,
					array_agg(e.station_id order by c.connector_id) as st, count(*)::int as n
				from charging_connectors c join charging_equipment e using (equipment_id)),
			g as (select g, timestamptz '2026-01-01 00:00+08' + g * (interval '365 days' / $2::int) as t
				from generate_series($3::int, $4::int) g)
			insert into charging_orders (id, project_id, workflow_id, source, id_tag, station_id, equipment_id, connector_no,
				status, started_at, stopped_at, energy_kwh, amount, stop_reason)
			select gen_random_uuid(), $1, 'charging/bench-' || g, 'card', 'K1', c.st[1 + g % c.n], c.eq[1 + g % c.n],
				c.no[1 + g % c.n], 'completed', t, t + (1800 + g % 5400) * interval '1 second', (g % 600) / 10.0,
				(g % 900) / 10.0, case when g % 50 = 0 then 'EmergencyStop' when g % 70 = 0 then 'PowerLoss' else 'Local' end
			from g cross join c`, p.ProjectID, n, lo, hi); err != nil {
			b.Fatal(err)
		}
	}
	var rollups int
	if err := db.QueryRow(ctx, `select count(*) from charging_daily_rollup`).Scan(&rollups); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `vacuum analyze`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d orders inserted and rolled up in %s (%d rollup rows)", n, time.Since(start).Round(time.Second), rollups)
	benchQueries(b, db, p.ProjectID)
}

// benchQueries measures each analytic on a database holding the orders.
func benchQueries(b *testing.B, db *store.DB, project string) {
	ctx := context.Background()

	cst := time.FixedZone("CST", 8*3600)
	month := analytics.Filter{Projects: []string{project},
		Period: report.Period{From: time.Date(2026, 6, 1, 0, 0, 0, 0, cst), To: time.Date(2026, 7, 1, 0, 0, 0, 0, cst)}}
	year := month
	year.Period = report.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, cst), To: time.Date(2027, 1, 1, 0, 0, 0, 0, cst)}
	oneStation := month
	oneStation.StationID = registry.DemoStationID
	page := report.Page{Limit: 50}
	count := func(int) error { return nil }
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"utilisation/station/month", func() error {
			return analytics.UtilisationOf(ctx, db, month, analytics.ByStation, page, func(analytics.Utilisation) error { return count(0) })
		}},
		{"utilisation/station/year", func() error {
			return analytics.UtilisationOf(ctx, db, year, analytics.ByStation, page, func(analytics.Utilisation) error { return count(0) })
		}},
		{"utilisation/connector-day/one-station-month", func() error {
			return analytics.UtilisationOf(ctx, db, oneStation, analytics.ByConnectorDay, report.Page{Limit: 500},
				func(analytics.Utilisation) error { return count(0) })
		}},
		{"utilisation/connector/month", func() error {
			return analytics.UtilisationOf(ctx, db, month, analytics.ByConnector, report.Page{Limit: 500}, func(analytics.Utilisation) error { return count(0) })
		}},
		{"stations/month", func() error {
			return analytics.Stations(ctx, db, month, page, func(analytics.StationSummary) error { return count(0) })
		}},
		{"trends/day/year", func() error {
			return analytics.Trends(ctx, db, year, analytics.Daily, report.Page{Limit: 500}, func(analytics.Trend) error { return count(0) })
		}},
		{"protection/month", func() error {
			return analytics.ProtectionByModel(ctx, db, month, page, func(analytics.Protection) error { return count(0) })
		}},
		{"protection/year", func() error {
			return analytics.ProtectionByModel(ctx, db, year, page, func(analytics.Protection) error { return count(0) })
		}},
	} {
		b.Run(q.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			slices.Sort(took)
			p99 := took[min(len(took)-1, len(took)*99/100)]
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
