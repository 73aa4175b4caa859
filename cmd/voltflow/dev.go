package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/devices/simulator"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/child"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/localpg"
	tenantstore "github.com/voltflow/voltflow/store/tenant"
)

// runDev is `make run`: the whole platform on embedded defaults. State lives
// under .voltflow/, so a second start keeps every account and workflow.
func runDev(ctx context.Context, log *slog.Logger, args []string) (err error) {
	defer func() {
		// Stopped by a signal (most often while starting), a step fails with
		// the context or with the Ctrl-C its tools got too (initdb, psql):
		// the stop was asked for, it is not a failure.
		if err != nil && ctx.Err() != nil {
			log.Info("voltflow dev stopped; the step it interrupted ended with", "error", err)
			err = nil
		}
	}()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	stateDir := fs.String("state", ".voltflow", "directory for the local cluster's data and logs")
	temporalBin := fs.String("temporal-bin", ".voltflow/bin/voltflow-temporal", "the embedded Temporal server (make builds it)")
	pgPort := fs.Int("pg-port", 25432, "port of the local PostgreSQL cluster")
	// Other ports: VOLTFLOW_HTTP_ADDR, VOLTFLOW_OCPP_ADDR (the charger
	// simulator follows it), VOLTFLOW_REGULATOR_URL (where pushes go), and
	// the Temporal server's VOLTFLOW_TEMPORAL_PORT_BASE / _UI_PORT.
	temporalPort := fs.Int("temporal-port", 7233, "frontend port of the embedded Temporal server")
	simAddr := fs.String("sim-addr", "127.0.0.1:15020", "first meter gateway simulator's address (gateway i on port+i)")
	regulatorAddr := fs.String("regulator-addr", "127.0.0.1:9400", "the regulator simulator's listen address")
	noSim := fs.Bool("no-sim", false, "do not start the meter simulators")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if isProduction(log, os.Getenv) {
		// dev loads the demo data and its published passwords.
		return errors.New("voltflow dev is for development: in production run voltflow admin create, then voltflow serve")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ocppCfg, err := loadOCPPConfig()
	if err != nil {
		return err
	}
	if os.Getenv("VOLTFLOW_SWEEP_INTERVAL") == "" {
		cfg.SweepInterval = 15 * time.Second // demo meters run on an accelerated clock: catch every alarm stage
	}
	if err := os.MkdirAll(*stateDir, 0o755); err != nil {
		return err
	}
	if os.Getenv("VOLTFLOW_SMS_OUTBOX_INBOX") == "" {
		// GET /api/v1/sms masks login codes: the demo tenant reads theirs
		// from the outbox's inbox, as from a phone.
		if err := os.Setenv("VOLTFLOW_SMS_OUTBOX_INBOX", filepath.Join(*stateDir, "sms-inbox.jsonl")); err != nil {
			return err
		}
	}
	unlock, err := lockState(*stateDir)
	if err != nil {
		return err
	}
	defer unlock()

	if cfg.DatabaseURL == "" {
		// Holding the state directory, a server still running on its
		// cluster was left by an earlier run: Start stops it first.
		cluster, err := localpg.Start(ctx, filepath.Join(*stateDir, "pg"), *pgPort)
		if err != nil {
			return err
		}
		defer stopStep(log, "stop PostgreSQL", 45*time.Second, func() {
			log.Info("stopping PostgreSQL")
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error("stop PostgreSQL", "error", err)
			}
		})
		if err := cluster.CreateDB(ctx, "voltflow"); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL("voltflow")
		log.Info("PostgreSQL ready", "url", cfg.DatabaseURL)
	}
	uiURL := "(external cluster)"
	if os.Getenv("TEMPORAL_ADDRESS") == "" {
		cfg.TemporalAddress = fmt.Sprintf("127.0.0.1:%d", *temporalPort)
		stopTemporal, ui, err := startTemporal(ctx, log, *temporalBin, *stateDir, *pgPort, *temporalPort)
		if err != nil {
			return err
		}
		defer stopStep(log, "stop Temporal", 30*time.Second, stopTemporal)
		uiURL = ui
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer stopStep(log, "close the database pool", 5*time.Second, db.Close)
	if err := store.Migrate(ctx, db, log); err != nil {
		return err
	}
	tc, err := dialTemporal(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer stopStep(log, "close the Temporal client", 5*time.Second, tc.Close)
	if err := registerSearchAttributes(ctx, tc, cfg.TemporalNamespace); err != nil {
		return err
	}
	demoOpts := demo.Defaults()
	// Opt-in only: contracts.md has every demo meter meter-side with 50.00
	// in the meter; VOLTFLOW_DEMO_PLATFORM_METER=M0128 on a fresh state
	// makes that one platform-side (主站费控), billed by each sweep.
	demoOpts.PlatformMeter = os.Getenv("VOLTFLOW_DEMO_PLATFORM_METER")
	demoOpts.BookTx = func(ctx context.Context, tx pgx.Tx, projectID string, e ledgerdom.Entry) error {
		_, err := ledgerstore.BookTx(ctx, tx, projectID, e)
		return err
	}
	loaded, err := demo.Load(ctx, db, demoOpts)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	log.Info("demo data", "project", loaded.ProjectID, "created", loaded.Created)
	if err := demoPace(ctx, db, loaded.ProjectID); err != nil {
		return err
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		return fmt.Errorf("charging demo data: %w", err)
	}
	if err := charger.LoadDemo(ctx, db, loaded.ProjectID); err != nil {
		return fmt.Errorf("charging demo chargers and card: %w", err)
	}
	if err := tenantstore.DemoPhones(ctx, db, loaded.ProjectID); err != nil {
		return err
	}
	if err := registry.LoadDemoMonitoring(ctx, db, loaded.ProjectID); err != nil {
		return fmt.Errorf("regulator demo data: %w", err)
	}

	parts := newParts(ctx)
	payArgs, err := devPayments(*stateDir, cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("payment simulator keys: %w", err)
	}
	if payArgs != nil {
		parts.Go("payment simulator", func(ctx context.Context) error {
			return runPaySim(ctx, log, payArgs)
		})
	}
	if !*noSim {
		simCfg, err := meterSimFlags([]string{"--addr", *simAddr})
		if err != nil {
			return err
		}
		simCfg.Logger = log.With("component", "meter-sim")
		simCfg.StatePath = filepath.Join(*stateDir, "meters.json")
		parts.Go("meter simulator", func(ctx context.Context) error { return simulator.Run(ctx, simCfg) })
		parts.Go("regulator simulator", func(ctx context.Context) error {
			return runRegulatorSim(ctx, log.With("component", "regulator-sim"),
				[]string{"--addr", *regulatorAddr, "--platform", "http://" + cfg.HTTPAddr + "/shevcs/v1"})
		})
		if ocppCfg.Addr != "off" {
			parts.Go("charger simulator", func(ctx context.Context) error { // charger …0001; …0002 stays free
				return runSimChargers(ctx, log, []string{"--url", "ws://" + ocppCfg.Addr + "/ocpp"})
			})
		}
	}
	if cfg.ArchiveDir == "" {
		cfg.ArchiveDir = filepath.Join(*stateDir, "archive")
	}
	parts.Go("API and workers", func(ctx context.Context) error {
		return serve(ctx, log, cfg, db, tc, true, true, []string{"main", "devices", "interconnect"})
	})
	fmt.Printf(`
Voltflow is running (Ctrl-C stops everything; state stays in %s/)

  API            http://%s/api/v1   (OpenAPI: /api/v1/openapi.json, /healthz, /readyz, /metrics)
  Temporal UI    %s
  Temporal gRPC  %s  namespace %s
  PostgreSQL     %s
  Meter gateways %s (Modbus TCP, ref-prepaid-v1, 32 meters each: M0001-M0128)
  OCPP 1.6J      ws://%s/ocpp/<chargePointId> (basic auth <id>:demo-secret; 4403000000000000000002 is free; card D0000001)

  Tenant page    http://%s/m/ (M0001's tenant: 13800000001; the SMS code is in GET /api/v1/sms)
  Payment sim    http://%s (fake WeChat Pay / Alipay; pay an order: POST /sim/orders/<orderNo>/pay)

  Logins (dev only): admin/admin  cashier/cashier  approver/approver

`, *stateDir, cfg.HTTPAddr, uiURL, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.DatabaseURL, gatewayRange(*simAddr, 4), ocppCfg.Addr,
		cfg.HTTPAddr, devPayAddr)
	// A part that does not stop in time is logged by name and left behind:
	// the Temporal server and PostgreSQL are stopped all the same.
	err = parts.Wait(log, 30*time.Second)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// startTemporal runs the embedded Temporal server as a child process and waits
// for its ready line; the returned func stops it. The server gets SIGKILL
// from the kernel if voltflow dies without stopping it, and a server left
// by an earlier run of this state directory (one killed before the kernel
// could do that, or older than it) is stopped first.
func startTemporal(ctx context.Context, log *slog.Logger, bin, stateDir string, pgPort, frontendPort int) (func(), string, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, "", fmt.Errorf("embedded Temporal server %s not built (make build builds it from its own module, cmd/voltflow-temporal): %w", bin, err)
	}
	pidFile := child.PIDFile(filepath.Join(stateDir, "temporal.pid"))
	if pid, err := pidFile.StopStale(ctx, 10*time.Second); err != nil {
		return nil, "", fmt.Errorf("stop the Temporal server left by an earlier run (pid %d): %w", pid, err)
	} else if pid != 0 {
		log.Warn("stopped the Temporal server an earlier run left behind", "pid", pid)
	}
	logFile, err := os.OpenFile(filepath.Join(stateDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, "", err
	}
	// Not CommandContext: on Ctrl-C we send SIGTERM and wait, not SIGKILL.
	cmd := exec.Command(bin, "--pg-port", fmt.Sprint(pgPort), "--frontend-port", fmt.Sprint(frontendPort))
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // our Ctrl-C is not its Ctrl-C
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close() // the start failed: that error is the one to report
		return nil, "", err
	}
	proc, err := child.Start(cmd, syscall.SIGKILL)
	if err != nil {
		_ = logFile.Close() // the start failed: that error is the one to report
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	if err := pidFile.Write(proc); err != nil {
		log.Warn("Temporal server pid not recorded: a later run cannot stop it if this one is killed", "error", err)
	}
	stop := func() {
		log.Info("stopping Temporal")
		if err := proc.Stop(syscall.SIGTERM, 20*time.Second); err != nil {
			log.Warn("stop Temporal", "error", err)
		}
		pidFile.Remove()
		_ = logFile.Close() // the server is stopped; its log is written by the child
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "temporal ready") {
				select {
				case ready <- line:
				default:
				}
			}
		}
	}()
	select {
	case <-proc.Done():
		stop()
		return nil, "", fmt.Errorf("the Temporal server exited while starting (%v; port in use? see %s/temporal.log)", proc.Err(), stateDir)
	case line := <-ready:
		ui := ""
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "ui="); ok {
				ui = v
			}
		}
		log.Info("Temporal ready", "line", line)
		return stop, ui, nil
	case <-time.After(3 * time.Minute):
		stop()
		return nil, "", fmt.Errorf("the Temporal server did not start within 3 minutes; see %s/temporal.log", stateDir)
	case <-ctx.Done():
		stop()
		return nil, "", ctx.Err()
	}
}

