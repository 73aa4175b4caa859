package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/regsim"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
)

// pumpFixture is a database with the demo registry, the simulator and the
// activities pushing to it.
func pumpFixture(t *testing.T) (*store.DB, *regsim.Sim, *push.Activities) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: db, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	sim, err := regsim.Start(regsim.Config{Addr: "127.0.0.1:0", Secrets: keys.DevSecrets(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return db, sim, &push.Activities{DB: db, Regulator: push.DefaultRegulator, Client: &regclient.Client{BaseURL: sim.URL(),
		Secrets: func(ctx context.Context) (envelope.Secrets, error) { return ks.Current(ctx, push.DefaultRegulator) }}}
}

// runPump runs a pump until the test ends.
func runPump(t *testing.T, acts *push.Activities, in push.PumpInput) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&push.Pump{Acts: acts, In: in}).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("pump ended with %v", err)
		}
	})
}

// TestPumpOrderOutageAndDrop: changes recorded while the regulator refuses
// connections reach it afterwards, each connector's in the order made, the
// failed rows retried with their attempts counted; an alarm goes out with
// them; a Status 1 answer drops the push after one attempt. A second pump
// for the same regulator is refused while the first runs.
func TestPumpOrderOutageAndDrop(t *testing.T) {
	ctx := context.Background()
	db, sim, acts := pumpFixture(t)
	if err := sim.SetMode(regsim.ModeRefuse, 0); err != nil {
		t.Fatal(err)
	}
	// A long cadence: only the outbox is under test here.
	in := push.PumpInput{Cadence: time.Hour, RetryMaxInterval: 200 * time.Millisecond, Concurrency: 4}
	runPump(t, acts, in)

	conns := []string{"4403000000000000000001001", "4403000000000000000001002", "4403000000000000000002001"}
	type made struct {
		conn   string
		energy float64
	}
	var changes []made
	for i := range 30 {
		c := conns[i%len(conns)]
		e := float64(100 + i)
		if _, err := push.RecordStatusChange(ctx, db, push.DefaultRegulator, registry.ConnectorStatusInfo{ConnectorID: c,
			Status: registry.StatusCharging, ChargeElectricity: registry.KWh(e)}, time.Now()); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, made{c, e})
	}
	if _, err := push.RecordAlarm(ctx, db, push.DefaultRegulator, registry.AlarmInfo{ConnectorID: conns[0],
		AlarmStatus: registry.AlarmRaised, AlarmCode: 18}, time.Now()); err != nil {
		t.Fatal(err)
	}
	attempted := func() (bool, string) {
		var n int
		_ = db.QueryRow(ctx, `select count(*) from regulator_pushes where attempts > 1 and status = 'pending'`).Scan(&n)
		return n > 0, fmt.Sprintf("%d rows retried", n)
	}
	eventually.True(t, time.Minute, "pushes retried during the outage", attempted)

	busy := (&push.Pump{Acts: acts, In: in}).Run(ctx)
	if !errors.Is(busy, push.ErrPumpBusy) {
		t.Fatalf("second pump: %v, want ErrPumpBusy", busy)
	}

	if err := sim.SetMode(regsim.ModeOK, 0); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "every change and the alarm arrive", func() (bool, string) {
		n := len(sim.Received(push.NotificationStationStatus))
		a := len(sim.Received(push.NotificationAlarmInfo))
		return n >= len(changes) && a == 1, fmt.Sprintf("%d of %d changes, %d alarms", n, len(changes), a)
	})
	got := map[string][]float64{}
	for _, r := range sim.Received(push.NotificationStationStatus) {
		var p push.StatusPayload
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Fatal(err)
		}
		got[p.ConnectorStatusInfo.ConnectorID] = append(got[p.ConnectorStatusInfo.ConnectorID], float64(p.ConnectorStatusInfo.ChargeElectricity))
	}
	want := map[string][]float64{}
	for _, c := range changes {
		want[c.conn] = append(want[c.conn], c.energy)
	}
	for _, c := range conns {
		if fmt.Sprint(got[c]) != fmt.Sprint(want[c]) {
			t.Errorf("%s arrived %v, want %v (in order, once each)", c, got[c], want[c])
		}
	}
	var pending, sent, retried int
	if err := db.QueryRow(ctx, `select count(*) filter (where status='pending'), count(*) filter (where status='sent'),
		count(*) filter (where attempts > 1) from regulator_pushes`).Scan(&pending, &sent, &retried); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || sent != len(changes)+1 || retried == 0 {
		t.Fatalf("outbox: %d pending, %d sent of %d, %d retried", pending, sent, len(changes)+1, retried)
	}

	if err := sim.SetMode(regsim.ModeDrop, 0); err != nil {
		t.Fatal(err)
	}
	ch, err := push.RecordStatusChange(ctx, db, push.DefaultRegulator, registry.ConnectorStatusInfo{ConnectorID: conns[0],
		Status: registry.StatusFault}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "dropped push recorded", func() (bool, string) {
		var status string
		var attempts int
		_ = db.QueryRow(ctx, `select status, attempts from regulator_pushes where id=$1`, ch.PushID).Scan(&status, &attempts)
		return status == push.StatusDropped && attempts == 1, fmt.Sprintf("%s after %d attempts", status, attempts)
	})
}

