// Command voltflow is the Voltflow platform: one binary, one subcommand per role.
//
//	voltflow dev        the whole platform on embedded defaults (make run)
//	voltflow serve      API and worker in one process
//	voltflow api        HTTP API only
//	voltflow worker     Temporal worker only
//	voltflow migrate    database migrations and Temporal search attributes
//	voltflow demo       load the demo data into an empty database
//	voltflow admin create  the first platform administrator (password on stdin)
//	voltflow regulator credentials set|show  the regulator's credentials (secrets on stdin)
//	voltflow sim meters meter gateway simulators
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile := cpuProfile(log)
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "dev":
		err = runDev(ctx, log, args)
	case "serve":
		err = runServe(ctx, log, args, true, true)
	case "api":
		err = runServe(ctx, log, args, true, false)
	case "worker":
		err = runServe(ctx, log, args, false, true)
	case "migrate":
		err = runMigrate(ctx, log, args)
	case "demo":
		err = runDemo(ctx, log, args)
	case "admin":
		err = runAdmin(ctx, log, args, os.Stdin)
	case "regulator":
		err = runRegulator(ctx, log, args, os.Stdin, os.Stdout)
	case "sim":
		if len(args) > 0 && args[0] == "chargers" {
			err = runSimChargers(ctx, log, args[1:])
			break
		}
		err = runSim(ctx, log, args)
	case "help", "-h", "--help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	stopProfile()
	if err != nil {
		log.Error("voltflow "+os.Args[1]+" failed", "error", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: voltflow <command> [flags]

commands:
  dev          the whole platform on embedded defaults (PostgreSQL, Temporal + UI, simulators, demo)
  serve        API and worker in one process
  api          HTTP API only
  worker       Temporal worker only (--queues main,devices)
  migrate      apply database migrations, register Temporal search attributes
  demo         load the demo data into an empty database
  admin create --username U [--password-file F]
               create a platform administrator (password from the file or standard input)
  regulator credentials set --operator-id X [--regulator R] [--secrets-file F] [--overlap 24h]
               install the regulator's credentials (secrets as JSON or four lines on stdin or in the file)
  regulator credentials show [--regulator R]
               the installed credentials as fingerprints
  sim meters   run meter gateway simulators
  sim regulator  run the regulator simulator (DB4403/T 77-2020) on :9400
  sim aircon     run a simulated central AC controller (ref-aircon-v1) on :15030 (--units N)
  sim pay        run the payment provider simulator (WeChat Pay API v3) on :9500
  sim chargers   run simulated OCPP 1.6J charge points (--count N, --provision; --protocol ykc for YKC chargers)

Configuration comes from the environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
VOLTFLOW_HTTP_ADDR (127.0.0.1:8080), VOLTFLOW_DISPATCH_WINDOW (10m), VOLTFLOW_LOG_LEVEL (info),
VOLTFLOW_SWEEP_INTERVAL (30m, between scheduled meter sweeps), VOLTFLOW_SAFETY_SPEED (1; a safety
trip keeps a meter off 3 minutes divided by it, for meters on an accelerated clock),
VOLTFLOW_ENV=production (the production switch: readiness check at start, no demo data;
VOLTFLOW_PRODUCTION=1 is its deprecated spelling), VOLTFLOW_ALLOW_OUTBOX=1 (keep SMS and mail in
the local outbox in production on purpose).`)
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("VOLTFLOW_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
