// Package harness runs the real platform for end-to-end tests: a throwaway
// PostgreSQL cluster, the embedded Temporal server on it (PostgreSQL
// persistence), meter simulators on real sockets, the worker as a separate
// process that tests may kill, and the HTTP API.
package harness

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/production"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
	"github.com/voltflow/voltflow/workflows"
	"github.com/voltflow/voltflow/workflows/names"
)

// Options tune the stack for a test package.
type Options struct {
	DispatchWindow time.Duration // retry window before dispatch_failed
	UpdateTimeout  time.Duration // decisions wait this long for a worker
	Gateways       int
	MetersPerGW    int
	// Latency is the simulators' per-request bus time (simulator.Config.Latency),
	// for tests that need a sweep to take a while.
	Latency time.Duration
	// OCPP runs the OCPP central system in the test process on a free port,
	// with the demo charging registry, its chargers' task queue polled here
	// (the worker process polls the rest).
	OCPP          bool
	OCPPHeartbeat time.Duration // heartbeat told to chargers (default 60 s)
	OCPPGrace     time.Duration // silence beyond it before offline (default 30 s)
	// YKC runs the YKC server too (with OCPP), on a free port.
	YKC bool
	// Production starts from an empty database with the production switch
	// on: no demo data and no simulator fleet (the test builds its project
	// through the API and starts its own meters), the worker run with
	// VOLTFLOW_ENV=production and what its readiness check asks for (a
	// master key, regulator credentials of its own, the outbox on purpose).
	Production bool
	// WorkerEnv is added to the worker process's environment (e.g.
	// VOLTFLOW_DEVICE_SLOTS=1 to fill the devices queue on purpose).
	WorkerEnv []string
}

// Stack is a running platform.
type Stack struct {
	PG           *storetest.Server
	DB           *store.DB
	DBURL        string
	Temporal     client.Client
	TemporalAddr string
	UIURL        string
	Fleet        *simulator.Fleet
	API          *httptest.Server
	ProjectID    string
	Log          *slog.Logger
	// OCPP is the central system when Options.OCPP (charge points dial
	// OCPP.URL()+<chargePointId>).
	OCPP *ocpp.Server
	// YKC is the YKC server when Options.YKC.
	YKC *ykc.Server

	opts     Options
	env      []string // the worker's and the CLI's environment beyond DATABASE_URL
	binDir   string
	tmpDir   string
	temporal *exec.Cmd
	worker   *exec.Cmd
	stopOCPP func()
	contract *contract
	onStop   []func() // run first by Stop (OnStop)
	paymentsState
}

// Start brings the stack up; Stop tears it down.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if o.Gateways == 0 {
		o.Gateways = 4
	}
	if o.MetersPerGW == 0 {
		o.MetersPerGW = 32
	}
	s = &Stack{opts: o, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	started := s // the returns below set s to nil: stop what was started, and report the error
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()
	if s.tmpDir, err = os.MkdirTemp("", "voltflow-e2e-"); err != nil {
		return nil, err
	}
	if s.binDir, err = binaries(ctx, s.tmpDir); err != nil {
		return nil, err
	}
	if s.PG, err = storetest.Start(ctx); err != nil {
		return nil, err
	}
	if err := s.startTemporal(ctx); err != nil {
		return nil, err
	}
	s.DBURL = s.PG.URL(s.PG.CreateDatabase(ctx, "voltflow_e2e"))
	if s.DB, err = store.Open(ctx, s.DBURL); err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, s.DB, s.Log); err != nil {
		return nil, err
	}
	if o.Production {
		if err := s.prepareProduction(ctx); err != nil {
			return nil, err
		}
	} else if err := s.loadDemo(ctx); err != nil {
		return nil, err
	}
	if s.Temporal, err = client.DialContext(ctx, client.Options{HostPort: s.TemporalAddr,
		Logger: sdklog.NewStructuredLogger(s.Log)}); err != nil {
		return nil, err
	}
	if err := s.StartWorker("main,devices"); err != nil {
		return nil, err
	}
	if o.OCPP {
		if err := s.startOCPP(ctx); err != nil {
			return nil, err
		}
	}
	s.API = httptest.NewServer(api.New(api.Config{DB: s.DB, Temporal: s.Temporal, Log: s.Log,
		UpdateTimeout: o.UpdateTimeout, DispatchWindow: o.DispatchWindow}))
	if s.contract, err = newContract(ctx, s.API.URL); err != nil {
		return nil, err
	}
	return s, nil
}

