// Package interactivebench is `make bench-interactive` (issue 20 section
// 11): while 100,000 simulated meters are swept back to back, 50 single
// switch commands, each to a meter of its own, are timed from the API call
// to the simulated meter taking the write; then the same with a
// 10,000-meter batch command running. It prints two lines:
//
//	interactive case=<sweep|sweep+batch> meters=100000 commands=50 p50_ms=<> p99_ms=<> max_ms=<>
//
// and, per case, where the commands' time went (from their workflow
// histories). It runs only with VOLTFLOW_BENCH_INTERACTIVE=1: it needs the
// built binaries (VOLTFLOW_BIN_DIR) and a few minutes of the whole machine.
//
// The meters are 3,075 gateways × 32 in a separate simulator process (as in
// tests/sweepbench) plus 50 gateways × 32 simulated in this process, whose
// writes are timestamped (simulator.Gateway.OnWrite): each command goes to
// a meter of one of those 50, which the sweeps read like every other.
package interactivebench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

const (
	gateways    = 3125 // 100,000 meters
	perGateway  = 32
	local       = 50 // gateways simulated in this process, whose writes are timed
	commands    = 50
	batchMeters = 10_000
)

var basePorts = []int{20000, 26400, 29600}

var simHosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

func TestInteractive100k(t *testing.T) {
	if os.Getenv("VOLTFLOW_BENCH_INTERACTIVE") != "1" {
		t.Skip("set VOLTFLOW_BENCH_INTERACTIVE=1 (make bench-interactive)")
	}
	binDir := os.Getenv("VOLTFLOW_BIN_DIR")
	if binDir == "" {
		t.Fatal("VOLTFLOW_BIN_DIR must name the built binaries (make build)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	remote := gateways - local
	sims, stopSim := startSimulators(t, binDir, remote)
	defer stopSim()
	timed := newTimedGateways(t, local)
	defer timed.stop()

	stack, err := harness.Start(ctx, harness.Options{DispatchWindow: 2 * time.Minute, UpdateTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	addrs := make([]string, gateways)
	for i := range remote {
		addrs[i] = sims.addr(i)
	}
	for i, g := range timed.gws {
		addrs[remote+i] = g.Addr()
	}
	projectID := loadProject(t, ctx, stack, addrs)
	admin := stack.Login(t, "admin", "admin")

	sweeps := startSweeps(t, ctx, stack, projectID)
	defer sweeps.stop()
	// The first sweep opens every gateway's connection and writes every
	// meter's first state; the commands come during the later ones.
	sweeps.waitFor(t, 1)
	sweeps.waitRunning(t)

	// Case 1: sweeps only. Commands go to units 1..25 of the timed gateways.
	r1 := sendCommands(t, admin, timed, 0, "switch_off")
	r1.report(t, "sweep")

	// Case 2: sweeps and a 10,000-meter batch. The batch switches on meters
	// of the simulator process (they are on already: the write is what
	// counts); the commands go to units 26..32 and back to the first.
	nos := make([]string, batchMeters)
	for i := range nos {
		nos[i] = meterNo(i)
	}
	var b struct {
		ID string `json:"id"`
	}
	if code := admin.Do(t, "POST", "/api/v1/meter-batches", map[string]any{"command": "switch_on", "meterNos": nos}, &b); code != http.StatusAccepted {
		t.Fatalf("batch: status %d", code)
	}
	batchDone := func() (int, string) {
		var p struct {
			Status string `json:"status"`
			Done   int    `json:"done"`
			Failed int    `json:"failed"`
		}
		admin.Do(t, "GET", "/api/v1/meter-batches/"+b.ID+"?limit=1", nil, &p)
		return p.Done + p.Failed, p.Status
	}
	eventually.True(t, 2*time.Minute, "the batch under way", func() (bool, string) {
		n, s := batchDone()
		return n >= 100, fmt.Sprintf("%d done, %s", n, s)
	})
	sweeps.waitRunning(t)
	before, _ := batchDone()
	r2 := sendCommands(t, admin, timed, 1, "switch_on")
	after, status := batchDone()
	t.Logf("the batch meanwhile: %d → %d of %d meters done (%s); %d sweeps completed so far", before, after, batchMeters,
		status, sweeps.completed())
	if status != "running" {
		t.Logf("warning: the batch was not running to the end of the commands (%s)", status)
	}
	r2.report(t, "sweep+batch")
}

// meterNo is meter i of the bench project (0-based, gateway i/32).
func meterNo(i int) string { return fmt.Sprintf("B%06d", i+1) }

// timedGateways are simulated in this process; OnWrite timestamps what
// their meters take.
type timedGateways struct {
	gws []*simulator.Gateway
	mu  sync.Mutex
	at  map[string]time.Time // meter number → last write
}

func newTimedGateways(t *testing.T, n int) *timedGateways {
	t.Helper()
	prof, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	tg := &timedGateways{at: map[string]time.Time{}}
	for i := range n {
		meters := make([]*simulator.Meter, perGateway)
		for u := range meters {
			meters[u] = simulator.NewMeter(simulator.MeterConfig{Remaining: 5000, UnitPrice: 12000, Alarm1: 2000, Alarm2: 1000})
		}
		g := simulator.NewGateway("127.0.0.1:0", prof, meters)
		first := (gateways - n + i) * perGateway
		g.OnWrite(func(unit uint8, at time.Time) {
			tg.mu.Lock()
			tg.at[meterNo(first+int(unit)-1)] = at
			tg.mu.Unlock()
		})
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		tg.gws = append(tg.gws, g)
	}
	return tg
}

func (tg *timedGateways) stop() {
	for _, g := range tg.gws {
		_ = g.Stop()
	}
}

func (tg *timedGateways) written(meterNo string) (time.Time, bool) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	at, ok := tg.at[meterNo]
	return at, ok
}

// commandTimes are one case's commands.
type commandTimes struct {
	sent, atMeter []time.Time
	ids           []string
}

// sendCommands sends one command to a meter on each timed gateway, 100 ms
// apart (an operator desk's pace, not a burst), and waits for every meter
// to take its write. round picks which meter of each gateway.
func sendCommands(t *testing.T, admin *harness.Client, tg *timedGateways, round int, cmd string) commandTimes {
	t.Helper()
	var out commandTimes
	var meters []string
	for k := range commands {
		unit := (k+round*25)%perGateway + 1
		m := meterNo((gateways-local+k)*perGateway + unit - 1)
		meters = append(meters, m)
		var a struct {
			ID string `json:"id"`
		}
		sent := time.Now()
		if code := admin.Do(t, "POST", "/api/v1/meters/"+m+"/commands", map[string]string{"command": cmd}, &a); code != http.StatusAccepted {
			t.Fatalf("%s %s: status %d", cmd, m, code)
		}
		out.sent = append(out.sent, sent)
		out.ids = append(out.ids, a.ID)
		time.Sleep(100 * time.Millisecond)
	}
	out.atMeter = make([]time.Time, len(meters))
	eventually.True(t, 3*time.Minute, "every commanded meter took its write", func() (bool, string) {
		missing := 0
		for i, m := range meters {
			if at, ok := tg.written(m); ok && at.After(out.sent[i]) {
				out.atMeter[i] = at
			} else {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d not yet", missing, len(meters))
	})
	return out
}

// report prints the case's line and where its commands' time went.
func (c commandTimes) report(t *testing.T, name string) {
	t.Helper()
	lat := make([]time.Duration, len(c.sent))
	var phases [4][]time.Duration
	for i := range c.sent {
		lat[i] = c.atMeter[i].Sub(c.sent[i])
		p := historyPhases(t, "meter-command/"+c.ids[i], c.sent[i], c.atMeter[i])
		for k := range phases {
			phases[k] = append(phases[k], p[k])
		}
	}
	q := func(d []time.Duration, p float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	for k, what := range []string{"API call → workflow started", "workflow started → SendMeterCommand scheduled",
		"scheduled → activity started (device queue)", "activity started → meter took the write"} {
		t.Logf("%s: %s p50 %s ms, p99 %s ms", name, what, ms(q(phases[k], 0.5)), ms(q(phases[k], 0.99)))
	}
	fmt.Printf("interactive case=%s meters=%d commands=%d p50_ms=%s p99_ms=%s max_ms=%s\n", name, gateways*perGateway,
		len(lat), ms(q(lat, 0.5)), ms(q(lat, 0.99)), ms(slices.Max(lat)))
}

// historyPhases splits a command's time at its workflow's start, the
// scheduling of its device activity and that activity's start.
func historyPhases(t *testing.T, id string, sent, atMeter time.Time) [4]time.Duration {
	t.Helper()
	var started, scheduled, actStarted time.Time
	var sendID int64
	it := harnessClient.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Logf("history of %s: %v", id, err)
			return [4]time.Duration{}
		}
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			started = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "SendMeterCommand" && sendID == 0 {
				sendID, scheduled = e.GetEventId(), at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if e.GetActivityTaskStartedEventAttributes().GetScheduledEventId() == sendID && actStarted.IsZero() {
				actStarted = at
			}
		}
	}
	if actStarted.IsZero() { // still running: the started event comes with the completion
		actStarted = scheduled
	}
	return [4]time.Duration{started.Sub(sent), scheduled.Sub(started), actStarted.Sub(scheduled), atMeter.Sub(actStarted)}
}

// harnessClient is the stack's Temporal client, for historyPhases.
var harnessClient client.Client

// sweeper starts sweeps of the project one after the other.
type sweeper struct {
	stopCh  chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	n       int
	running bool
}

func startSweeps(t *testing.T, ctx context.Context, stack *harness.Stack, projectID string) *sweeper {
	t.Helper()
	harnessClient = stack.Temporal
	s := &sweeper{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		var last time.Time
		for i := 0; ; i++ {
			select {
			case <-s.stopCh:
				return
			default:
			}
			// Each sweep its own slot second, as scheduled sweeps have.
			at := time.Now().UTC().Truncate(time.Second)
			if !at.After(last) {
				at = last.Add(time.Second)
			}
			last = at
			start := time.Now()
			run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("sweep/bench/%s", at.Format(time.RFC3339)), TaskQueue: names.MainQueue,
				TypedSearchAttributes: names.Attributes("bench", sweepwf.Kind, "bench", "reading")},
				sweepwf.Kind, sweepwf.Input{ProjectID: projectID, ProjectCode: "bench", At: at})
			if err != nil {
				t.Logf("start sweep: %v", err)
				return
			}
			s.mu.Lock()
			s.running = true
			s.mu.Unlock()
			var res sweepwf.Result
			err = run.Get(ctx, &res)
			s.mu.Lock()
			s.running = false
			s.n++
			s.mu.Unlock()
			if err != nil {
				t.Logf("sweep %d: %v", i, err)
				return
			}
			t.Logf("sweep %d: %.1fs, read %d, failed %d, gateways down %d", i, time.Since(start).Seconds(), res.Read,
				res.Failed, res.GatewaysDown)
		}
	}()
	return s
}

func (s *sweeper) completed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *sweeper) waitFor(t *testing.T, n int) {
	t.Helper()
	eventually.True(t, 5*time.Minute, fmt.Sprintf("%d sweeps completed", n), func() (bool, string) {
		return s.completed() >= n, fmt.Sprint(s.completed())
	})
}

// waitRunning waits until a sweep is under way (the next one starts right
// after the last ends).
func (s *sweeper) waitRunning(t *testing.T) {
	t.Helper()
	eventually.True(t, time.Minute, "a sweep running", func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.running, "between sweeps"
	})
}