// TestPumpPeriodic: the pump reports every connector of every station at
// the cadence the regulator set through query_frequency (not the hour it
// was started with), and the station info once.
func TestPumpPeriodic(t *testing.T) {
	ctx := context.Background()
	db, sim, acts := pumpFixture(t)
	acts.OperatorID = keys.DevSecrets().OperatorID
	if _, err := db.Exec(ctx, `insert into regulator_settings (operator_id, push_frequency_s, updated_at) values ($1, 5, now())`,
		acts.OperatorID); err != nil {
		t.Fatal(err)
	}
	runPump(t, acts, push.PumpInput{Cadence: time.Hour, RetryMaxInterval: time.Second})
	conns, err := registry.ConnectorIDs(ctx, db, registry.DemoStationID)
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "a periodic report of every connector and the station info", func() (bool, string) {
		n := map[string]int{}
		for _, r := range sim.Received(push.NotificationStationStatus) {
			var p push.StatusPayload
			if json.Unmarshal(r.Data, &p) == nil {
				n[p.ConnectorStatusInfo.ConnectorID]++
			}
		}
		low := 1 << 30
		for _, c := range conns {
			low = min(low, n[c])
		}
		info := len(sim.Received(push.NotificationStationInfo))
		return low >= 1 && info >= 1, fmt.Sprintf("fewest reports of a connector %d, station info %d", low, info)
	})
	if n := len(sim.Received(push.NotificationStationInfo)); n != 1 {
		t.Fatalf("station info pushed %d times, want once", n)
	}
}

// TestBatcherGroupCommit: concurrent callers' changes are recorded together
// with their pushes; each caller's changes of a connector get increasing
// push ids (the pump's order), the connector keeps its newest status, and
// a change of an unknown connector fails alone.
func TestBatcherGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, _, _ := pumpFixture(t)
	b := &push.Batcher{DB: db, Regulator: push.DefaultRegulator, Max: 7}
	conns := []string{"4403000000000000000001001", "4403000000000000000001002", "4403000000000000000002001"}
	const callers, each = 12, 10
	type result struct {
		conn   string
		pushID int64
		err    error
	}
	results := make([][]result, callers)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				c := conns[(g+i)%len(conns)]
				if g == 0 && i == 5 {
					c = "4403999999999999999999999" // unknown
				}
				chs, err := b.RecordAll(ctx, []push.StatusChange{{Info: registry.ConnectorStatusInfo{ConnectorID: c,
					Status: registry.StatusCharging, ChargeElectricity: registry.KWh(g*100 + i)}, At: time.Now()}})
				results[g] = append(results[g], result{c, chs[0].PushID, err})
			}
		})
	}
	wg.Wait()
	ok := 0
	for g, rs := range results {
		last := map[string]int64{}
		for i, r := range rs {
			if g == 0 && i == 5 {
				if r.err == nil {
					t.Errorf("unknown connector recorded")
				}
				continue
			}
			if r.err != nil || r.pushID == 0 {
				t.Fatalf("caller %d change %d: %v", g, i, r.err)
			}
			if r.pushID <= last[r.conn] {
				t.Errorf("caller %d: %s push %d after %d", g, r.conn, r.pushID, last[r.conn])
			}
			last[r.conn] = r.pushID
			ok++
		}
	}
	var pushes, history int
	if err := db.QueryRow(ctx, `select (select count(*) from regulator_pushes where event_key like 'status/%'),
		(select count(*) from connector_status_history)`).Scan(&pushes, &history); err != nil {
		t.Fatal(err)
	}
	if pushes != ok || history != ok {
		t.Fatalf("%d pushes and %d history rows for %d changes", pushes, history, ok)
	}
	// Every connector's status is its newest change's.
	for _, c := range conns {
		var newest, current float64
		if err := db.QueryRow(ctx, `select (payload->'ConnectorStatusInfo'->>'ChargeElectricity')::float8 from regulator_pushes
			where connector_id=$1 order by id desc limit 1`, c).Scan(&newest); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `select charge_electricity::float8 from connector_status where connector_id=$1`, c).Scan(&current); err != nil {
			t.Fatal(err)
		}
		if newest != current {
			t.Errorf("%s: status %v, newest push %v", c, current, newest)
		}
	}
}

