// Command voltflow-temporal runs an embedded Temporal server (PostgreSQL
// persistence) plus the Temporal Web UI, for local development and
// end-to-end tests.
//
// When everything is ready it prints exactly one line to stdout:
//
//	temporal ready frontend=<ip:port> ui=http://<ip>:<uiport>
//
// All logs go to stderr, so scripts can wait for that line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	tlog "go.temporal.io/server/common/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// options holds the command-line configuration.
type options struct {
	pgHost           string
	pgPort           int
	pgUser           string
	pgPassword       string
	db               string
	visibilityDB     string
	ip               string
	frontendPort     int
	portBase         int
	uiPort           int
	namespace        string
	searchAttributes []string
	logLevel         string
	historyShards    int
}

// envPrefix lets every flag be set from the environment, e.g. --pg-host from
// VOLTFLOW_TEMPORAL_PG_HOST; an explicit flag still wins.
const envPrefix = "VOLTFLOW_TEMPORAL_"

func parseFlags(args []string) (*options, error) {
	o := &options{}
	var searchAttributes string
	fs := flag.NewFlagSet("voltflow-temporal", flag.ContinueOnError)
	fs.StringVar(&o.pgHost, "pg-host", "127.0.0.1", "PostgreSQL host")
	fs.IntVar(&o.pgPort, "pg-port", 25432, "PostgreSQL port")
	fs.StringVar(&o.pgUser, "pg-user", "postgres", "PostgreSQL user (needs CREATEDB to create the databases)")
	fs.StringVar(&o.pgPassword, "pg-password", "", "PostgreSQL password")
	fs.StringVar(&o.db, "db", "temporal", "database for Temporal's main store")
	fs.StringVar(&o.visibilityDB, "visibility-db", "temporal_visibility", "database for Temporal's visibility store")
	fs.StringVar(&o.ip, "ip", "127.0.0.1", "address every service binds to and advertises")
	fs.IntVar(&o.frontendPort, "frontend-port", 7233, "frontend gRPC port (what SDK clients dial)")
	fs.IntVar(&o.portBase, "port-base", 7234, fmt.Sprintf("first of %d consecutive ports for the internal services and the frontend HTTP API", portSpan))
	fs.IntVar(&o.uiPort, "ui-port", 8233, "Web UI port; 0 disables the UI")
	fs.StringVar(&o.namespace, "namespace", "default", "namespace to register")
	fs.StringVar(&searchAttributes, "search-attributes", "VoltflowProject,VoltflowKind,VoltflowSubject,VoltflowStatus", "comma-separated custom search attributes to register as Keyword")
	fs.StringVar(&o.logLevel, "log-level", "warn", "server log level: debug, info, warn, error")
	fs.IntVar(&o.historyShards, "history-shards", 4, "number of history shards; only used when the database is first initialised (the server keeps the stored value)")

	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of voltflow-temporal (every flag can also be set as %sFLAG_NAME):\n", envPrefix)
		fs.PrintDefaults()
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("env %s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, sa := range strings.Split(searchAttributes, ",") {
		if sa = strings.TrimSpace(sa); sa != "" {
			o.searchAttributes = append(o.searchAttributes, sa)
		}
	}
	if o.historyShards < 1 {
		return nil, fmt.Errorf("--history-shards must be at least 1")
	}
	if o.namespace == "" {
		return nil, fmt.Errorf("--namespace must not be empty")
	}
	if _, err := o.ports(); err != nil {
		return nil, err
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "voltflow-temporal:", err)
		os.Exit(2)
	}

	// One zap logger (stderr, requested level) for the server; our own slog
	// messages go through it too so both share format and level.
	// Stack traces only from DPanic up: the server logs some benign errors
	// while shards are acquired, and a trace each drowns the useful lines.
	zl := tlog.BuildZapLogger(tlog.Config{Level: o.logLevel, Format: "console"}).
		WithOptions(zap.AddStacktrace(zapcore.DPanicLevel))
	logger := tlog.NewZapLogger(zl)
	slog.SetDefault(tlog.NewSlogLogger(logger))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, o, logger); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Interrupted while starting up: that is a requested stop, not a failure.
			slog.Info("interrupted during startup")
			return
		}
		slog.Error("voltflow-temporal failed", "error", err)
		stop()
		os.Exit(1)
	}
}

// run starts everything, prints the ready line and blocks until ctx ends.
func run(ctx context.Context, o *options, logger tlog.Logger) error {
	start := time.Now()
	if err := setupSchemas(o, logger); err != nil {
		return err
	}

	srv, err := startServer(o, logger)
	if err != nil {
		return err
	}
	defer func() {
		// Each service gets its own stop timeout inside the server.
		if err := srv.Stop(); err != nil {
			slog.Warn("stopping temporal server", "error", err)
		}
		slog.Info("temporal server stopped")
	}()

	if err := prepareNamespace(ctx, o); err != nil {
		return err
	}

	uiURL := "disabled"
	if o.uiPort != 0 {
		stopUI, err := startUI(ctx, o)
		if err != nil {
			return err
		}
		defer stopUI()
		uiURL = fmt.Sprintf("http://%s", hostPort(o.ip, o.uiPort))
	}

	slog.Info("temporal ready", "elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Printf("temporal ready frontend=%s ui=%s\n", hostPort(o.ip, o.frontendPort), uiURL)

	<-ctx.Done()
	slog.Info("shutting down")
	return nil
}
