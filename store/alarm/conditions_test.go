package alarm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

type fixture struct {
	db      *store.DB
	project string
	meters  map[string]string // meter_no → id
}

// setup loads a demo of one gateway with three meters (every meter has an
// open account) and no readings.
func setup(t *testing.T) *fixture {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 3, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, project: l.ProjectID, meters: map[string]string{}}
	rows, err := db.Query(ctx, `select meter_no, id::text from meters`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var no, id string
		if err := rows.Scan(&no, &id); err != nil {
			t.Fatal(err)
		}
		f.meters[no] = id
	}
	return f
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// state writes a meter's latest state as a sweep would (hand-driven).
func (f *fixture) state(t *testing.T, meterNo, energy string, flags int, at time.Time) {
	t.Helper()
	f.exec(t, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh, relay, mode, status_flags, read_at)
		values($1, 50, 0, 0, $2, 0, 0, $3, $4) on conflict (meter_id) do update set energy_kwh=excluded.energy_kwh,
		status_flags=excluded.status_flags, read_at=excluded.read_at`, f.meters[meterNo], energy, flags, at)
}

// reading stores one reading row with a voltage and current.
func (f *fixture) reading(t *testing.T, meterNo string, at time.Time, voltage, current string) {
	t.Helper()
	f.exec(t, `select readings_partition($1)`, at)
	f.exec(t, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh,
		voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		values($1,$2,$2,0,0,0,0,0,$3,$4,0,50,0,0,0,0)`, f.meters[meterNo], at, voltage, current)
}

func (f *fixture) scan(t *testing.T, at time.Time) Scan {
	t.Helper()
	s, err := ScanConditions(context.Background(), f.db, f.project, at)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keys(cs []Condition) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key())
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// open records an alarm open the way the condition workflow does.
func (f *fixture) open(t *testing.T, c Condition, at time.Time) {
	t.Helper()
	if err := Open(context.Background(), f.db, NewAlarm{AlarmID: "run-" + c.Key(), ProjectID: f.project, MeterID: c.MeterID,
		MeterNo: c.SubjectNo, Kind: c.Kind, WorkflowID: "alarm/" + c.Key(), Mode: "condition", At: at, Detail: c.Detail}); err != nil {
		t.Fatal(err)
	}
}

// TestStaticMeterRaisedAndCleared drives three meters' energy by hand over
// days of scans: M0001 stands still while the others move, and the scan
// reports it static after the project's set time, and cleared once it moves.
func TestStaticMeterRaisedAndCleared(t *testing.T) {
	f := setup(t)
	f.exec(t, `insert into alarm_limits(project_id, static_after) values($1, '3 days')`, f.project)
	t0 := time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)
	energy := map[string]float64{"M0001": 100, "M0002": 200, "M0003": 300}
	var clearAt time.Time
	for day := 0; day <= 5; day++ {
		at := t0.Add(time.Duration(day) * 24 * time.Hour)
		for no := range energy {
			if no != "M0001" || day == 5 {
				energy[no] += 7.5
			}
			f.state(t, no, fmt.Sprintf("%.2f", energy[no]), 0, at)
		}
		s := f.scan(t, at)
		got := keys(s.Active)
		switch {
		case day < 3 && got != "":
			t.Fatalf("day %d: active %s before the set time", day, got)
		case day >= 3 && day < 5 && got != "M0001/static":
			t.Fatalf("day %d: active %q, want M0001/static", day, got)
		case day == 3:
			f.open(t, s.Active[0], at)
		case day == 4 && (len(s.Clear) != 0 || !s.Open["M0001/static"]):
			t.Fatalf("day 4: open %v clear %v", s.Open, s.Clear)
		case day == 5:
			if got != "" || len(s.Clear) != 1 || s.Clear[0].Key() != "M0001/static" || s.Clear[0].WorkflowID != "alarm/M0001/static" {
				t.Fatalf("day 5 (M0001 moved): active %q clear %+v", got, s.Clear)
			}
			clearAt = at
		}
	}
	if clearAt.IsZero() {
		t.Fatal("never cleared")
	}
	// A whole site standing still (a holiday) is not theft.
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		f.state(t, no, "999", 0, clearAt.Add(96*time.Hour))
	}
	f.scan(t, clearAt.Add(96*time.Hour))
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		f.state(t, no, "999", 0, clearAt.Add(200*time.Hour))
	}
	if s := f.scan(t, clearAt.Add(200*time.Hour)); keys(s.Active) != "" {
		t.Fatalf("all meters still: %s", keys(s.Active))
	}
}

