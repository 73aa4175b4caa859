package chargerbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/storetest"
)

// TestYKCChargers is the YKC counterpart (issue 22): N simulated YKC
// chargers (`voltflow sim chargers --protocol ykc`, a separate process, one
// gun each, heartbeat every 10 s and real-time data every
// VOLTFLOW_BENCH_YKC_INTERVAL, default 15 s) held by the YKC server on the
// charger adapter (PostgreSQL, message log) in this process. For each N of
// VOLTFLOW_BENCH_YKC it prints
//
//	ykc chargers n=<N> online=<n> frames=<m> p50_ms=<> p99_ms=<> max_ms=<> heap_kb_per_cp=<> sim_rss_kb_per_cp=<> rss_kb_per_cp=<> ramp_s=<>
//
// "Handling" is a frame's time from decoded to answered (the adapter's
// PostgreSQL writes and the answer's write included). The chargers are not
// in the registry (logins are accepted without the lookup), so status
// changes of their guns stop at the adapter's registry check.
func TestYKCChargers(t *testing.T) {
	spec := os.Getenv("VOLTFLOW_BENCH_YKC")
	if spec == "" {
		t.Skip("set VOLTFLOW_BENCH_YKC=5000")
	}
	binDir := os.Getenv("VOLTFLOW_BIN_DIR")
	if binDir == "" {
		t.Fatal("VOLTFLOW_BIN_DIR must name the built binaries (make build)")
	}
	interval := 15 * time.Second
	if v := os.Getenv("VOLTFLOW_BENCH_YKC_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		interval = d
	}
	n, err := strconv.Atoi(spec)
	if err != nil || n < 1 {
		t.Fatalf("VOLTFLOW_BENCH_YKC: %q", spec)
	}
	ctx := context.Background()
	db := pg.NewDB(t)
	port, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var took []time.Duration
	on := false
	msgs := centralsystem.NewMessageLog(ctx, db, nil)
	defer msgs.Close()
	heap0, rss0 := heapInuse(), rssKB(os.Getpid())
	srv, err := ykc.Listen(ctx, ykc.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: &centralsystem.Service{DB: db},
		Frames: msgs, Registered: func(context.Context, string) bool { return true },
		HeartbeatInterval: 10 * time.Second, Grace: 20 * time.Second,
		Handled: func(_ byte, d time.Duration) {
			mu.Lock()
			if on {
				took = append(took, d)
			}
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	sim := exec.Command(filepath.Join(binDir, "voltflow"), "sim", "chargers", "--protocol", "ykc", "--count", strconv.Itoa(n),
		"--ykc-addr", srv.Addr().String(), "--realtime-interval", interval.String())
	sim.Stdout, sim.Stderr = os.Stderr, os.Stderr
	sim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-sim.Process.Pid, syscall.SIGKILL); _ = sim.Wait() }()
	began := time.Now()
	eventually.True(t, 10*time.Minute, fmt.Sprintf("%d YKC chargers logged in", n), func() (bool, string) {
		return srv.Connections() >= n, fmt.Sprint(srv.Connections(), " connected")
	})
	ramp := time.Since(began)
	mu.Lock()
	on = true
	mu.Unlock()
	time.Sleep(interval + interval/4)
	mu.Lock()
	on = false
	window := slices.Clone(took)
	mu.Unlock()
	online := srv.Connections()
	heap, rss := heapInuse(), rssKB(os.Getpid())
	simRSS := rssKB(sim.Process.Pid)
	slices.Sort(window)
	pct := func(p float64) float64 {
		if len(window) == 0 {
			return 0
		}
		return float64(window[min(len(window)-1, int(p*float64(len(window))))].Microseconds()) / 1000
	}
	perCP := int64(0)
	if heap > heap0 {
		perCP = int64(heap-heap0) / int64(n) / 1024
	}
	fmt.Printf("ykc chargers n=%d online=%d frames=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f heap_kb_per_cp=%d sim_rss_kb_per_cp=%d rss_kb_per_cp=%d ramp_s=%.0f\n",
		n, online, len(window), pct(0.50), pct(0.99), pct(1), perCP, simRSS/int64(n), max(rss-rss0, 0)/int64(n), ramp.Seconds())
	if online < n {
		t.Errorf("only %d of %d online at the end", online, n)
	}
}
