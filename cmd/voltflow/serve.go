package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/interconnect"
	"github.com/voltflow/voltflow/payproviders/alipay"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows"
	alarmwf "github.com/voltflow/voltflow/workflows/alarm"
	allowancewf "github.com/voltflow/voltflow/workflows/allowance"
	archivewf "github.com/voltflow/voltflow/workflows/archive"
	feewf "github.com/voltflow/voltflow/workflows/fee"
	"github.com/voltflow/voltflow/workflows/names"
	platformbillingwf "github.com/voltflow/voltflow/workflows/platformbilling"
	safetywf "github.com/voltflow/voltflow/workflows/safety"
	settlementwf "github.com/voltflow/voltflow/workflows/settlement"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// interactiveOptions are the interactive lane's workers': few tasks, each
// waited for, so more pollers than the default two keep one always waiting.
func interactiveOptions() worker.Options {
	return worker.Options{MaxConcurrentActivityExecutionSize: 64,
		MaxConcurrentActivityTaskPollers: 4, MaxConcurrentWorkflowTaskPollers: 4}
}

// runServe runs the API, the worker, or both, until ctx ends.
func runServe(ctx context.Context, log *slog.Logger, args []string, withAPI, withWorker bool) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	queues := fs.String("queues", "main,devices,interconnect", "task queues this worker polls: main, devices, interconnect")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set (voltflow dev sets it up for you)")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if isProduction(log, os.Getenv) {
		if err := refuseUnready(ctx, log, db, os.Getenv); err != nil {
			return err
		}
	}
	tc, err := dialTemporal(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	return serve(ctx, log, cfg, db, tc, withAPI, withWorker, strings.Split(*queues, ","))
}

// serve is shared by `serve`, `api`, `worker` and `dev`.
func serve(ctx context.Context, log *slog.Logger, cfg config, db *store.DB, tc client.Client, withAPI, withWorker bool, queues []string) error {
	g, ctx := errgroup.WithContext(ctx)
	regulator, err := interconnect.FromEnv(ctx, db, tc, log)
	if err != nil {
		return err
	}
	wechat, err := wechatpay.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ali, err := alipay.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if withAPI && withWorker {
		// The OCPP central system runs in the all-in-one process (serve,
		// dev) only: one process owns the port and the connections, and
		// polls the chargers' task queue for the commands sent over them.
		cs, stopOCPP, err := startOCPP(ctx, log, db, regulator.Starter, workflows.ChargerHooks(tc, log))
		if err != nil {
			return err
		}
		defer stopOCPP()
		if cs != nil {
			w := worker.New(tc, names.ChargersQueue, worker.Options{})
			workflows.RegisterChargers(w, db, cs)
			if err := w.Start(); err != nil {
				return fmt.Errorf("start chargers worker: %w", err)
			}
			defer w.Stop()
		}
	}
	if withWorker {
		gateways := &metersacts.Gateways{Timeout: 2 * time.Second, Log: log}
		defer gateways.Close()
		var workers []worker.Worker
		if slices.Contains(queues, "main") {
			texts, err := smsActivities(db)
			if err != nil {
				return err
			}
			scanner, mail := &alarmwf.Scanner{Client: tc, DB: db, Log: log}, mailProvider(log)
			register := func(w worker.Worker) {
				workflows.RegisterMain(w, db)
				workflows.RegisterAlarms(w, db, texts)
				workflows.RegisterAlarmConditions(w, scanner)
				workflows.RegisterCredit(w, db, mail)
				workflows.RegisterPayments(w, db, wechat, ali)
				workflows.RegisterArchive(w, db, cfg.ArchiveDir)
			}
			w := worker.New(tc, names.MainQueue, worker.Options{})
			register(w)
			// The interactive lane (single meter commands, sales): the same
			// registrations on a queue of its own, so their workflow tasks
			// and database activities never wait behind a sweep's or a
			// batch's on the main queue.
			iw := worker.New(tc, names.InteractiveQueue, interactiveOptions())
			register(iw)
			workers = append(workers, w, iw)
		}
		if slices.Contains(queues, "devices") {
			hooks := workflows.DeviceHooks{
				Alarms: &alarmwf.Observer{Client: tc, DB: db, Log: log},
				Safety: &safetywf.Observer{Client: tc, DB: db, Log: log, Speed: cfg.SafetySpeed},
				Billing: &platformbillingacts.Activities{DB: db, Log: log,
					Switch: &platformbillingwf.Starter{Client: tc, DispatchWindow: cfg.DispatchWindow}},
			}
			w := worker.New(tc, names.DevicesQueue, worker.Options{MaxConcurrentActivityExecutionSize: cfg.DeviceSlots})
			workflows.RegisterDevicesWithHooks(w, db, gateways, hooks)
			// The interactive lane's device activities: slots and pollers of
			// their own (a sweep's batches and a batch command's 32 sends
			// fill the devices queue, served first come, first served), and
			// the same gateway connections, where they go first.
			iw := worker.New(tc, names.InteractiveDevicesQueue, interactiveOptions())
			workflows.RegisterInteractiveDevices(iw, db, gateways, hooks)
			workers = append(workers, w, iw)
		}
		if slices.Contains(queues, "interconnect") {
			// More pollers than the default 2: pushes are many small tasks and
			// poll latency dominated push latency in tests/regulator.
			w := worker.New(tc, names.InterconnectQueue, worker.Options{
				MaxConcurrentActivityTaskPollers: 8, MaxConcurrentWorkflowTaskPollers: 8})
			workflows.RegisterInterconnect(w, regulator.Activities)
			workers = append(workers, w)
		}
		if len(workers) == 0 {
			return fmt.Errorf("no known task queue in %v (want main, devices, interconnect)", queues)
		}
		for _, w := range workers {
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			defer w.Stop()
		}
		log.Info("worker started", "queues", queues)
		if slices.Contains(queues, "interconnect") {
			if err := regulator.Starter.EnsureRunning(ctx, db); err != nil {
				log.Warn("start regulator push workflows", "error", err)
			}
		}
		if slices.Contains(queues, "main") {
			if err := sweepwf.EnsureSchedules(ctx, tc, db, cfg.SweepInterval, log); err != nil {
				return err
			}
			if err := alarmwf.EnsureScanSchedules(ctx, tc, db, 0, log); err != nil {
				return err
			}
			if err := feewf.EnsureSchedules(ctx, tc, db, log); err != nil {
				return err
			}
			if err := settlementwf.EnsureSchedules(ctx, tc, db, log); err != nil {
				return err
			}
			if err := allowancewf.EnsureSchedules(ctx, tc, db, log); err != nil {
				return err
			}
			if err := archivewf.EnsureSchedules(ctx, tc, db, log); err != nil {
				return err
			}
		}
	}
	if withAPI {
		srv := &http.Server{Addr: cfg.HTTPAddr, ReadHeaderTimeout: 10 * time.Second, Handler: api.New(api.Config{
			DB: db, Temporal: tc, Log: log, UpdateTimeout: cfg.UpdateTimeout, DispatchWindow: cfg.DispatchWindow,
			SweepInterval: cfg.SweepInterval,
			Regulator:     regulator.Handler, RegulatorKeys: regulator.Keys,
			WeChatPay: wechat, Alipay: ali, PaymentQueryAfter: cfg.PaymentQueryAfter,
		})}
		g.Go(func() error {
			log.Info("API listening", "url", "http://"+cfg.HTTPAddr)
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("API: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	g.Go(func() error { <-ctx.Done(); return nil })
	return g.Wait()
}
