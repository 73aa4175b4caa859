// Package regulator tests the regulator exchange end to end: real
// PostgreSQL, the embedded Temporal server, the regulator-push workflows on
// an in-process interconnect worker, and the regulator simulator on a real
// socket that goes down while connector statuses change.
package regulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/regsim"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "regulator", harness.Options{Gateways: 1, MetersPerGW: 1}, &stack)
}

// env is the regulator side of the stack: the simulator, an interconnect
// worker pushing to it, and a starter.
type env struct {
	sim     *regsim.Sim
	starter *push.Starter
}

func setup(t *testing.T, in push.Input) *env { t.Helper(); return setupWith(t, in, "") }

// setupWith also points the simulator at the platform's served interfaces
// (platformURL), so it backfills after an outage.
func setupWith(t *testing.T, in push.Input, platformURL string) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := registry.LoadDemo(ctx, stack.DB); err != nil {
		t.Fatal(err)
	}
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ks := &keys.Store{DB: stack.DB, Key: mk}
	if err := ks.EnsureDev(ctx, push.DefaultRegulator); err != nil {
		t.Fatal(err)
	}
	sim, err := regsim.Start(regsim.Config{Addr: "127.0.0.1:0", Secrets: keys.DevSecrets(), Log: log, PlatformURL: platformURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client := &regclient.Client{BaseURL: sim.URL(), Secrets: func(ctx context.Context) (envelope.Secrets, error) {
		return ks.Current(ctx, push.DefaultRegulator)
	}}
	w := worker.New(stack.Temporal, names.InterconnectQueue, worker.Options{MaxConcurrentActivityTaskPollers: 8, MaxConcurrentWorkflowTaskPollers: 8})
	workflows.RegisterInterconnect(w, &push.Activities{DB: stack.DB, Client: client, Regulator: push.DefaultRegulator})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &env{sim: sim, starter: &push.Starter{Temporal: stack.Temporal, Project: "demo", Input: in}}
}

// change is one status change the test made, keyed by its unique energy.
type change struct {
	connector string
	status    int
	energy    float64
	at        time.Time
}

// received maps each change energy seen in a notification_stationStatus
// push to its first arrival, and lists per connector the energies in
// arrival order.
func received(sim *regsim.Sim) (map[float64]time.Time, map[string][]float64) {
	first := map[float64]time.Time{}
	order := map[string][]float64{}
	for _, r := range sim.Received(push.NotificationStationStatus) {
		var p push.StatusPayload
		if err := json.Unmarshal(r.Data, &p); err != nil {
			continue
		}
		e := float64(p.ConnectorStatusInfo.ChargeElectricity)
		if _, ok := first[e]; !ok {
			first[e] = r.At
		}
		order[p.ConnectorStatusInfo.ConnectorID] = append(order[p.ConnectorStatusInfo.ConnectorID], e)
	}
	return first, order
}

func connectors() []string {
	var ids []string
	for _, eq := range registry.DemoEquipmentIDs {
		for k := 1; k <= registry.DemoConnectorsPerEquipment; k++ {
			ids = append(ids, fmt.Sprintf("%s%03d", eq, k))
		}
	}
	return ids
}

// TestOutageLosesNothing changes statuses while the regulator refuses
// connections, then answers Ret -1, then HTTP 500; afterwards the simulator
// holds every change, each connector's changes arrived in order, and the
// workflow continued as new on the way (small MaxHistory) without losing
// its queue.
func TestOutageLosesNothing(t *testing.T) {
	e := setup(t, push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second, MaxHistory: 300})
	ctx := context.Background()
	// An earlier test may have started the station's workflow with a large
	// MaxHistory (a running workflow keeps its input): start it afresh.
	_ = stack.Temporal.TerminateWorkflow(ctx, push.WorkflowID(registry.DemoStationID), "", "test needs a small MaxHistory")
	// And leave none behind that continues as new every few hundred events.
	t.Cleanup(func() {
		_ = stack.Temporal.TerminateWorkflow(ctx, push.WorkflowID(registry.DemoStationID), "", "test used a small MaxHistory")
	})
	// Other tests of the package share the database: count only this test's rows.
	var baseline int64
	if err := stack.DB.QueryRow(ctx, `select coalesce(max(id), 0) from regulator_pushes`).Scan(&baseline); err != nil {
		t.Fatal(err)
	}
	ids := connectors()
	var changes []change
	n := 0
	step := func() {
		c := ids[n%len(ids)]
		status := []int{registry.StatusOccupied, registry.StatusCharging, registry.StatusChargeDone, registry.StatusIdle}[(n/len(ids))%4]
		// Unique energy per change identifies it at the regulator.
		energy := 1000 + float64(n)
		at := time.Now()
		if _, err := e.starter.ChangeStatus(ctx, stack.DB, push.DefaultRegulator, registry.ConnectorStatusInfo{
			ConnectorID: c, Status: status, ChargeElectricity: registry.KWh(energy)}, at); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, change{c, status, energy, at})
		n++
	}
	// Healthy first, so the workflow and its token exist.
	for range 24 {
		step()
	}
	harness.Eventually(t, 30*time.Second, "first pushes arrive", func() (bool, string) {
		first, _ := received(e.sim)
		return len(first) >= 24, fmt.Sprintf("%d of 24", len(first))
	})
	runBefore, err := stack.Temporal.DescribeWorkflowExecution(ctx, push.WorkflowID(registry.DemoStationID), "")
	if err != nil {
		t.Fatal(err)
	}

	// The outage: refused connections, then Ret -1, then HTTP 500 (≈ 9 s
	// standing in for the "10 minutes"; retry backoff capped at 1 s).
	outage := []regsim.Mode{regsim.ModeRefuse, regsim.ModeBusy, regsim.ModeError}
	outageStart := time.Now()
	for _, m := range outage {
		if err := e.sim.SetMode(m, 0); err != nil {
			t.Fatal(err)
		}
		for range 30 {
			step()
			time.Sleep(100 * time.Millisecond)
		}
	}
	before := len(e.sim.Received(push.NotificationStationStatus))
	if err := e.sim.SetMode(regsim.ModeOK, 0); err != nil {
		t.Fatal(err)
	}
	outageEnd := time.Now()
	t.Logf("outage %s, %d changes during it; %d pushes had arrived before it ended", outageEnd.Sub(outageStart).Round(time.Millisecond), 90, before)
	if e.sim.Rejected(envelope.RetBusy) == 0 || e.sim.Rejected(envelope.RetSystem) == 0 {
		t.Fatalf("simulator answered -1 %d times and 500 %d times; the outage did not bite",
			e.sim.Rejected(envelope.RetBusy), e.sim.Rejected(envelope.RetSystem))
	}
	for range 24 {
		step()
	}

	harness.Eventually(t, 90*time.Second, "every change reaches the regulator", func() (bool, string) {
		first, _ := received(e.sim)
		missing := 0
		for _, c := range changes {
			if _, ok := first[c.energy]; !ok {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d changes missing", missing, len(changes))
	})

	// Per connector the change pushes arrived in the order made (periodic
	// snapshots may repeat a value, so compare first arrivals).
	first, _ := received(e.sim)
	byConn := map[string][]change{}
	for _, c := range changes {
		byConn[c.connector] = append(byConn[c.connector], c)
	}
	for conn, cs := range byConn {
		for i := 1; i < len(cs); i++ {
			if first[cs[i].energy].Before(first[cs[i-1].energy]) {
				t.Errorf("%s: change %v arrived before the earlier %v", conn, cs[i].energy, cs[i-1].energy)
			}
		}
	}

	// The outbox agrees: every change row sent, some after several attempts.
	var pending, sent, retried int
	if err := stack.DB.QueryRow(ctx, `select count(*) filter (where status='pending'), count(*) filter (where status='sent'),
		count(*) filter (where attempts > 1) from regulator_pushes where event_key like 'status/%' and id > $1`, baseline).Scan(&pending, &sent, &retried); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || sent != len(changes) || retried == 0 {
		t.Fatalf("outbox: %d pending, %d sent of %d, %d retried", pending, sent, len(changes), retried)
	}

	runAfter, err := stack.Temporal.DescribeWorkflowExecution(ctx, push.WorkflowID(registry.DemoStationID), "")
	if err != nil {
		t.Fatal(err)
	}
	if runAfter.GetWorkflowExecutionInfo().GetExecution().GetRunId() == runBefore.GetWorkflowExecutionInfo().GetExecution().GetRunId() {
		t.Fatalf("workflow never continued as new (history %d events)", runAfter.GetWorkflowExecutionInfo().GetHistoryLength())
	}

	// Status 1 means drop: the push is not retried.
	if err := e.sim.SetMode(regsim.ModeDrop, 0); err != nil {
		t.Fatal(err)
	}
	ch, err := e.starter.ChangeStatus(ctx, stack.DB, push.DefaultRegulator, registry.ConnectorStatusInfo{
		ConnectorID: ids[0], Status: registry.StatusFault, ChargeElectricity: 99999}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 20*time.Second, "dropped push recorded", func() (bool, string) {
		var status string
		var attempts int
		_ = stack.DB.QueryRow(ctx, `select status, attempts from regulator_pushes where id=$1`, ch.PushID).Scan(&status, &attempts)
		return status == push.StatusDropped && attempts == 1, fmt.Sprintf("%s after %d attempts", status, attempts)
	})
	_ = e.sim.SetMode(regsim.ModeOK, 0)
}

// TestPushLatency measures status change → simulator receipt at a small
// scale: 10 stations × 24 connectors, 5 s cadence, every connector changing
// twice.
func TestPushLatency(t *testing.T) {
	measureLatency(t, 10, 2, 8, 100*time.Millisecond)
}

// EnvBenchConnectors sizes TestPushLatencyAtScale (make bench-regulator).
const EnvBenchConnectors = "VOLTFLOW_REGULATOR_BENCH_CONNECTORS"

// TestPushLatencyAtScale is the latency run: N connectors (24 per
// station) on a 5 s cadence, each changing once per cadence for three
// cadences, so N/5 changes a second on top of the N/5 periodic pushes.
func TestPushLatencyAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(EnvBenchConnectors))
	if n <= 0 {
		t.Skip("set " + EnvBenchConnectors + " (make bench-regulator)")
	}
	measureLatency(t, (n+23)/24, 3, 16, 0)
}

