package centralsystem

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/store"
)

// CentralConfig configures the OCPP central system of a process.
type CentralConfig struct {
	Addr              string // listen address (contracts.md: 127.0.0.1:8887)
	HeartbeatInterval time.Duration
	Grace             time.Duration
	Status            StatusRecorder   // nil: regulator outbox only
	Statuses          StatusesRecorder // a group of Status; nil: Status for each
	Hooks             Hooks
	Log               *slog.Logger
	// YKC, when set, runs the YKC server too (StartChargerServers), on the
	// same adapter and message log.
	YKC *YKCConfig
}

// StartCentralSystem runs the OCPP 1.6J central system answering from
// PostgreSQL with the device message log. Every charge point starts
// offline: nothing is connected to this process yet. stop closes the
// server, then the message log; call it before closing db.
func StartCentralSystem(ctx context.Context, db *store.DB, cfg CentralConfig) (srv *ocpp.Server, stop func(), err error) {
	cfg.YKC = nil
	srv, _, stop, err = StartChargerServers(ctx, db, cfg)
	return srv, stop, err
}

// StartChargerServers is StartCentralSystem plus, with cfg.YKC set, the YKC
// server on the same adapter and message log (nil otherwise).
func StartChargerServers(ctx context.Context, db *store.DB, cfg CentralConfig) (srv *ocpp.Server, ys *ykc.Server, stop func(), err error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := ResetPresence(ctx, db); err != nil {
		return nil, nil, nil, fmt.Errorf("ocpp: reset presence: %w", err)
	}
	svc := &Service{DB: db, Log: cfg.Log, Status: cfg.Status, Statuses: cfg.Statuses, Hooks: cfg.Hooks}
	msgs := NewMessageLog(ctx, db, cfg.Log)
	srv, err = ocpp.Listen(ctx, ocpp.Options{Addr: cfg.Addr, HeartbeatInterval: cfg.HeartbeatInterval, Grace: cfg.Grace,
		Handler: svc, Frames: msgs, Log: cfg.Log})
	if err != nil {
		msgs.Close()
		return nil, nil, nil, err
	}
	if cfg.YKC == nil {
		return srv, nil, func() { _ = srv.Close(); msgs.Close() }, nil
	}
	yc := *cfg.YKC
	if yc.Log == nil {
		yc.Log = cfg.Log.With("protocol", "ykc")
	}
	ys, stopYKC, err := StartYKC(ctx, db, svc, msgs, yc)
	if err != nil {
		_ = srv.Close()
		msgs.Close()
		return nil, nil, nil, err
	}
	return srv, ys, func() { stopYKC(); _ = srv.Close(); msgs.Close() }, nil
}