func (s *sweeper) stop() {
	close(s.stopCh)
	<-s.done
}

// simAddrs is where the simulated gateways listen: gateway i on host:base+i.
type simAddrs struct {
	host string
	base int
}

func (a simAddrs) addr(i int) string { return net.JoinHostPort(a.host, strconv.Itoa(a.base+i)) }

// startSimulators runs `voltflow sim meters` with n gateways as its own
// process, on the first free run of ports (as tests/sweepbench does).
func startSimulators(t *testing.T, binDir string, n int) (simAddrs, func()) {
	t.Helper()
	var sims simAddrs
find:
	for _, host := range simHosts {
		for _, b := range basePorts {
			free := true
			for p := b; free && p < b+n; p++ {
				free = portFree(host, p)
			}
			if free {
				sims = simAddrs{host, b}
				break find
			}
		}
	}
	if sims.base == 0 {
		t.Fatalf("no run of %d free ports from any of %v on any of %v", n, basePorts, simHosts)
	}
	cmd := exec.Command(filepath.Join(binDir, "voltflow"), "sim", "meters", "--addr", sims.addr(0),
		"--gateways", strconv.Itoa(n), "--per-gateway", strconv.Itoa(perGateway), "--load-watts", "0")
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
	listening := false
	defer func() {
		if !listening {
			stop()
		}
	}()
	eventually.True(t, 2*time.Minute, "simulators listening", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("simulator process ended: %v", exitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", sims.addr(n-1), 200*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	listening = true
	return sims, stop
}

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// loadProject creates project "bench" with a gateway at each address and
// 32 meters behind each, by COPY, and makes the demo admin its admin.
func loadProject(t *testing.T, ctx context.Context, stack *harness.Stack, addrs []string) string {
	t.Helper()
	projectID := uuid.New()
	tx, err := stack.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `insert into projects(id, organisation_id, code, name)
		select $1, organisation_id, 'bench', 'bench (100,000 meters)' from projects where code='demo'`, projectID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `insert into operator_roles(operator_id, project_id, role)
		select id, $1, 'admin' from operators where username='admin'`, projectID); err != nil {
		t.Fatal(err)
	}
	gwIDs := make([]uuid.UUID, len(addrs))
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"gateways"}, []string{"id", "project_id", "code", "protocol", "address"},
		pgx.CopyFromSlice(len(addrs), func(i int) ([]any, error) {
			gwIDs[i] = uuid.New()
			return []any{gwIDs[i], projectID, fmt.Sprintf("BG-%04d", i+1), "modbus-tcp", addrs[i]}, nil
		})); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"id", "project_id", "meter_no", "gateway_id", "unit_address", "profile", "price"},
		pgx.CopyFromSlice(len(addrs)*perGateway, func(i int) ([]any, error) {
			return []any{uuid.New(), projectID, meterNo(i), gwIDs[i/perGateway], int32(i%perGateway + 1),
				profile.RefPrepaidV1, "1.2000"}, nil
		})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `analyze gateways; analyze meters`); err != nil {
		t.Fatal(err)
	}
	return projectID.String()
}