// lockState takes the state directory for this process (flock, released by
// the kernel however the process ends), so that what runs on it and is not
// ours was left by an earlier run and may be stopped.
func lockState(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "dev.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close() // not locked: nothing written
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another voltflow dev runs on %s (or pass --state)", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock; the file stays empty
}

// stopStep runs one step of the shutdown with a deadline; a step that
// overruns is logged and left behind, so the steps after it still run.
func stopStep(log *slog.Logger, step string, deadline time.Duration, f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	t := time.NewTimer(deadline)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		overran(log, step, deadline)
	}
}

// overran logs a shutdown step that overran, with every goroutine's stack
// (where it is blocked) on stderr.
func overran(log *slog.Logger, step string, deadline time.Duration) {
	log.Error("shutdown step overran its deadline; going on without it (goroutines on stderr)", "step", step, "deadline", deadline)
	_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
}

// parts are the goroutines of voltflow dev (simulators, API and workers):
// the first to fail stops the others, and a stop names those that overrun.
type parts struct {
	g       *errgroup.Group
	ctx     context.Context
	mu      sync.Mutex
	running map[string]bool
}

func newParts(ctx context.Context) *parts {
	g, ctx := errgroup.WithContext(ctx)
	return &parts{g: g, ctx: ctx, running: map[string]bool{}}
}