// TestLimitsTripsAndLostContact covers the other condition kinds: voltage
// and current from the readings since the last scan (a meter's own limits
// replacing the project's), trips from the status flags, lost contact from
// the sweep's device events — and their clearing.
func TestLimitsTripsAndLostContact(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(t, `insert into alarm_limits(project_id, voltage_max, current_max) values($1, 250, 60)`, f.project)
	f.exec(t, `insert into alarm_limits(project_id, meter_id, voltage_max) values($1, $2, 240)`, f.project, f.meters["M0003"])
	t0 := time.Date(2026, 11, 2, 4, 0, 0, 0, time.UTC)
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		f.state(t, no, "10", 0, t0)
	}
	f.reading(t, "M0001", t0.Add(-time.Minute), "255.0", "10")
	f.reading(t, "M0002", t0.Add(-time.Minute), "230.0", "75")
	f.reading(t, "M0003", t0.Add(-time.Minute), "245.0", "75") // its own limits: 240 V, no current limit
	if got := keys(f.scan(t, t0).Active); got != "M0001/over_voltage,M0002/over_current,M0003/over_voltage" {
		t.Fatalf("first scan: %s", got)
	}
	// Trips, and a lost meter and gateway from the sweep's events.
	t1 := t0.Add(15 * time.Minute)
	f.state(t, "M0001", "10", 1<<3, t1)
	f.state(t, "M0002", "10", 1<<4, t1)
	var gwID string
	if err := f.db.QueryRow(ctx, `select id::text from gateways limit 1`).Scan(&gwID); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `insert into device_events(project_id, kind, subject, subject_no, detail, raised_at) values
		($1,'meter_lost_contact',$2,'M0003','no answer',$4), ($1,'gateway_lost_contact',$3,'GW-01','cannot connect',$4)`,
		f.project, f.meters["M0003"], gwID, t1)
	s := f.scan(t, t1)
	// No reading since the last scan: the voltage and current alarms keep their state.
	want := "GW-01/gateway_lost_contact,M0001/overload_trip,M0002/malignant_load_trip,M0003/lost_contact"
	if got := keys(s.Active); got != want {
		t.Fatalf("second scan: %s, want %s", got, want)
	}
	for _, c := range s.Active {
		if c.Kind == "gateway_lost_contact" && (c.MeterID != "" || c.Detail != "cannot connect") {
			t.Fatalf("gateway condition %+v", c)
		}
		f.open(t, c, t1)
	}
	f.open(t, Condition{Kind: "over_voltage", MeterID: f.meters["M0001"], SubjectNo: "M0001"}, t0)
	// Everything back to normal: one fresh reading each, flags clear, events cleared.
	t2 := t1.Add(15 * time.Minute)
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		f.state(t, no, "10", 0, t2)
		f.reading(t, no, t2, "230.0", "5")
	}
	f.exec(t, `update device_events set cleared_at=$1`, t2)
	s = f.scan(t, t2)
	var cleared []string
	for _, o := range s.Clear {
		cleared = append(cleared, o.Key())
	}
	sort.Strings(cleared)
	if keys(s.Active) != "" || strings.Join(cleared, ",") !=
		"GW-01/gateway_lost_contact,M0001/over_voltage,M0001/overload_trip,M0002/malignant_load_trip,M0003/lost_contact" {
		t.Fatalf("third scan: active %s, clear %v", keys(s.Active), cleared)
	}
}

// Without limits the scan reads only flagged meters and meters with an open
// condition alarm, keeps no baselines, and still opens and clears trips.
func TestTripsWithoutLimits(t *testing.T) {
	f := setup(t)
	t0 := time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC)
	f.state(t, "M0001", "10", 1<<3, t0)
	f.state(t, "M0002", "10", 0, t0)
	s := f.scan(t, t0)
	if keys(s.Active) != "M0001/overload_trip" {
		t.Fatalf("active %s", keys(s.Active))
	}
	f.open(t, s.Active[0], t0)
	var watched int
	if err := f.db.QueryRow(context.Background(), `select count(*) from alarm_meter_watch`).Scan(&watched); err != nil || watched != 0 {
		t.Fatalf("watch rows %d %v, want none without limits", watched, err)
	}
	f.state(t, "M0001", "10", 0, t0.Add(time.Minute))
	s = f.scan(t, t0.Add(time.Minute))
	if keys(s.Active) != "" || len(s.Clear) != 1 || s.Clear[0].Key() != "M0001/overload_trip" {
		t.Fatalf("after the flag cleared: active %s clear %+v", keys(s.Active), s.Clear)
	}
}