// measureLatency runs stations × 24 connectors, each changing rounds
// times, from writers concurrent writers each waiting pace after a change
// (0: paced so every connector changes once per 5 s cadence), and reports
// p50/p99.
func measureLatency(t *testing.T, stations, rounds, writers int, pace time.Duration) {
	e := setup(t, push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second})
	ctx := context.Background()
	extra, err := registry.AddStations(ctx, stack.DB, stations-1, 2, 12)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range append([]string{registry.DemoStationID}, extra...) {
		cs, err := registry.ConnectorIDs(ctx, stack.DB, st)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cs...)
	}
	// Start every station's workflow first, as a running platform has them.
	if err := e.starter.EnsureRunning(ctx, stack.DB); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var changes []change
	notifyFailed := 0
	paced := pace == 0
	if paced {
		pace = 5 * time.Second * time.Duration(writers) / time.Duration(len(ids))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for wkr := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now()
			for i := wkr; i < len(ids)*rounds; i += writers {
				c := ids[i%len(ids)]
				energy := 500000 + float64(i)
				at := time.Now()
				ch, err := e.starter.ChangeStatus(ctx, stack.DB, push.DefaultRegulator, registry.ConnectorStatusInfo{
					ConnectorID: c, Status: registry.StatusCharging, ChargeElectricity: registry.KWh(energy)}, at)
				if err != nil && ch.PushID == 0 {
					t.Error(err)
					return
				}
				mu.Lock()
				if err != nil {
					// Recorded, but the signal failed (an overloaded server):
					// the workflow's orphan sweep sends it later.
					notifyFailed++
				}
				changes = append(changes, change{c, registry.StatusCharging, energy, at})
				mu.Unlock()
				if paced {
					next = next.Add(pace)
					time.Sleep(time.Until(next))
				} else {
					time.Sleep(pace)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	harness.Eventually(t, time.Duration(max(120, len(ids)/10))*time.Second, "every change arrives", func() (bool, string) {
		first, _ := received(e.sim)
		missing := 0
		for _, c := range changes {
			if _, ok := first[c.energy]; !ok {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d missing", missing, len(changes))
	})
	first, _ := received(e.sim)
	lat := make([]time.Duration, 0, len(changes))
	for _, c := range changes {
		lat = append(lat, first[c.energy].Sub(c.at))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	periodic := len(e.sim.Received(push.NotificationStationStatus)) - len(changes)
	line := fmt.Sprintf("regulator push latency connectors=%d changes=%d over=%s p50=%s p99=%s max=%s periodic_pushes=%d signal_failures=%d",
		len(ids), len(changes), elapsed.Round(time.Millisecond),
		pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), periodic, notifyFailed)
	t.Log(line)
	fmt.Println(line)
	// Latency is a measurement (make bench-regulator), not a pass mark: on
	// a loaded machine it says more about the machine than the code. What
	// must hold is above: every change arrives.
	if os.Getenv(EnvBenchConnectors) != "" && pct(0.99) > 5*time.Second {
		t.Logf("p99 %s is beyond one cadence", pct(0.99))
	}
	if !slices.IsSortedFunc(lat, func(a, b time.Duration) int { return int(a - b) }) || lat[0] < 0 {
		t.Fatalf("negative latency %s: clocks disagree", lat[0])
	}
}
