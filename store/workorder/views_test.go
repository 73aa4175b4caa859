package workorder_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/report"
	"github.com/voltflow/voltflow/store/storetest"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const cp1, cp2 = "4403000000000000000001", "4403000000000000000002"

func setup(t *testing.T) (*store.DB, string) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 1, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, l.ProjectID); err != nil {
		t.Fatal(err)
	}
	return db, l.ProjectID
}

func collect[T any](t *testing.T, walk func(func(T) error) error) []T {
	var out []T
	if err := walk(func(r T) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestViews(t *testing.T) {
	ctx := context.Background()
	db, project := setup(t)
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	ins := func(cp string, conn, code int, start time.Duration, end *time.Duration) {
		var rec *time.Time
		if end != nil {
			v := t0.Add(*end)
			rec = &v
		}
		if _, err := db.Exec(ctx, `insert into charger_faults(equipment_id, connector_no, ocpp_code, alarm_code, alarm_type, alarm_level,
			started_at, recovered_at) values($1,$2,'X',$3,1,3,$4,$5)`, cp, conn, code, t0.Add(start), rec); err != nil {
			t.Fatal(err)
		}
	}
	h := func(x float64) *time.Duration { d := time.Duration(x * float64(time.Hour)); return &d }
	ins(cp1, 1, 17, 0, h(1))                // 1 h
	ins(cp1, 2, 31, 30*time.Minute, h(1.5)) // overlaps: charger 1 down 1.5 h in all
	ins(cp2, 0, 27, 2*time.Hour, nil)       // offline, not back: 2 h of the period
	ins(cp2, 3, 17, -2*time.Hour, h(-1))    // before the period
	all := []string{project}
	period := report.Period{From: t0, To: t0.Add(4 * time.Hour)}

	recs := collect(t, func(fn func(workorderstore.FailureRecord) error) error {
		return workorderstore.FailureRecords(ctx, db, workorderstore.FaultFilter{Projects: all, Period: &period}, report.Page{}, fn)
	})
	if len(recs) != 3 || recs[0].ChargePointID != cp2 || recs[0].Recovered || recs[1].DurationSeconds != 3600 ||
		recs[2].DurationSeconds != 3600 || recs[2].StationName == "" {
		t.Fatalf("failure records %+v", recs)
	}
	page := collect(t, func(fn func(workorderstore.FailureRecord) error) error {
		return workorderstore.FailureRecords(ctx, db, workorderstore.FaultFilter{Projects: all}, report.Page{Limit: 2, After: recs[0].Cursor()}, fn)
	})
	if len(page) != 2 || page[0].FaultID != recs[1].FaultID {
		t.Fatalf("second page %+v", page)
	}
	off := collect(t, func(fn func(workorderstore.OfflineRecord) error) error {
		return workorderstore.ConcentratorOffline(ctx, db, workorderstore.FaultFilter{Projects: all}, report.Page{}, fn)
	})
	if len(off) != 1 || off[0].ChargePointID != cp2 || off[0].RecoveredAt != nil {
		t.Fatalf("offline %+v", off)
	}
	rates := collect(t, func(fn func(workorderstore.StationFailureRate) error) error {
		return workorderstore.StationFailureRates(ctx, db, workorderstore.RateFilter{Projects: all, Period: period}, report.Page{}, fn)
	})
	// (1.5 h + 2 h) / (2 chargers × 4 h) = 43.75 %
	if len(rates) != 1 || rates[0].Chargers != 2 || rates[0].FailedChargers != 2 || rates[0].Faults != 3 ||
		rates[0].FaultSeconds != 12600 || rates[0].FailureRatePct != "43.75" || rates[0].AvailabilityPct != "56.25" {
		t.Fatalf("rates %+v", rates)
	}
	terms := collect(t, func(fn func(workorderstore.TerminalStatus) error) error {
		return workorderstore.TerminalStatuses(ctx, db, workorderstore.TerminalFilter{Projects: all}, report.Page{}, fn)
	})
	if len(terms) != 24 {
		t.Fatalf("%d terminals", len(terms))
	}
	for _, tm := range terms {
		want := 0
		if tm.ChargePointID == cp2 {
			want = 1 // the open offline episode counts on every terminal of the charger
		}
		if tm.OpenFaults != want || tm.Online || tm.LatencySeconds != nil {
			t.Fatalf("terminal %+v", tm)
		}
	}
	for name, n := range map[string]int{
		"other project": len(collect(t, func(fn func(workorderstore.FailureRecord) error) error {
			return workorderstore.FailureRecords(ctx, db, workorderstore.FaultFilter{Projects: []string{"00000000-0000-0000-0000-000000000000"}}, report.Page{}, fn)
		})),
		"bad cursor": func() int {
			err := workorderstore.FailureRecords(ctx, db, workorderstore.FaultFilter{Projects: all}, report.Page{After: "x"}, func(workorderstore.FailureRecord) error { return nil })
			if err == nil {
				return 1
			}
			return 0
		}(),
	} {
		if n != 0 {
			t.Errorf("%s: %d", name, n)
		}
	}
	// Every view's header matches its cells.
	for _, r := range []report.Row{recs[0], off[0], rates[0], terms[0]} {
		if len(r.Headers()) != len(r.Cells()) {
			t.Errorf("%T: %d headers, %d cells", r, len(r.Headers()), len(r.Cells()))
		}
	}
}
