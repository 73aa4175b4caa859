package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// config is what every subcommand reads from the environment.
type config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	HTTPAddr          string
	DispatchWindow    time.Duration
	UpdateTimeout     time.Duration
	SweepInterval     time.Duration // between scheduled sweeps of a project
	// SafetySpeed is how much faster than real time the meters' world runs
	// (simulated meters on an accelerated clock): a safety trip's 3 minutes
	// off shrink by it. 1 (real time) unless VOLTFLOW_SAFETY_SPEED says.
	SafetySpeed float64
	// DeviceSlots is how many device activities (sweep batches, batch
	// commands) the devices worker runs at once: VOLTFLOW_DEVICE_SLOTS,
	// default 256. The interactive lane has slots of its own.
	DeviceSlots int
	// PaymentQueryAfter is how long a payment waits for its callback
	// before asking the provider (VOLTFLOW_PAYMENT_QUERY_AFTER, default 1m).
	PaymentQueryAfter time.Duration
	// ArchiveDir holds the reading archive's monthly files
	// (VOLTFLOW_ARCHIVE_DIR; `voltflow dev` defaults it under its state
	// directory). Empty: archiving fails with a message saying so.
	ArchiveDir string
}

func loadConfig() (config, error) {
	c := config{
		DatabaseURL:       os.Getenv("DATABASE_URL"),
		TemporalAddress:   envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: envOr("TEMPORAL_NAMESPACE", "default"),
		HTTPAddr:          envOr("VOLTFLOW_HTTP_ADDR", "127.0.0.1:8080"),
		ArchiveDir:        os.Getenv("VOLTFLOW_ARCHIVE_DIR"),
	}
	var err error
	if c.DispatchWindow, err = time.ParseDuration(envOr("VOLTFLOW_DISPATCH_WINDOW", "10m")); err != nil {
		return c, fmt.Errorf("VOLTFLOW_DISPATCH_WINDOW: %w", err)
	}
	if c.UpdateTimeout, err = time.ParseDuration(envOr("VOLTFLOW_UPDATE_TIMEOUT", "10s")); err != nil {
		return c, fmt.Errorf("VOLTFLOW_UPDATE_TIMEOUT: %w", err)
	}
	if c.SweepInterval, err = time.ParseDuration(envOr("VOLTFLOW_SWEEP_INTERVAL", "30m")); err != nil || c.SweepInterval <= 0 {
		return c, fmt.Errorf("VOLTFLOW_SWEEP_INTERVAL %q: want a positive duration (%v)", os.Getenv("VOLTFLOW_SWEEP_INTERVAL"), err)
	}
	if c.SafetySpeed, err = strconv.ParseFloat(envOr("VOLTFLOW_SAFETY_SPEED", "1"), 64); err != nil || c.SafetySpeed < 1 {
		return c, fmt.Errorf("VOLTFLOW_SAFETY_SPEED %q: want a number ≥ 1 (%v)", os.Getenv("VOLTFLOW_SAFETY_SPEED"), err)
	}
	if c.DeviceSlots, err = strconv.Atoi(envOr("VOLTFLOW_DEVICE_SLOTS", "256")); err != nil || c.DeviceSlots < 1 {
		return c, fmt.Errorf("VOLTFLOW_DEVICE_SLOTS %q: want a whole number ≥ 1 (%v)", os.Getenv("VOLTFLOW_DEVICE_SLOTS"), err)
	}
	if c.PaymentQueryAfter, err = time.ParseDuration(envOr("VOLTFLOW_PAYMENT_QUERY_AFTER", "1m")); err != nil {
		return c, fmt.Errorf("VOLTFLOW_PAYMENT_QUERY_AFTER: %w", err)
	}
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// dialTemporal connects, retrying for a while: in `make run` the server may
// still be starting.
func dialTemporal(ctx context.Context, log *slog.Logger, c config) (client.Client, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		cl, err := client.DialContext(ctx, client.Options{
			HostPort: c.TemporalAddress, Namespace: c.TemporalNamespace,
			Logger: sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		})
		if err == nil {
			return cl, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("connect to Temporal at %s: %w", c.TemporalAddress, err)
		}
		log.Info("waiting for Temporal", "address", c.TemporalAddress, "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