// Go runs f as the part name.
func (p *parts) Go(name string, f func(context.Context) error) {
	p.mu.Lock()
	p.running[name] = true
	p.mu.Unlock()
	p.g.Go(func() error {
		defer func() {
			p.mu.Lock()
			delete(p.running, name)
			p.mu.Unlock()
		}()
		return f(p.ctx)
	})
}

// Wait returns the first error once every part has returned, or once the
// parts have had deadline to stop after the stop began.
func (p *parts) Wait(log *slog.Logger, deadline time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- p.g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-p.ctx.Done():
	}
	t := time.NewTimer(deadline)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		p.mu.Lock()
		left := slices.Sorted(maps.Keys(p.running))
		p.mu.Unlock()
		overran(log, "stop "+strings.Join(left, ", "), deadline)
		return context.Cause(p.ctx)
	}
}

// gatewayRange is how the banner shows n gateways from addr.
func gatewayRange(addr string, n int) string {
	host, port, err := net.SplitHostPort(addr)
	first, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		return addr
	}
	return fmt.Sprintf("%s:%d-%d", host, first, first+n-1)
}

// demoPace fits the alarms to the demo meters' accelerated clock: alarm SMS
// go out at any hour, so the outbox fills while you watch (an operator can
// change the project's policy).
func demoPace(ctx context.Context, db *store.DB, projectID string) error {
	_, err := db.Exec(ctx, `insert into alarm_policies(project_id, quiet_start, quiet_end) values($1, 0, 0)
		on conflict do nothing`, projectID)
	if err != nil {
		return fmt.Errorf("demo alarm policy: %w", err)
	}
	return nil
}
