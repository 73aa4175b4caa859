// Package devstop starts `voltflow dev` (the stack of `make run`) and stops it
// at random moments around readiness, as a user's Ctrl-C or a kill would:
// each time it must exit in time and leave no process of its stack behind.
package devstop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/child"
	"github.com/voltflow/voltflow/store/storetest"
)

// stopDeadline is how long a stopped `voltflow dev` may take to exit.
const stopDeadline = 30 * time.Second

// The moments of a stop, taken in turn.
const (
	beforeReady = iota // Ctrl-C at a random moment of the start (PostgreSQL, Temporal, migrations, demo data)
	justReady          // Ctrl-C within 1.5 s of /readyz first answering
	later              // Ctrl-C 2-6 s after
	killed             // SIGKILL of voltflow alone, after /readyz: its children must die with it
	moments
)

var momentNames = [moments]string{"before ready", "just ready", "later", "SIGKILL"}

func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole dev stack many times")
	}
	runs := 4
	if v := os.Getenv("VOLTFLOW_DEVSTOP_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VOLTFLOW_DEVSTOP_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	bin := binaries(t)
	d := newDev(t, bin)
	for i := range runs {
		moment := i % moments
		ok := t.Run(fmt.Sprintf("%d_%s", i+1, strings.ReplaceAll(momentNames[moment], " ", "_")), func(t *testing.T) {
			d.cycle(t, moment)
		})
		if !ok {
			break // the state directory may be unusable now: the next cycles would only repeat this failure
		}
	}
}

// dev is one state directory and one set of free ports, used by every cycle.
type dev struct {
	bin, state string
	args, env  []string
	httpURL    string
	pgPort     int
	frontend   int
}

func newDev(t *testing.T, bin string) *dev {
	d := &dev{bin: bin, state: filepath.Join(t.TempDir(), "state")}
	d.pgPort = freeRun(t, 1)
	d.frontend = freeRun(t, 1)
	base, ui, httpPort, ocppPort, reg, sim := freeRun(t, 8), freeRun(t, 1), freeRun(t, 1), freeRun(t, 1), freeRun(t, 1), freeRun(t, 4)
	d.httpURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	d.args = []string{"dev", "--state", d.state, "--temporal-bin", filepath.Join(bin, "voltflow-temporal"),
		"--pg-port", fmt.Sprint(d.pgPort), "--temporal-port", fmt.Sprint(d.frontend),
		"--sim-addr", fmt.Sprintf("127.0.0.1:%d", sim), "--regulator-addr", fmt.Sprintf("127.0.0.1:%d", reg)}
	d.env = append(os.Environ(),
		"VOLTFLOW_HTTP_ADDR="+fmt.Sprintf("127.0.0.1:%d", httpPort),
		"VOLTFLOW_OCPP_ADDR="+fmt.Sprintf("127.0.0.1:%d", ocppPort),
		"VOLTFLOW_REGULATOR_URL="+fmt.Sprintf("http://127.0.0.1:%d/shevcs/v1", reg),
		"VOLTFLOW_TEMPORAL_PORT_BASE="+fmt.Sprint(base),
		"VOLTFLOW_TEMPORAL_UI_PORT="+fmt.Sprint(ui),
		"VOLTFLOW_TEMPORAL_LOG_LEVEL=error",
	)
	return d
}

