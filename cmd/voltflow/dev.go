package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/activities/charging"
	"github.com/voltflow/voltflow/activities/ledger"
	"github.com/voltflow/voltflow/devices/simulator"
	domledger "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/localpg"
)

// runDev is `make run`: the whole platform on embedded defaults. State lives
// under .voltflow/, so a second start keeps every account and workflow.
func runDev(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	stateDir := fs.String("state", ".voltflow", "directory for the local cluster's data and logs")
	temporalBin := fs.String("temporal-bin", ".voltflow/bin/voltflow-temporal", "the embedded Temporal server (make builds it)")
	pgPort := fs.Int("pg-port", 25432, "port of the local PostgreSQL cluster")
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
	if os.Getenv("VOLTFLOW_SWEEP_INTERVAL") == "" {
		cfg.SweepInterval = 15 * time.Second // demo meters run on an accelerated clock: catch every alarm stage
	}
	if err := os.MkdirAll(*stateDir, 0o755); err != nil {
		return err
	}

	if cfg.DatabaseURL == "" {
		cluster, err := localpg.Start(ctx, filepath.Join(*stateDir, "pg"), *pgPort)
		if err != nil {
			return err
		}
		defer func() {
			log.Info("stopping PostgreSQL")
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error("stop PostgreSQL", "error", err)
			}
		}()
		if err := cluster.CreateDB(ctx, "voltflow"); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL("voltflow")
		log.Info("PostgreSQL ready", "url", cfg.DatabaseURL)
	}
	uiURL := "(external cluster)"
	if os.Getenv("TEMPORAL_ADDRESS") == "" {
		stopTemporal, ui, err := startTemporal(ctx, log, *temporalBin, *stateDir, *pgPort)
		if err != nil {
			return err
		}
		defer stopTemporal()
		uiURL = ui
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.Migrate(ctx, db, log); err != nil {
		return err
	}
	tc, err := dialTemporal(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := registerSearchAttributes(ctx, tc, cfg.TemporalNamespace); err != nil {
		return err
	}
	demoOpts := demo.Defaults()
	// Opt-in only: contracts.md has every demo meter meter-side with 50.00
	// in the meter; VOLTFLOW_DEMO_PLATFORM_METER=M0128 on a fresh state
	// makes that one platform-side (主站费控), billed by each sweep.
	demoOpts.PlatformMeter = os.Getenv("VOLTFLOW_DEMO_PLATFORM_METER")
	demoOpts.BookTx = func(ctx context.Context, tx pgx.Tx, projectID string, e domledger.Entry) error {
		_, err := ledger.BookTx(ctx, tx, projectID, e)
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
	if err := charging.LoadDemo(ctx, db, loaded.ProjectID); err != nil {
		return fmt.Errorf("charging demo chargers and card: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	if !*noSim {
		simCfg, _ := meterSimFlags(nil)
		simCfg.Logger = log.With("component", "meter-sim")
		simCfg.StatePath = filepath.Join(*stateDir, "meters.json")
		g.Go(func() error { return simulator.Run(gctx, simCfg) })
		g.Go(func() error { return runRegulatorSim(gctx, log.With("component", "regulator-sim"), nil) })
		g.Go(func() error { return runSimChargers(gctx, log, nil) }) // charger …0001; …0002 stays free
	}
	g.Go(func() error {
		return serve(gctx, log, cfg, db, tc, true, true, []string{"main", "devices", "interconnect"})
	})
	fmt.Printf(`
Voltflow is running (Ctrl-C stops everything; state stays in %s/)

  API            http://%s/api/v1   (OpenAPI: /api/v1/openapi.json, /healthz, /readyz, /metrics)
  Temporal UI    %s
  Temporal gRPC  %s  namespace %s
  PostgreSQL     %s
  Meter gateways 127.0.0.1:15020-15023 (Modbus TCP, ref-prepaid-v1, 32 meters each: M0001-M0128)
  OCPP 1.6J      ws://127.0.0.1:8887/ocpp/<chargePointId> (basic auth <id>:demo-secret; 4403000000000000000002 is free; card D0000001)

  Logins (dev only): admin/admin  cashier/cashier  approver/approver

`, *stateDir, cfg.HTTPAddr, uiURL, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.DatabaseURL)
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// startTemporal runs the embedded Temporal server as a child process and waits
// for its ready line; the returned func stops it.
func startTemporal(ctx context.Context, log *slog.Logger, bin, stateDir string, pgPort int) (func(), string, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, "", fmt.Errorf("embedded Temporal server %s not built (make build builds it from its own module, cmd/voltflow-temporal): %w", bin, err)
	}
	logFile, err := os.OpenFile(filepath.Join(stateDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, "", err
	}
	// Not CommandContext: on Ctrl-C we send SIGTERM and wait, not SIGKILL.
	cmd := exec.Command(bin, "--pg-port", fmt.Sprint(pgPort))
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // our Ctrl-C is not its Ctrl-C
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() {
		log.Info("stopping Temporal")
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		logFile.Close()
	}
	ready := make(chan string, 1)
	exited := make(chan struct{}) // stdout closed: the server is gone
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "temporal ready") {
				ready <- line
			}
		}
	}()
	select {
	case <-exited:
		stop()
		return nil, "", fmt.Errorf("the Temporal server exited while starting (port in use? see %s/temporal.log)", stateDir)
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
