// Package chargerbench is `make bench-chargers` (issue 6): N simulated OCPP
// 1.6J charge points (`voltflow sim chargers` in a separate process, 12
// connectors each, heartbeat and MeterValues every 60 s) held by the
// central system on PostgreSQL with its message log, in this process. For
// each N of VOLTFLOW_BENCH_CHARGERS (e.g. "1000,5000,10000") it waits until
// all are online, then times every message the central system handles for
// one measuring window and prints
//
//	chargers n=<N> online=<n> msgs=<m> p50_ms=<> p99_ms=<> max_ms=<> heap_kb_per_cp=<> sim_rss_kb_per_cp=<>
//
// "Handling" is the handler's time from the decoded CALL to its answer
// (PostgreSQL writes included; the socket and the JSON codec not). It runs
// only with VOLTFLOW_BENCH_CHARGERS set and needs VOLTFLOW_BIN_DIR.
package chargerbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/activities/charging"
	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// timed is the central system's handler with every message timed.
type timed struct {
	*charging.Service
	mu   sync.Mutex
	took []time.Duration
	on   bool
}

func (h *timed) record(start time.Time) {
	d := time.Since(start)
	h.mu.Lock()
	if h.on {
		h.took = append(h.took, d)
	}
	h.mu.Unlock()
}

func (h *timed) window(on bool) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.took
	h.took, h.on = nil, on
	return out
}

func (h *timed) Heartbeat(ctx context.Context, id string, req *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	defer h.record(time.Now())
	return h.Service.Heartbeat(ctx, id, req)
}

func (h *timed) MeterValues(ctx context.Context, id string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	defer h.record(time.Now())
	return h.Service.MeterValues(ctx, id, req)
}

func (h *timed) StatusNotification(ctx context.Context, id string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	defer h.record(time.Now())
	return h.Service.StatusNotification(ctx, id, req)
}

func (h *timed) BootNotification(ctx context.Context, id string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	defer h.record(time.Now())
	return h.Service.BootNotification(ctx, id, req)
}

// chargerIDs are `voltflow sim chargers --count n`'s ids: two per load
// station in registry.AddStations' numbering.
func chargerIDs(n int) []string {
	ids := make([]string, 0, n)
	for i := range n {
		ids = append(ids, fmt.Sprintf("44%08d%012d", 1000+i/2, i%2+1))
	}
	return ids
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func rssKB(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return 0
}

func TestChargers(t *testing.T) {
	spec := os.Getenv("VOLTFLOW_BENCH_CHARGERS")
	if spec == "" {
		t.Skip("set VOLTFLOW_BENCH_CHARGERS=1000,5000,... (make bench-chargers)")
	}
	binDir := os.Getenv("VOLTFLOW_BIN_DIR")
	if binDir == "" {
		t.Fatal("VOLTFLOW_BIN_DIR must name the built binaries (make build)")
	}
	interval := 60 * time.Second
	if v := os.Getenv("VOLTFLOW_BENCH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		interval = d
	}
	var sizes []int
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			t.Fatalf("VOLTFLOW_BENCH_CHARGERS: %q", s)
		}
		sizes = append(sizes, n)
	}
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost, o.Operators = []int{1}, 1, bcrypt.MinCost, o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	largest := slices.Max(sizes)
	start := time.Now()
	if _, err := registry.AddStations(ctx, db, (largest+1)/2, 2, registry.DemoConnectorsPerEquipment); err != nil {
		t.Fatal(err)
	}
	for _, id := range chargerIDs(largest) {
		if err := charging.Enroll(ctx, db, id, l.ProjectID, charging.DemoPassword); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("provisioned %d charge points in %s", largest, time.Since(start).Round(time.Second))
	for _, n := range sizes {
		run(t, db, binDir, n, interval)
	}
}

func run(t *testing.T, db *store.DB, binDir string, n int, interval time.Duration) {
	ctx := context.Background()
	port, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := charging.ResetPresence(ctx, db); err != nil {
		t.Fatal(err)
	}
	h := &timed{Service: &charging.Service{DB: db}}
	msgs := charging.NewMessageLog(ctx, db, nil)
	defer msgs.Close()
	heap0 := heapInuse()
	srv, err := ocpp.Listen(ctx, ocpp.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), HeartbeatInterval: interval,
		Grace: interval / 2, Handler: h, Frames: msgs})
	if err != nil {
		t.Fatal(err)
	}
	// The server is left running (the process exit ends it): ocpp-go
	// v0.19.0's dispatcher wedges when thousands of clients disconnect at
	// once (DeleteClient holds its read lock while sending on a 20-slot
	// channel) and Stop then waits for ever on the write lock. Give each N
	// its own process (make bench-chargers does) for clean memory figures.
	_ = srv
	sim := exec.Command(filepath.Join(binDir, "voltflow"), "sim", "chargers", "--count", strconv.Itoa(n),
		"--url", fmt.Sprintf("ws://127.0.0.1:%d/ocpp", port), "--meter-interval", interval.String())
	sim.Stdout, sim.Stderr = os.Stderr, os.Stderr
	sim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-sim.Process.Pid, syscall.SIGTERM)
		_ = sim.Wait()
	}()
	began := time.Now()
	online := 0
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		if err := db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online`).Scan(&online); err != nil {
			t.Fatal(err)
		}
		if online >= n {
			break
		}
	}
	ramp := time.Since(began)
	boot := h.window(true) // nothing recorded yet: start the window
	_ = boot
	// One whole heartbeat/meter period plus a margin, so every charge point
	// sends both at least once within the window.
	time.Sleep(interval + interval/4)
	took := h.window(false)
	var stillOnline int
	if err := db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online`).Scan(&stillOnline); err != nil {
		t.Fatal(err)
	}
	heap := heapInuse()
	rss := rssKB(sim.Process.Pid)
	slices.Sort(took)
	pct := func(p float64) float64 {
		if len(took) == 0 {
			return 0
		}
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	perCP := int64(0)
	if heap > heap0 {
		perCP = int64(heap-heap0) / int64(n) / 1024
	}
	t.Logf("ramp to %d online took %s", online, ramp.Round(time.Second))
	fmt.Printf("chargers n=%d online=%d msgs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f heap_kb_per_cp=%d sim_rss_kb_per_cp=%d\n",
		n, stillOnline, len(took), pct(0.50), pct(0.99), pct(1), perCP, rss/int64(n))
	if stillOnline < n {
		t.Errorf("n=%d: only %d online at the end", n, stillOnline)
	}
}
