// Package chargerbench is `make bench-chargers` (issue 6): N simulated OCPP
// 1.6J charge points (`voltflow sim chargers` in a separate process, 12
// connectors each, heartbeat and MeterValues every 60 s) held by the
// central system on PostgreSQL with its message log, in this process. For
// each N of VOLTFLOW_BENCH_CHARGERS (e.g. "1000,5000,10000") it waits until
// all are online, then times every message the central system handles for
// one measuring window and prints
//
//	chargers n=<N> online=<n> msgs=<m> p50_ms=<> p99_ms=<> max_ms=<> heap_kb_per_cp=<> sim_rss_kb_per_cp=<> rss_kb_per_cp=<> ramp_s=<>
//
// "Handling" is the handler's time from the decoded CALL to its answer
// (PostgreSQL writes included; the socket and the JSON codec not).
// heap_kb_per_cp and rss_kb_per_cp are the central system's (this
// process's) live heap and resident set growth from before Listen to the
// end of the window, per charge point; sim_rss_kb_per_cp is the
// simulator's. Then the simulator is killed — N charge points drop at
// once — and the central system must mark them all offline and Close.
// It runs only with VOLTFLOW_BENCH_CHARGERS set and needs
// VOLTFLOW_BIN_DIR; VOLTFLOW_BENCH_PPROF=<dir> writes a CPU profile of each
// window and a heap profile after it there.
package chargerbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// timed is the central system's handler with every message timed.
type timed struct {
	*centralsystem.Service
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
		if err := charger.Enroll(ctx, db, id, l.ProjectID, charger.DemoPassword); err != nil {
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
	if err := centralsystem.ResetPresence(ctx, db); err != nil {
		t.Fatal(err)
	}
	h := &timed{Service: &centralsystem.Service{DB: db}}
	msgs := centralsystem.NewMessageLog(ctx, db, nil)
	defer msgs.Close()
	heap0, rss0 := heapInuse(), rssKB(os.Getpid())
	srv, err := ocpp.Listen(ctx, ocpp.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), HeartbeatInterval: interval,
		Grace: interval / 2, Handler: h, Frames: msgs})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	sim := exec.Command(filepath.Join(binDir, "voltflow"), "sim", "chargers", "--count", strconv.Itoa(n),
		"--url", fmt.Sprintf("ws://127.0.0.1:%d/ocpp", port), "--meter-interval", interval.String())
	sim.Stdout, sim.Stderr = os.Stderr, os.Stderr
	sim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			_ = syscall.Kill(-sim.Process.Pid, syscall.SIGKILL)
			_ = sim.Wait()
		}
	}
	defer kill()
	began := time.Now()
	online := 0
	eventually.True(t, 10*time.Minute, fmt.Sprintf("%d charge points online", n), func() (bool, string) {
		if err := db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online`).Scan(&online); err != nil {
			t.Fatal(err)
		}
		return online >= n, fmt.Sprint(online, " online")
	})
	ramp := time.Since(began)
	h.window(true) // start the window; boot messages are not in it
	stopProfile := profile(t, fmt.Sprintf("cpu-%d.pprof", n))
	// One whole heartbeat/meter period plus a margin, so every charge point
	// sends both at least once within the window.
	time.Sleep(interval + interval/4)
	took := h.window(false)
	stopProfile()
	var stillOnline int
	if err := db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online`).Scan(&stillOnline); err != nil {
		t.Fatal(err)
	}
	heap, rss := heapInuse(), rssKB(os.Getpid())
	simRSS := rssKB(sim.Process.Pid)
	writeHeapProfile(t, fmt.Sprintf("heap-%d.pprof", n))
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
	fmt.Printf("chargers n=%d online=%d msgs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f heap_kb_per_cp=%d sim_rss_kb_per_cp=%d rss_kb_per_cp=%d ramp_s=%.0f\n",
		n, stillOnline, len(took), pct(0.50), pct(0.99), pct(1), perCP, simRSS/int64(n), max(rss-rss0, 0)/int64(n),
		ramp.Seconds())
	if stillOnline < n {
		t.Errorf("n=%d: only %d online at the end", n, stillOnline)
	}

	// All N drop at once; the central system marks them offline, then
	// closes (ocpp-go's own dispatcher wedged here: devices/ocpp).
	kill()
	began = time.Now()
	eventually.True(t, 10*time.Minute, fmt.Sprintf("n=%d: all offline and disconnected after the simulator died", n), func() (bool, string) {
		if err := db.QueryRow(ctx, `select count(*) from ocpp_charge_points where online`).Scan(&online); err != nil {
			t.Fatal(err)
		}
		conns := srv.Connections()
		return online == 0 && conns == 0, fmt.Sprintf("%d still online, %d connections", online, conns)
	})
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Logf("n=%d: central system Close: %v", n, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("n=%d: central system Close hung after the mass disconnect", n)
	}
	t.Logf("n=%d: all offline and closed %s after the simulator died", n, time.Since(began).Round(time.Second))
}

// profile writes a CPU profile to $VOLTFLOW_BENCH_PPROF/name until the
// returned stop.
func profile(t *testing.T, name string) (stop func()) {
	dir := os.Getenv("VOLTFLOW_BENCH_PPROF")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

func writeHeapProfile(t *testing.T, name string) {
	dir := os.Getenv("VOLTFLOW_BENCH_PPROF")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	err = pprof.WriteHeapProfile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