// loadDemo starts the simulator fleet and loads the demo project onto it.
func (s *Stack) loadDemo(ctx context.Context) error {
	o := s.opts
	var err error
	s.Fleet, err = simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: o.Gateways, Meters: o.MetersPerGW, Latency: o.Latency,
		Meter: simulator.MeterConfig{Remaining: 5000, UnitPrice: 12000, Alarm1: 2000, Alarm2: 1000}})
	if err != nil {
		return err
	}
	if err := s.Fleet.Start(context.Background()); err != nil { // lives until Stop, not until ctx
		return err
	}
	d := demo.Defaults()
	d.BcryptCost = 4
	d.MetersPerGW = o.MetersPerGW
	d.GatewayPorts = nil
	for _, g := range s.Fleet.Gateways() {
		var port int
		if _, err := fmt.Sscanf(g.Addr()[strings.LastIndex(g.Addr(), ":")+1:], "%d", &port); err != nil {
			return err
		}
		d.GatewayPorts = append(d.GatewayPorts, port)
	}
	loaded, err := demo.Load(ctx, s.DB, d)
	if err != nil {
		return err
	}
	s.ProjectID = loaded.ProjectID
	return nil
}

// prepareProduction satisfies the production readiness check the way an
// installation would: a master key of its own and regulator credentials
// sealed with it; SMS and mail stay in the outbox on purpose.
func (s *Stack) prepareProduction(ctx context.Context) error {
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		return err
	}
	key := hex.EncodeToString(master)
	mk, err := keys.NewMasterKey(key)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	sec := keys.DevSecrets()
	sec.OperatorSecret, sec.DataSecret, sec.SigSecret = randomSecret(), randomSecret(), randomSecret()
	if err := (&keys.Store{DB: s.DB, Key: mk}).Put(ctx, push.DefaultRegulator, sec, 0); err != nil {
		return fmt.Errorf("regulator credentials: %w", err)
	}
	s.env = []string{production.Env + "=" + production.Value, keys.EnvMasterKey + "=" + key, "VOLTFLOW_ALLOW_OUTBOX=1"}
	return nil
}

// randomSecret is 16 random characters, the length of the regulator's secrets.
func randomSecret() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// CLI runs the voltflow binary against the stack's database, with the
// production environment when Options.Production, stdin as its input.
func (s *Stack) CLI(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "voltflow"), args...)
	cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + s.DBURL, "VOLTFLOW_LOG_LEVEL=warn"}, s.env...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("voltflow %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// Stop ends everything Start began.
func (s *Stack) Stop() {
	for _, f := range s.onStop {
		f()
	}
	if s.contract != nil {
		fmt.Fprintf(os.Stderr, "openapi: %d requests and answers validated against api/openapi.json\n", s.contract.checked.Load())
	}
	if s.API != nil {
		s.API.Close()
	}
	if s.stopOCPP != nil {
		s.stopOCPP()
	}
	s.StopWorker()
	if s.Temporal != nil {
		s.Temporal.Close()
	}
	if s.Fleet != nil {
		_ = s.Fleet.Stop()
	}
	if s.DB != nil {
		s.DB.Close()
	}
	if s.temporal != nil {
		_ = s.temporal.Process.Signal(syscall.SIGTERM)
		waitOrKill(s.temporal, 20*time.Second)
	}
	if s.PG != nil {
		s.PG.Stop()
	}
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

// StartWorker runs `voltflow worker` as a child process polling the queues.
func (s *Stack) StartWorker(queues string) error {
	cmd := exec.Command(filepath.Join(s.binDir, "voltflow"), "worker", "--queues", queues)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+s.DBURL, "TEMPORAL_ADDRESS="+s.TemporalAddr, "VOLTFLOW_LOG_LEVEL=warn",
		"VOLTFLOW_SMS_OUTBOX_INBOX="+s.SMSInbox())
	cmd.Env = append(append(cmd.Env, s.env...), s.opts.WorkerEnv...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	s.worker = cmd
	return nil
}

// KillWorker kills the worker process with SIGKILL: no cleanup, as in a crash.
func (s *Stack) KillWorker() {
	if s.worker == nil {
		return
	}
	_ = s.worker.Process.Kill()
	_ = s.worker.Wait()
	s.worker = nil
}

// StopWorker stops the worker gracefully.
func (s *Stack) StopWorker() {
	if s.worker == nil {
		return
	}
	_ = s.worker.Process.Signal(syscall.SIGTERM)
	waitOrKill(s.worker, 15*time.Second)
	s.worker = nil
}

func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
	}
}

// errTemporalExited is a Temporal server that ended before it was ready:
// most often a port found free was taken by another test before the
// server bound it.
var errTemporalExited = errors.New("the Temporal server exited before it was ready")

