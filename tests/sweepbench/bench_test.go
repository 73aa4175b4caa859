// Package sweepbench is `make bench-sweep` (contracts.md): 100,000 simulated
// meters (3,125 gateways × 32, a separate simulator process on ports
// 20000–23124, or the next free run of ports) read into PostgreSQL by a Schedule-triggered sweep on a real
// Temporal server and worker process, next to a bare loop reading the same
// simulators and COPYing the rows. It prints one line:
//
//	sweep meters=100000 seconds=<s> baseline_seconds=<b>
//
// It runs only with VOLTFLOW_BENCH_SWEEP=1: it needs the built binaries
// (VOLTFLOW_BIN_DIR) and about a minute of the whole machine.
package sweepbench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

const perGateway = 32

// gateways is 3,125 (100,000 meters) unless VOLTFLOW_BENCH_GATEWAYS asks for
// fewer: a smaller sweep to compare two versions of the code on a busy
// machine. Set once, read only.
var gateways = benchGateways()

func benchGateways() int {
	if n, err := strconv.Atoi(os.Getenv("VOLTFLOW_BENCH_GATEWAYS")); err == nil && n > 0 {
		return n
	}
	return 3125
}

// threePhaseUnit, when VOLTFLOW_BENCH_THREE_PHASE_UNIT names a unit id,
// makes that meter of every gateway a three-phase one (ref-3phase-v1, in
// the database and on the simulators): the cost of storing electrical
// parameters. 0: every meter single-phase, the contract's sweep.
var threePhaseUnit, _ = strconv.Atoi(os.Getenv("VOLTFLOW_BENCH_THREE_PHASE_UNIT"))

// basePorts are where the simulators may listen: below the ephemeral range,
// above the fixed ports. Test clusters of other packages take random ports
// in the same span, so the first whole free run is used.
var basePorts = []int{20000, 26400, 29600} // none spans 25432 (make run's PostgreSQL)

