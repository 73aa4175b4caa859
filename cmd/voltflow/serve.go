package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/api"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows"
	"github.com/voltflow/voltflow/workflows/names"
)

// runServe runs the API, the worker, or both, until ctx ends.
func runServe(ctx context.Context, log *slog.Logger, args []string, withAPI, withWorker bool) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	queues := fs.String("queues", "main,devices", "task queues this worker polls: main, devices")
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
	if withWorker {
		gateways := &meters.Gateways{Timeout: 2 * time.Second, Log: log}
		defer gateways.Close()
		var workers []worker.Worker
		if slices.Contains(queues, "main") {
			w := worker.New(tc, names.MainQueue, worker.Options{})
			workflows.RegisterMain(w, db)
			workers = append(workers, w)
		}
		if slices.Contains(queues, "devices") {
			w := worker.New(tc, names.DevicesQueue, worker.Options{MaxConcurrentActivityExecutionSize: 256})
			workflows.RegisterDevices(w, db, gateways)
			workers = append(workers, w)
		}
		if len(workers) == 0 {
			return fmt.Errorf("no known task queue in %v (want main, devices)", queues)
		}
		for _, w := range workers {
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			defer w.Stop()
		}
		log.Info("worker started", "queues", queues)
	}
	if withAPI {
		srv := &http.Server{Addr: cfg.HTTPAddr, ReadHeaderTimeout: 10 * time.Second, Handler: api.New(api.Config{
			DB: db, Temporal: tc, Log: log, UpdateTimeout: cfg.UpdateTimeout, DispatchWindow: cfg.DispatchWindow,
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
