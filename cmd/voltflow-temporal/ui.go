package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// startUI serves the Temporal Web UI (assets embedded in the ui-server module)
// and its /api/v1 proxy to the frontend. It returns once the UI answers, and a
// function that stops it.
func startUI(ctx context.Context, o *options) (stop func(), err error) {
	addr := hostPort(o.ip, o.uiPort)

	// ui-server's Start exits the whole process (echo Logger.Fatal) when it
	// cannot listen, so find out first and fail with a normal error.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ui port: %w", err)
	}
	_ = l.Close()

	srv := uiserver.NewServer(server_options.WithConfigProvider(&uiconfig.Config{
		Host:                o.ip,
		Port:                o.uiPort,
		TemporalGRPCAddress: hostPort(o.ip, o.frontendPort),
		EnableUI:            true,
		DefaultNamespace:    o.namespace,
		// Plain http on localhost: the CSRF cookie must not be Secure-only.
		CORS: uiconfig.CORS{CookieInsecure: true},
		// Otherwise echo prints its banner and an access log to stdout,
		// which must carry only the ready line.
		HideLogs: true,
		// Keep the browser from fetching release news from the internet.
		DisableNewsFetch: true,
	}))

	done := make(chan error, 1)
	go func() { done <- srv.Start() }()
	stop = func() {
		srv.Stop()
		<-done
		slog.Info("ui stopped")
	}

	// Wait until the UI really serves, so the ready line can be trusted.
	healthz := fmt.Sprintf("http://%s/healthz", addr)
	hc := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = poll(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthz, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", healthz, resp.Status)
		}
		return nil
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("wait for ui on %s: %w", addr, err)
	}
	return stop, nil
}