func TestSweep100k(t *testing.T) {
	if os.Getenv("VOLTFLOW_BENCH_SWEEP") != "1" {
		t.Skip("set VOLTFLOW_BENCH_SWEEP=1 (make bench-sweep)")
	}
	binDir := os.Getenv("VOLTFLOW_BIN_DIR")
	if binDir == "" {
		t.Fatal("VOLTFLOW_BIN_DIR must name the built binaries (make build)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	sims, simPID, stopSim := startSimulators(t, binDir)
	defer stopSim()

	stack, err := harness.Start(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()

	start := time.Now()
	projectID, meterIDs := loadBenchProject(t, ctx, stack, sims)
	t.Logf("loaded %d gateways, %d meters in %v", gateways, gateways*perGateway, time.Since(start).Round(time.Millisecond))
	if n, _ := strconv.Atoi(os.Getenv("VOLTFLOW_BENCH_PRIOR")); n > 0 {
		fillMonth(t, ctx, stack, meterIDs, n)
	}

	// The bare loop runs before and after the sweep and counts as their mean:
	// this 2-core machine's load moves during a run, and both sides should see it.
	cpuBare := cpuByRole(t, ctx, stack, simPID)
	before := bareLoop(t, ctx, stack, sims, "bench_baseline_before", nil, 0)
	logCPU(t, "the bare loop", cpuBare, cpuByRole(t, ctx, stack, simPID))
	t.Logf("bare loop before the sweep: %.2fs", before.Seconds())

	p := sweepwf.Project{ID: projectID, Code: "bench"}
	if err := sweepwf.EnsureSchedule(ctx, stack.Temporal, p, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	statements := statementsReset(t, ctx, stack)
	cpu0 := cpuByRole(t, ctx, stack, simPID)
	stopPerf := perfRecord(t, os.Getenv("VOLTFLOW_BENCH_PERF"))
	first, res := triggerSweep(t, ctx, stack.Temporal, p)
	stopPerf()
	logCPU(t, "the sweep", cpu0, cpuByRole(t, ctx, stack, simPID))
	statements()
	t.Logf("scheduled sweep: %.2fs, %+v", first.Seconds(), res)
	if res.Read != gateways*perGateway || res.Failed != 0 || res.GatewaysDown != 0 {
		t.Fatalf("sweep read %d of %d meters (%d failed, %d gateways down)", res.Read, gateways*perGateway, res.Failed, res.GatewaysDown)
	}
	var rows, states int
	if err := stack.DB.QueryRow(ctx, `select count(*) from readings r join meters m on m.id=r.meter_id
		where m.project_id=$1 and r.read_at=$2`, projectID, res.At).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := stack.DB.QueryRow(ctx, `select count(*) from meter_state s join meters m on m.id=s.meter_id
		where m.project_id=$1 and s.read_at >= $2`, projectID, res.At).Scan(&states); err != nil {
		t.Fatal(err)
	}
	if rows != gateways*perGateway || states != gateways*perGateway {
		t.Fatalf("%d readings and %d states written for the sweep, want %d", rows, states, gateways*perGateway)
	}
	if threePhaseUnit > 0 {
		var params int
		if err := stack.DB.QueryRow(ctx, `select count(*) from reading_parameters where read_at=$1`, res.At).Scan(&params); err != nil {
			t.Fatal(err)
		}
		if params != gateways {
			t.Fatalf("%d three-phase meters' parameters written, want %d", params, gateways)
		}
		t.Logf("electrical parameters of %d three-phase meters (unit %d) written", params, threePhaseUnit)
	}
	// Steady state, what 47 of a day's 48 sweeps are: the worker keeps its
	// gateway connections between sweeps and every meter has a state row.
	// Logged, not in the contract line: that one is the first, cold sweep.
	// The second sweep's slot (its readings' read_at) is a later second.
	eventually.True(t, 2*time.Second, "a slot second after "+res.At.Format(time.TimeOnly), func() (bool, string) {
		now := time.Now()
		return now.Truncate(time.Second).After(res.At), now.Format(time.TimeOnly)
	})
	cpu1 := cpuByRole(t, ctx, stack, simPID)
	second, res2 := triggerSweep(t, ctx, stack.Temporal, p)
	logCPU(t, "the second sweep", cpu1, cpuByRole(t, ctx, stack, simPID))
	if res2.Read != gateways*perGateway {
		t.Fatalf("second sweep read %d of %d meters", res2.Read, gateways*perGateway)
	}
	t.Logf("second sweep (connections open, states there): %.2fs", second.Seconds())
	after := bareLoop(t, ctx, stack, sims, "bench_baseline_after", nil, 0)
	t.Logf("bare loop after the sweep: %.2fs", after.Seconds())
	// Where the gap is storage, not orchestration: the same loop into a
	// table with the readings' unique key (meter, time). Logged only.
	keyed := bareLoop(t, ctx, stack, sims, "bench_baseline_keyed", meterIDs, 0)
	t.Logf("bare loop into a table keyed like readings (meter, time): %.2fs", keyed.Seconds())
	// Common Modbus clients send one request at a time per gateway; ours
	// pipelines. Logged only, next to the reference of about 1.6 s
	// (its loop is not described): the contract's baseline is the
	// pipelined loop.
	single := bareLoop(t, ctx, stack, sims, "bench_baseline_single", nil, 1)
	t.Logf("bare loop with one request in flight per gateway: %.2fs", single.Seconds())
	baseline := (before + after) / 2
	t.Logf("first sweep %.0f%% of the bare loop's speed, second sweep %.0f%%", 100*baseline.Seconds()/first.Seconds(),
		100*baseline.Seconds()/second.Seconds())
	fmt.Printf("sweep meters=%d seconds=%.2f baseline_seconds=%.2f\n", rows, first.Seconds(), baseline.Seconds())
}

// fillMonth stores up to n earlier 30-minute sweeps of every meter in this
// month's readings partition, slot by slot as sweeps would have: the
// sweep then writes into a partition the size it has that far into a
// month, not into an empty one (VOLTFLOW_BENCH_PRIOR=n; the month so far
// bounds n).
func fillMonth(t *testing.T, ctx context.Context, stack *harness.Stack, ids []uuid.UUID, n int) {
	t.Helper()
	start := time.Now()
	now := time.Now().UTC().Truncate(30 * time.Minute)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if fit := int(now.Sub(month) / (30 * time.Minute)); n > fit {
		n = fit
	}
	raw := make([][16]byte, len(ids))
	for i, id := range ids {
		raw[i] = id
	}
	for k := n; k >= 1; k-- {
		at := now.Add(-time.Duration(k) * 30 * time.Minute)
		if _, err := stack.DB.Exec(ctx, `insert into readings (meter_id, read_at, taken_at, energy_kwh, sharp_kwh,
				peak_kwh, flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode,
				status_flags)
			select id, $2::timestamptz, $2::timestamptz, 1000 + $3 * 0.5, 0, 0, 0, 0, 220, 1.5, 0.33, 50, 1, 0, 0, 0
			from unnest($1::uuid[]) id`, raw, at, n-k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stack.DB.Exec(ctx, `vacuum analyze readings`); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `checkpoint`); err != nil {
		t.Fatal(err)
	}
	var size string
	if err := stack.DB.QueryRow(ctx, `select pg_size_pretty(pg_relation_size(i.indexrelid))
		from pg_index i join pg_class c on c.oid = i.indrelid
		where c.relname = 'readings_' || to_char($1::timestamptz at time zone 'UTC', 'YYYY_MM') and i.indisprimary`,
		now).Scan(&size); err != nil {
		t.Fatal(err)
	}
	t.Logf("stored %d earlier sweeps of every meter (%d readings) in %v; the month's key index is %s",
		n, n*len(ids), time.Since(start).Round(time.Second), size)
}

// perfRecord, given a file name, samples every process on the machine with
// perf (call graphs) until the returned func is called: the sweep alone,
// without the set-up around it. Read it with
// `perf report -i FILE --comm postgres --children --sort sym`.
func perfRecord(t *testing.T, file string) func() {
	t.Helper()
	if file == "" {
		return func() {}
	}
	cmd := exec.Command("perf", "record", "-a", "-g", "-F", "1999", "-o", file)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("perf: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // perf's own start-up, before the sweep's
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}
}

// statementsReset, when the server loads pg_stat_statements (make
// bench-sweep VOLTFLOW_PG_OPTS="-c shared_preload_libraries=pg_stat_statements"),
// starts counting afresh; the returned func logs the statements that took
// the most of the server's time since, planning included.
func statementsReset(t *testing.T, ctx context.Context, stack *harness.Stack) func() {
	t.Helper()
	if _, err := stack.DB.Exec(ctx, `create extension if not exists pg_stat_statements`); err != nil {
		return func() {}
	}
	if _, err := stack.DB.Exec(ctx, `select pg_stat_statements_reset()`); err != nil {
		return func() {} // the library is not preloaded
	}
	return func() {
		rows, err := stack.DB.Query(ctx, `select calls, round(total_plan_time)::bigint, round(total_exec_time)::bigint,
				rows, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
			from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
			order by total_plan_time + total_exec_time desc limit 12`)
		if err != nil {
			t.Logf("pg_stat_statements: %v", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var calls, plan, exec, n int64
			var q string
			if err := rows.Scan(&calls, &plan, &exec, &n, &q); err != nil {
				t.Logf("pg_stat_statements: %v", err)
				return
			}
			t.Logf("statement: %5d calls, plan %5d ms, exec %5d ms, %7d rows: %s", calls, plan, exec, n, q)
		}
	}
}

// simAddrs is where the simulated gateways listen: gateway i on host:base+i.
type simAddrs struct {
	host string
	base int
}

func (a simAddrs) addr(i int) string { return net.JoinHostPort(a.host, strconv.Itoa(a.base+i)) }

// simHosts are the loopback addresses tried in turn: other packages' test
// clusters take random ports on 127.0.0.1, and often leave no whole run of
// 3,125 free there, while the rest of 127.0.0.0/8 is loopback too.
var simHosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// startSimulators runs `voltflow sim meters` as its own process: 3,125
// listeners plus 3,125 connections would not fit next to the reader's
// sockets in one process's 20,000 files.
func startSimulators(t *testing.T, binDir string) (simAddrs, int, func()) {
	t.Helper()
	var sims simAddrs
find:
	for _, host := range simHosts {
		for _, b := range basePorts {
			free := true
			for p := b; free && p < b+gateways; p++ {
				free = portFree(host, p)
			}
			if free {
				sims = simAddrs{host, b}
				break find
			}
		}
	}
	if sims.base == 0 {
		t.Fatalf("no run of %d free ports from any of %v on any of %v", gateways, basePorts, simHosts)
	}
	args := []string{"sim", "meters", "--addr", sims.addr(0),
		"--gateways", strconv.Itoa(gateways), "--per-gateway", strconv.Itoa(perGateway), "--load-watts", "0"}
	// More simulator flags for one run, e.g. VOLTFLOW_BENCH_SIM_ARGS="--latency 100ms"
	// for a bus that takes time to answer.
	args = append(args, strings.Fields(os.Getenv("VOLTFLOW_BENCH_SIM_ARGS"))...)
	if threePhaseUnit > 0 {
		args = append(args, "--meter-profile", fmt.Sprintf("%d=%s", threePhaseUnit, profile.RefThreePhaseV1))
	}
	cmd := exec.Command(filepath.Join(binDir, "voltflow"), args...)
	cmd.Env = append(os.Environ(), "VOLTFLOW_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Logf("simulators on %s-%d", sims.addr(0), sims.base+gateways-1)
	listening := false
	defer func() {
		if !listening {
			stop() // the test ends here: do not leave the simulators behind
		}
	}()
	eventually.True(t, 2*time.Minute, "simulators listening", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("simulator process ended: %v", exitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", sims.addr(gateways-1), 200*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	listening = true
	return sims, cmd.Process.Pid, stop
}

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// loadBenchProject creates project "bench" with the 3,125 gateways and
// 100,000 meters, by COPY (the demo loader's row-by-row inserts would take
// longer than the sweep itself).
func loadBenchProject(t *testing.T, ctx context.Context, stack *harness.Stack, sims simAddrs) (string, []uuid.UUID) {
	t.Helper()
	projectID := uuid.NewString()
	tx, err := stack.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `insert into projects(id, organisation_id, code, name)
		select $1, organisation_id, 'bench', 'bench (100,000 meters)' from projects where code='demo'`, projectID); err != nil {
		t.Fatal(err)
	}
	gwIDs := make([]uuid.UUID, gateways)
	meterIDs := make([]uuid.UUID, gateways*perGateway)
	pid := uuid.MustParse(projectID)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"gateways"}, []string{"id", "project_id", "code", "protocol", "address"},
		pgx.CopyFromSlice(gateways, func(i int) ([]any, error) {
			gwIDs[i] = uuid.New()
			return []any{gwIDs[i], pid, fmt.Sprintf("BG-%04d", i+1), "modbus-tcp", sims.addr(i)}, nil
		})); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"id", "project_id", "meter_no", "gateway_id", "unit_address", "profile", "price"},
		pgx.CopyFromSlice(gateways*perGateway, func(i int) ([]any, error) {
			meterIDs[i] = uuid.New()
			prof := profile.RefPrepaidV1
			if i%perGateway+1 == threePhaseUnit {
				prof = profile.RefThreePhaseV1
			}
			return []any{meterIDs[i], pid, fmt.Sprintf("B%06d", i+1), gwIDs[i/perGateway], int32(i%perGateway + 1),
				prof, "1.2000"}, nil
		})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `analyze gateways; analyze meters`); err != nil {
		t.Fatal(err)
	}
	return projectID, meterIDs
}

// bareLoop is the baseline: open every gateway, read every meter, COPY the
// rows into a table — no Temporal, no staging, no state or contact upkeep.
// A row holds every value a reading of the sweep stores, as the registers'
// integers, in a plain table without a key; given the meters' ids (in
// gateway order), rows are keyed by meter and time instead, as readings are.
func bareLoop(t *testing.T, ctx context.Context, stack *harness.Stack, sims simAddrs, table string, meterIDs []uuid.UUID,
	window int) time.Duration {
	t.Helper()
	prof, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	values := `taken_at timestamptz, energy bigint, sharp bigint, peak bigint, flat bigint, valley bigint,
		voltage bigint, current bigint, power bigint, remaining bigint, purchase_count int, relay smallint, mode smallint,
		status int`
	key := []string{"gateway", "unit"}
	ddl := `create table ` + table + ` (gateway int, unit int, ` + values + `)`
	if meterIDs != nil {
		key = []string{"meter_id", "read_at"}
		ddl = `create table ` + table + ` (meter_id uuid, read_at timestamptz, ` + values + `, primary key (meter_id, read_at))`
	}
	if _, err := stack.DB.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rows := make([][]modbus.Snapshot, gateways)
	errs := make([]error, gateways)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				gw, err := modbus.New(modbus.Config{URL: sims.addr(i), Profile: prof, MaxInFlight: window})
				if err != nil {
					errs[i] = err
					continue
				}
				// The same client call the sweep makes: a gateway's meters
				// with requests pipelined on its one connection.
				units := make([]uint8, perGateway)
				for u := range units {
					units[u] = uint8(u + 1)
				}
				for _, r := range gw.ReadMeters(ctx, units) {
					if r.Err != nil {
						errs[i] = r.Err
						break
					}
					rows[i] = append(rows[i], r.Snapshot)
				}
				_ = gw.Close()
			}
		}()
	}
	for i := range gateways {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("baseline gateway %d: %v", i, err)
		}
	}
	now := time.Now()
	g, u := 0, 0
	n, err := stack.DB.CopyFrom(ctx, pgx.Identifier{table},
		[]string{key[0], key[1], "taken_at", "energy", "sharp", "peak", "flat", "valley", "voltage", "current", "power",
			"remaining", "purchase_count", "relay", "mode", "status"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if u == len(rows[g]) {
				g, u = g+1, 0
			}
			if g == len(rows) {
				return nil, nil
			}
			s := rows[g][u]
			u++
			var k0, k1 any = int32(g), int32(s.Unit)
			if meterIDs != nil {
				k0, k1 = [16]byte(meterIDs[g*perGateway+int(s.Unit)-1]), now
			}
			return []any{k0, k1, now, s.Energy, s.EnergySharp, s.EnergyPeak, s.EnergyFlat, s.EnergyValley,
				s.Voltage, s.Current, s.Power, s.Remaining, int32(s.PurchaseCount), int16(s.Relay), int16(s.Mode),
				int32(s.Status)}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(gateways*perGateway) {
		t.Fatalf("baseline copied %d rows", n)
	}
	return time.Since(start)
}

// triggerSweep starts the project's Schedule now and waits for that sweep.
func triggerSweep(t *testing.T, ctx context.Context, tc client.Client, p sweepwf.Project) (time.Duration, sweepwf.Result) {
	t.Helper()
	h := tc.ScheduleClient().GetHandle(ctx, sweepwf.ScheduleID(p.Code))
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range recent(desc) {
		seen[a.WorkflowID] = true
	}
	start := time.Now()
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var id, runID string
	eventually.True(t, time.Minute, "the schedule starts a sweep", func() (bool, string) {
		desc, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range append(desc.Info.RunningWorkflows, recent(desc)...) {
			if !seen[a.WorkflowID] {
				id, runID = a.WorkflowID, a.FirstExecutionRunID
			}
		}
		return id != "", fmt.Sprint(len(desc.Info.RunningWorkflows), " running, none new")
	})
	var res sweepwf.Result
	if err := tc.GetWorkflow(ctx, id, runID).Get(ctx, &res); err != nil {
		t.Fatalf("sweep %s: %v", id, err)
	}
	got := time.Now()
	breakdown(t, ctx, tc, id, runID, start, got, res)
	return got.Sub(start), res
}

// breakdown logs where a sweep's time went, from its history: the Schedule
// starting it, listing the gateways, the batches, and finishing.
func breakdown(t *testing.T, ctx context.Context, tc client.Client, id, runID string, triggered, got time.Time, res sweepwf.Result) {
	var started, listed, firstBatch, lastBatch, completed time.Time
	var batchTimes []time.Duration
	scheduled := map[int64]time.Time{}
	it := tc.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Logf("history of %s: %v", id, err)
			return
		}
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			started = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := e.GetActivityTaskScheduledEventAttributes()
			scheduled[e.GetEventId()] = at
			if a.GetActivityType().GetName() == "SweepBatch" && firstBatch.IsZero() {
				firstBatch = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			a := e.GetActivityTaskCompletedEventAttributes()
			if listed.IsZero() {
				listed = at
				continue
			}
			batchTimes = append(batchTimes, at.Sub(scheduled[a.GetScheduledEventId()]))
			lastBatch = at
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			completed = at
		}
	}
	slices.Sort(batchTimes)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	t.Logf("where the time went: trigger→start %s, list gateways %s, list→first batch %s, batches %s "+
		"(%d batches, each %s…%s, median %s), last batch→completed %s, completed→client %s",
		ms(started.Sub(triggered)), ms(listed.Sub(started)), ms(firstBatch.Sub(listed)), ms(lastBatch.Sub(firstBatch)),
		len(batchTimes), ms(batchTimes[0]), ms(batchTimes[len(batchTimes)-1]), ms(batchTimes[len(batchTimes)/2]),
		ms(completed.Sub(lastBatch)), ms(got.Sub(completed)))
	d := func(v int64) string { return ms(time.Duration(v) * time.Millisecond) }
	t.Logf("inside the batches (summed): %s elapsed, of which %s writing to PostgreSQL (overlapping the reads: "+
		"readings COPY %s, state upsert %s, contact and events the rest) and %s in the alarm and billing hooks",
		d(res.ElapsedMs), d(res.WriteMs), d(res.ReadingsMs), d(res.StateMs), d(res.HooksMs))
}