// cycle starts voltflow dev, stops it at the moment and checks that it
// exited in time and that nothing it started is left.
func (d *dev) cycle(t *testing.T, moment int) {
	logPath := filepath.Join(t.TempDir(), "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // the child wrote it through its own descriptor
	cmd := exec.Command(filepath.Join(d.bin, "voltflow"), d.args...)
	cmd.Env = d.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as under a terminal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("voltflow dev log:\n%s", tail(string(b), 120))
		}
	}()

	// The stack as it grows: voltflow's descendants (Temporal, postgres and
	// its backends, pg tools), each as pid and start time.
	seen := map[int]uint64{}
	watch := func() { descendants(pid, seen) }

	var wait time.Duration
	switch moment {
	case beforeReady:
		wait = time.Duration(rand.Int64N(int64(8 * time.Second)))
	case justReady:
		wait = time.Duration(rand.Int64N(int64(1500 * time.Millisecond)))
	case later, killed:
		wait = 2*time.Second + time.Duration(rand.Int64N(int64(4*time.Second)))
	}
	start := time.Now()
	if moment != beforeReady {
		if err := d.waitReady(3*time.Minute, exited, watch); err != nil {
			t.Fatalf("not ready: %v", err)
		}
		t.Logf("ready after %v", time.Since(start).Round(time.Millisecond))
	}
	for until := time.Now().Add(wait); time.Now().Before(until); {
		watch()
		time.Sleep(100 * time.Millisecond)
	}
	watch()
	stack := len(seen)

	stopAt := time.Now()
	if moment == killed {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	} else {
		_ = syscall.Kill(-pid, syscall.SIGINT) // Ctrl-C: the whole foreground group
	}
	t.Logf("%s after %v, with %d processes under voltflow", momentNames[moment], wait.Round(time.Millisecond), stack)
	select {
	case err := <-exited:
		if moment != killed && err != nil {
			t.Errorf("voltflow dev after a Ctrl-C: %v, want exit status 0", err)
		}
		t.Logf("exited in %v (%v)", time.Since(stopAt).Round(time.Millisecond), err)
	case <-time.After(stopDeadline):
		_ = syscall.Kill(pid, syscall.SIGQUIT) // its goroutines, to the log
		// After the goroutine dump; the test fails below either way.
		t.Logf("exited after SIGQUIT: %v", <-exited)
		t.Errorf("voltflow dev still running %v after the Ctrl-C", stopDeadline)
	}
	// A deadline saves the stop, but a step that needs it is a bug.
	if b, err := os.ReadFile(logPath); err == nil && strings.Contains(string(b), "overran its deadline") {
		t.Errorf("a shutdown step overran its deadline (see the log)")
	}
	// The kernel's parent-death signal reaches the children at once; a
	// postgres stopped in immediate mode takes a moment.
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left = left[:0]
		for p, st := range seen {
			if child.Running(p, st) {
				left = append(left, fmt.Sprintf("%d %s", p, cmdline(p)))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	// However they were started (a server detached from voltflow is not
	// its descendant), nothing may still serve the stack's ports.
	for name, port := range map[string]int{"PostgreSQL": d.pgPort, "Temporal": d.frontend} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts on port %d after voltflow dev exited", name, port)
		}
	}
	for _, p := range left {
		t.Errorf("process of the stack outlived voltflow dev: %s", p)
		if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL) // so that the next cycle (and the machine) is clean
		}
	}
	if moment != beforeReady && stack < 2 {
		t.Errorf("only %d processes seen under a ready voltflow dev: want Temporal and postgres at least", stack)
	}
}

// waitReady polls /readyz until it answers 200.
func (d *dev) waitReady(timeout time.Duration, exited <-chan error, watch func()) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		watch()
		if resp, err := c.Get(d.httpURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("voltflow dev exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("/readyz not 200 within %v", timeout)
}

// descendants adds every process under root to seen.
func descendants(root int, seen map[int]uint64) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(p); ok {
			parent[p] = pp
		}
	}
	for p := range parent {
		for a, n := parent[p], 0; a > 1 && n < 64; a, n = parent[a], n+1 {
			if a == root {
				if st, err := child.StartTime(p); err == nil {
					seen[p] = st
				}
				break
			}
		}
	}
}

func ppid(p int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

func cmdline(p int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// freeRun finds n consecutive free ports below the ephemeral range.
func freeRun(t *testing.T, n int) int {
	for range 100 {
		p, err := storetest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ok := p+n < 32768
		for i := 1; ok && i < n; i++ {
			ok = storetest.PortFree(p + i)
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no run of %d free ports", n)
	return 0
}

// binaries is VOLTFLOW_BIN_DIR (make test builds it) or a fresh build.
func binaries(t *testing.T) string {
	if dir := os.Getenv("VOLTFLOW_BIN_DIR"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, b := range []string{"voltflow", "voltflow-temporal"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, b), "./cmd/"+b)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v: %s", b, err, out)
		}
	}
	return dir
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