// TestBatcherRecordAll: a caller's group of changes goes in together with
// other callers' changes, in the order given even when it is larger than
// Max; a group with an unknown connector records the rest and fails that
// one alone.
func TestBatcherRecordAll(t *testing.T) {
	ctx := context.Background()
	db, _, _ := pumpFixture(t)
	b := &push.Batcher{DB: db, Regulator: push.DefaultRegulator, Max: 4}
	group := func(n, status int, conns ...string) []push.StatusChange {
		var out []push.StatusChange
		for i := range n {
			out = append(out, push.StatusChange{Info: registry.ConnectorStatusInfo{ConnectorID: conns[i%len(conns)],
				Status: status, ChargeElectricity: registry.KWh(i)}, At: time.Now()})
		}
		return out
	}
	a1, a2 := "4403000000000000000001001", "4403000000000000000001002"
	unknown := "4403999999999999999999999"
	var wg sync.WaitGroup
	results := make([][]push.Change, 4)
	errs := make([]error, 4)
	for g := range 4 {
		wg.Go(func() {
			conns := []string{a1, a2}
			if g == 3 {
				conns = []string{a1, unknown}
			}
			results[g], errs[g] = b.RecordAll(ctx, group(7, registry.StatusCharging, conns...))
		})
	}
	wg.Wait()
	for g, chs := range results {
		if len(chs) != 7 {
			t.Fatalf("caller %d: %d changes back", g, len(chs))
		}
		for i, ch := range chs {
			if g == 3 && i%2 == 1 {
				if ch.PushID != 0 {
					t.Errorf("unknown connector recorded: %+v", ch)
				}
				continue
			}
			if ch.PushID == 0 {
				t.Fatalf("caller %d change %d not recorded: %v", g, i, errs[g])
			}
			if i > 0 && chs[i-1].PushID != 0 && ch.PushID <= chs[i-1].PushID {
				t.Errorf("caller %d: change %d push %d after %d", g, i, ch.PushID, chs[i-1].PushID)
			}
		}
		if (errs[g] != nil) != (g == 3) {
			t.Errorf("caller %d: error %v", g, errs[g])
		}
	}
	if !errors.Is(errs[3], registry.ErrUnknown) {
		t.Errorf("unknown connector error = %v", errs[3])
	}
	if chs, err := b.RecordAll(ctx, nil); chs != nil || err != nil {
		t.Errorf("empty group = %v, %v", chs, err)
	}
}

// A stopping worker ends the pump activity without error, so Temporal runs
// it again at once elsewhere instead of logging a failure and backing off.
func TestRunPumpEndsWithItsWorker(t *testing.T) {
	_, _, acts := pumpFixture(t)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	// The pump heartbeats once it holds its lock and listens, and on.
	var beats atomic.Int64
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(acts.RunPump, push.PumpInput{Cadence: 50 * time.Millisecond, RunFor: time.Hour})
		done <- err
	}()
	eventually.True(t, 30*time.Second, "the pump is running", func() (bool, string) {
		return beats.Load() > 0, "no heartbeat yet"
	})
	close(stop)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pump ended with %v, want nil when its worker stops", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the pump did not end when its worker stopped")
	}
}