func recent(d *client.ScheduleDescription) []client.ScheduleWorkflowExecution {
	var out []client.ScheduleWorkflowExecution
	for _, a := range d.Info.RecentActions {
		if a.StartWorkflowResult != nil {
			out = append(out, *a.StartWorkflowResult)
		}
	}
	return out
}

// cpuByRole is the CPU time (user + system) each part of the bench has used
// so far: PostgreSQL's processes, the simulator process, the worker and
// Temporal server processes this test started, and this process (the bare
// loop's reader, the Temporal client). Wall time on a shared 2-core machine
// says little; CPU per part says where a sweep's time goes.
func cpuByRole(t *testing.T, ctx context.Context, stack *harness.Stack, simPID int) map[string]time.Duration {
	t.Helper()
	var dataDir string
	if err := stack.DB.QueryRow(ctx, `show data_directory`).Scan(&dataDir); err != nil {
		t.Fatal(err)
	}
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	master, _ := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	// Temporal's persistence shares the PostgreSQL server: tell its backends apart.
	temporalPG := map[int]bool{}
	rows, err := stack.DB.Query(ctx, `select pid from pg_stat_activity where datname like 'temporal%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		temporalPG[pid] = true
	}
	rows.Close()
	self := os.Getpid()
	out := map[string]time.Duration{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, close := strings.IndexByte(string(st), '('), strings.LastIndexByte(string(st), ')')
		if open < 0 || close < 0 {
			continue
		}
		comm := string(st[open+1 : close])
		f := strings.Fields(string(st[close+2:]))
		if len(f) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat"))
		ppid, _ := strconv.Atoi(f[1])
		var role string
		switch {
		case ppid == master && temporalPG[pid]:
			role = "postgres for temporal"
		case pid == master || ppid == master:
			role = "postgres"
		case pid == simPID:
			role = "simulator"
		case pid == self:
			role = "bench process"
		case ppid == self && comm == "voltflow":
			role = "worker"
		case ppid == self && strings.HasPrefix(comm, "voltflow-tem"):
			role = "temporal"
		default:
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		out[role] += time.Duration(u+s) * 10 * time.Millisecond // USER_HZ = 100
	}
	return out
}

func logCPU(t *testing.T, what string, before, after map[string]time.Duration) {
	t.Helper()
	var parts []string
	var total time.Duration
	for _, role := range []string{"postgres", "postgres for temporal", "worker", "simulator", "temporal", "bench process"} {
		d := after[role] - before[role]
		total += d
		parts = append(parts, fmt.Sprintf("%s %.2fs", role, d.Seconds()))
	}
	t.Logf("CPU during %s: %.2fs (%s)", what, total.Seconds(), strings.Join(parts, ", "))
}
