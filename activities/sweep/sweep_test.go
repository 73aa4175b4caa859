package sweep_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// fixture is a small fleet on real sockets: 3 gateways with 5 simulated
// meters each, of which the database knows units 1–4, plus a ghost meter
// (unit 9 on the first gateway) that nothing answers for.
type fixture struct {
	db        *store.DB
	fleet     *simulator.Fleet
	acts      *sweepacts.Activities
	projectID string
	gateways  []string // ids in code order
	ghostID   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: pg.NewDB(t)}
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 3, Meters: 5,
		Meter: simulator.MeterConfig{Remaining: 5000, UnitPrice: 12000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	f.fleet = fleet
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 4, nil
	for _, g := range fleet.Gateways() {
		var port int
		if _, err := fmt.Sscanf(g.Addr()[strings.LastIndex(g.Addr(), ":")+1:], "%d", &port); err != nil {
			t.Fatal(err)
		}
		d.GatewayPorts = append(d.GatewayPorts, port)
	}
	loaded, err := demo.Load(ctx, f.db, d)
	if err != nil {
		t.Fatal(err)
	}
	f.projectID = loaded.ProjectID
	gws := &metersacts.Gateways{Timeout: time.Second}
	t.Cleanup(gws.Close)
	f.acts = &sweepacts.Activities{DB: f.db, Gateways: gws, Concurrency: 2, FlushRows: 5}
	list, err := f.acts.SweepGateways(ctx, sweepacts.GatewaysInput{ProjectID: f.projectID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GatewayIDs) != 3 || list.Meters != 12 {
		t.Fatalf("gateways %v meters %d, want 3 and 12", list.GatewayIDs, list.Meters)
	}
	f.gateways = list.GatewayIDs
	if err := f.db.QueryRow(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
		values(gen_random_uuid(), $1, 'GHOST', $2, 9, 'ref-prepaid-v1', 1.2) returning id::text`,
		f.projectID, f.gateways[0]).Scan(&f.ghostID); err != nil {
		t.Fatal(err)
	}
	return f
}

// sweep runs one batch over every gateway through Temporal's activity
// environment (heartbeats and activity info as on a worker).
func (f *fixture) sweep(t *testing.T, at time.Time) sweepacts.BatchResult {
	t.Helper()
	return f.run(t, at, false)
}

// retry runs the batch as a retried attempt: with the heartbeat details its
// predecessor recorded.
func (f *fixture) retry(t *testing.T, at time.Time) sweepacts.BatchResult {
	t.Helper()
	return f.run(t, at, true)
}

func (f *fixture) run(t *testing.T, at time.Time, retried bool) sweepacts.BatchResult {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	if retried {
		env.SetHeartbeatDetails(sweepacts.Progress{GatewaysDone: 1})
	}
	v, err := env.ExecuteActivity(f.acts.SweepBatch, sweepacts.BatchInput{ProjectID: f.projectID, At: at, GatewayIDs: f.gateways})
	if err != nil {
		t.Fatalf("sweep at %s: %v", at, err)
	}
	var res sweepacts.BatchResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestSweepWritesReadingsOnceAndLatestState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// A meter whose state differs from the rest, to see values land on the right row.
	f.fleet.Gateway(1).Meter(3).ClearRemaining()

	res := f.sweep(t, at)
	res.ElapsedMs, res.WriteMs, res.ReadingsMs, res.StateMs, res.HooksMs = 0, 0, 0, 0, 0
	want := sweepacts.BatchResult{Gateways: 3, Meters: 13, Read: 12, Failed: 1}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if n := f.count(t, `select count(*) from readings where read_at=$1`, at); n != 12 {
		t.Fatalf("%d readings, want 12", n)
	}
	var remaining, cleared string
	if err := f.db.QueryRow(ctx, `select r.remaining::text, s.remaining::text from readings r
		join meters m on m.id=r.meter_id join meter_state s on s.meter_id=m.id where m.meter_no='M0001'`).Scan(&remaining, &cleared); err != nil {
		t.Fatal(err)
	}
	if remaining != "50.00" || cleared != "50.00" {
		t.Fatalf("M0001 reading %s, state %s; want 50.00", remaining, cleared)
	}
	if err := f.db.QueryRow(ctx, `select r.remaining::text from readings r join meters m on m.id=r.meter_id
		where m.meter_no='M0007'`).Scan(&cleared); err != nil || cleared != "0.00" {
		t.Fatalf("M0007 (gateway 2 unit 3, cleared) reads %q (%v), want 0.00", cleared, err)
	}
	if n := f.count(t, `select count(*) from meter_state`); n != 12 {
		t.Fatalf("%d meter states, want 12", n)
	}

	// The same slot again, as a retried batch would: nothing duplicated,
	// and the ghost's failure is not counted twice.
	// Meters already written are skipped, the one without a reading is tried again.
	if res := f.retry(t, at); res.Read != 0 || res.Skipped != 12 || res.Failed != 1 {
		t.Fatalf("second run of the slot: %+v, want 12 skipped, the ghost failing again", res)
	}
	// A meter whose reading is missing (lost with a dead worker) is read by the retry.
	if _, err := f.db.Exec(ctx, `delete from readings where read_at=$1 and meter_id=(select id from meters where meter_no='M0002')`, at); err != nil {
		t.Fatal(err)
	}
	if res := f.retry(t, at); res.Read != 1 || res.Skipped != 11 {
		t.Fatalf("retry with one reading missing: %+v, want 1 read, 11 skipped", res)
	}
	if n := f.count(t, `select count(*) from readings`); n != 12 {
		t.Fatalf("%d readings after retrying the slot, want 12", n)
	}
	// A first attempt of a slot another run wrote (an operator re-running
	// it) does not ask what is there: it reads every meter again, and the
	// write keeps the readings there, adding none twice.
	if res := f.sweep(t, at); res.Read != 12 || res.Skipped != 0 {
		t.Fatalf("first attempt of a written slot: %+v, want 12 read", res)
	}
	if n := f.count(t, `select count(*) from readings`); n != 12 {
		t.Fatalf("%d readings after re-running the slot, want 12", n)
	}
	if n := f.count(t, `select failures from meter_contact where meter_id=$1`, f.ghostID); n != 1 {
		t.Fatalf("ghost failures %d after re-running the slot, want 1", n)
	}

	// The next slot adds a row per meter, and the month partition exists ahead.
	f.sweep(t, at.Add(30*time.Minute))
	if n := f.count(t, `select count(*) from readings`); n != 24 {
		t.Fatalf("%d readings after two slots, want 24", n)
	}
	if n := f.count(t, `select count(*) from pg_class where relname in ('readings_2026_11','readings_2026_12')`); n != 2 {
		t.Fatalf("%d of the partitions for 2026-11 and 2026-12 exist, want 2", n)
	}
}

func TestMeterLostAfterThreeFailuresAndClearedWhenBack(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	events := func() int {
		return f.count(t, `select count(*) from device_events where kind=$1 and subject=$2 and cleared_at is null`,
			sweepacts.EventMeterLost, f.ghostID)
	}
	for i := range 2 {
		f.sweep(t, at.Add(time.Duration(i)*time.Minute))
	}
	if n := events(); n != 0 {
		t.Fatalf("%d events after 2 failures, want 0", n)
	}
	f.sweep(t, at.Add(2*time.Minute))
	if n := events(); n != 1 {
		t.Fatalf("%d open events after 3 failures, want 1", n)
	}
	f.sweep(t, at.Add(3*time.Minute))
	if n := f.count(t, `select count(*) from device_events where subject=$1`, f.ghostID); n != 1 {
		t.Fatalf("%d events after 4 failures, want still 1", n)
	}
	if n := f.count(t, `select count(*) from meter_contact where lost and failures=4`); n != 1 {
		t.Fatalf("ghost not recorded lost with 4 failures")
	}
	if n := f.count(t, `select count(*) from device_events`); n != 1 {
		t.Fatalf("%d events in all, want only the ghost's", n)
	}

	// The meter answers again (the simulator has a unit 5): the event clears.
	if _, err := f.db.Exec(context.Background(), `update meters set unit_address=5 where id=$1`, f.ghostID); err != nil {
		t.Fatal(err)
	}
	if res := f.sweep(t, at.Add(4*time.Minute)); res.Failed != 0 || res.Read != 13 {
		t.Fatalf("after the ghost answers: %+v", res)
	}
	if n := f.count(t, `select count(*) from device_events where subject=$1 and cleared_at is not null`, f.ghostID); n != 1 {
		t.Fatalf("ghost's event not cleared")
	}
	if n := f.count(t, `select failures from meter_contact where meter_id=$1 and not lost`, f.ghostID); n != 0 {
		t.Fatalf("ghost failures %d, want 0", n)
	}
}

func TestDeadGatewayRaisesAndClearsEvent(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.sweep(t, at) // connections open, as in steady state
	if err := f.fleet.Gateway(1).Stop(); err != nil {
		t.Fatal(err)
	}
	res := f.sweep(t, at.Add(time.Minute))
	if res.GatewaysDown != 1 || res.Read != 8 || res.Failed != 1 {
		t.Fatalf("with gateway 2 stopped: %+v, want 1 down, 8 read, 1 failed (the ghost)", res)
	}
	open := func() int {
		return f.count(t, `select count(*) from device_events where kind=$1 and subject=$2 and cleared_at is null
			and subject_no='GW-02'`, sweepacts.EventGatewayLost, f.gateways[1])
	}
	if n := open(); n != 1 {
		t.Fatalf("%d open gateway events, want 1", n)
	}
	if n := f.count(t, `select count(*) from gateway_contact where not reachable`); n != 1 {
		t.Fatalf("%d unreachable gateways recorded, want 1", n)
	}
	// Its meters are not counted as failing: the gateway event speaks for them.
	if n := f.count(t, `select count(*) from meter_contact c join meters m on m.id=c.meter_id where m.gateway_id=$1`,
		f.gateways[1]); n != 0 {
		t.Fatalf("%d meters of the dead gateway counted as failing", n)
	}
	f.sweep(t, at.Add(2*time.Minute))
	if n := open(); n != 1 {
		t.Fatalf("still down: %d open events, want 1 (no second)", n)
	}

	if err := f.fleet.Gateway(1).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := f.sweep(t, at.Add(3*time.Minute)); res.GatewaysDown != 0 || res.Read != 12 {
		t.Fatalf("gateway back: %+v", res)
	}
	if n := open(); n != 0 {
		t.Fatalf("gateway event still open after it came back")
	}
	if n := f.count(t, `select count(*) from device_events where kind=$1 and cleared_at is not null`, sweepacts.EventGatewayLost); n != 1 {
		t.Fatalf("%d cleared gateway events, want 1", n)
	}
	if n := f.count(t, `select count(*) from gateway_contact where reachable`); n != 3 {
		t.Fatalf("%d reachable gateways, want 3", n)
	}
}

func TestSweepMeterReadsOneMeter(t *testing.T) {
	f := newFixture(t)
	f.acts.Clock = clock.Fixed(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	var id string
	if err := f.db.QueryRow(context.Background(), `select id::text from meters where meter_no='M0006'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	v, err := env.ExecuteActivity(f.acts.SweepMeter, sweepacts.MeterInput{ProjectID: f.projectID, MeterID: id})
	if err != nil {
		t.Fatal(err)
	}
	var r sweepacts.MeterReading
	if err := v.Get(&r); err != nil {
		t.Fatal(err)
	}
	if r.MeterNo != "M0006" || r.Remaining.String() != "50.00" {
		t.Fatalf("reading %+v", r)
	}
	if n := f.count(t, `select count(*) from readings where meter_id=$1`, id); n != 1 {
		t.Fatalf("%d readings of M0006, want 1", n)
	}
	if n := f.count(t, `select count(*) from readings`); n != 1 {
		t.Fatalf("%d readings in all, want 1", n)
	}
	_, err = env.ExecuteActivity(f.acts.SweepMeter, sweepacts.MeterInput{ProjectID: f.projectID, MeterID: f.ghostID})
	if err == nil || !strings.Contains(err.Error(), "GHOST") {
		t.Fatalf("reading the ghost: %v, want an error naming it", err)
	}
}