// startTemporal runs the Temporal server on free ports, with new ports
// when it exits before it is ready.
func (s *Stack) startTemporal(ctx context.Context) error {
	var err error
	for range 3 {
		if err = s.startTemporalOnce(ctx); !errors.Is(err, errTemporalExited) {
			return err
		}
		s.Log.Warn("harness: Temporal server exited while starting; again on other ports", "error", err)
	}
	return err
}

func (s *Stack) startTemporalOnce(ctx context.Context) error {
	front, err := storetest.FreePort()
	if err != nil {
		return err
	}
	ui, err := storetest.FreePort()
	if err != nil {
		return err
	}
	// The internal services take a run of ports from the base; pick a base
	// whose run is free by asking for ports until one fits.
	base, err := freeRun(8)
	if err != nil {
		return err
	}
	pgHost, pgPort := s.PG.HostPort()
	suffix := fmt.Sprint(os.Getpid())
	cmd := exec.Command(filepath.Join(s.binDir, "voltflow-temporal"), "--pg-host", pgHost, "--pg-port", fmt.Sprint(pgPort),
		"--db", "temporal_"+suffix, "--visibility-db", "temporal_visibility_"+suffix,
		"--frontend-port", fmt.Sprint(front), "--port-base", fmt.Sprint(base), "--ui-port", fmt.Sprint(ui), "--log-level", "error")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start temporal: %w", err)
	}
	s.temporal = cmd
	ready := make(chan string, 1)
	exited := make(chan struct{}) // its stdout closed: the server is gone
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "temporal ready") {
				ready <- sc.Text()
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
		s.TemporalAddr = fmt.Sprintf("127.0.0.1:%d", front)
		s.UIURL = fmt.Sprintf("http://127.0.0.1:%d", ui)
		return nil
	case <-exited:
		s.temporal = nil
		return fmt.Errorf("%w: %v", errTemporalExited, cmd.Wait())
	case <-time.After(3 * time.Minute):
		return fmt.Errorf("temporal not ready within 3 minutes")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func freeRun(n int) (int, error) {
	for range 50 {
		p, err := storetest.FreePort()
		if err != nil {
			return 0, err
		}
		ok := p+n < 32768
		for i := 1; ok && i < n; i++ {
			ok = storetest.PortFree(p + i)
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no run of %d free ports", n)
}

// binaries returns a directory holding voltflow and voltflow-temporal:
// VOLTFLOW_BIN_DIR (make test builds them) or a fresh go build.
func binaries(ctx context.Context, tmp string) (string, error) {
	if dir := os.Getenv("VOLTFLOW_BIN_DIR"); dir != "" {
		return dir, nil
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(tmp, "bin")
	for _, b := range []string{"voltflow", "voltflow-temporal"} {
		// Built from its own directory: voltflow-temporal is a module of its own.
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, b), ".")
		cmd.Dir = filepath.Join(root, "cmd", b)
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %w: %s", b, err, out)
		}
	}
	return dir, nil
}

// Queues re-exported for tests.
const (
	MainQueue    = names.MainQueue
	DevicesQueue = names.DevicesQueue
)

// startOCPP loads the demo charging registry and runs the central system
// with the platform's hooks and a worker for the chargers' queue.
func (s *Stack) startOCPP(ctx context.Context) error {
	if err := registry.LoadDemo(ctx, s.DB); err != nil {
		return err
	}
	if err := charger.LoadDemo(ctx, s.DB, s.ProjectID); err != nil {
		return err
	}
	port, err := storetest.FreePort()
	if err != nil {
		return err
	}
	var yc *centralsystem.YKCConfig
	if s.opts.YKC {
		yport, err := storetest.FreePort()
		if err != nil {
			return err
		}
		yc = &centralsystem.YKCConfig{Addr: fmt.Sprintf("127.0.0.1:%d", yport), HeartbeatInterval: s.opts.OCPPHeartbeat,
			Grace: s.opts.OCPPGrace}
	}
	srv, ys, stop, err := centralsystem.StartChargerServers(context.Background(), s.DB, centralsystem.CentralConfig{
		Addr: fmt.Sprintf("127.0.0.1:%d", port), HeartbeatInterval: s.opts.OCPPHeartbeat, Grace: s.opts.OCPPGrace,
		Hooks: workflows.ChargerHooks(s.Temporal, s.Log), Log: s.Log, YKC: yc})
	if err != nil {
		return err
	}
	s.YKC = ys
	w := worker.New(s.Temporal, names.ChargersQueue, worker.Options{})
	workflows.RegisterChargers(w, s.DB, ykc.Router{Server: srv, YKC: ys})
	if err := w.Start(); err != nil {
		stop()
		return fmt.Errorf("start chargers worker: %w", err)
	}
	s.OCPP = srv
	s.stopOCPP = func() { w.Stop(); stop() }
	return nil
}
