package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/voltflow/voltflow/activities/centralsystem"
	chargercmdacts "github.com/voltflow/voltflow/activities/chargercmd"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// OCPP central system settings (environment):
//
//	VOLTFLOW_OCPP_ADDR       127.0.0.1:8887 (contracts.md); "off" runs none
//	VOLTFLOW_OCPP_HEARTBEAT  60s, the heartbeat interval told to chargers
//	VOLTFLOW_OCPP_GRACE      30s, silence beyond the interval before a charger is offline
//	VOLTFLOW_YKC_ADDR        127.0.0.1:8767 (contracts.md), the YKC (云快充) server; "off" runs none
//	VOLTFLOW_YKC_HEARTBEAT   10s, the YKC heartbeat period chargers keep (specification default)
//	VOLTFLOW_YKC_GRACE       20s, silence beyond it before a YKC charger is offline
type ocppConfig struct {
	Addr              string
	HeartbeatInterval time.Duration
	Grace             time.Duration
	YKC               centralsystem.YKCConfig
}

func loadOCPPConfig() (ocppConfig, error) {
	c := ocppConfig{Addr: envOr("VOLTFLOW_OCPP_ADDR", "127.0.0.1:8887")}
	var err error
	if c.HeartbeatInterval, err = time.ParseDuration(envOr("VOLTFLOW_OCPP_HEARTBEAT", "60s")); err != nil || c.HeartbeatInterval < time.Second {
		return c, fmt.Errorf("VOLTFLOW_OCPP_HEARTBEAT %q: want a duration of at least 1s", os.Getenv("VOLTFLOW_OCPP_HEARTBEAT"))
	}
	if c.Grace, err = time.ParseDuration(envOr("VOLTFLOW_OCPP_GRACE", "30s")); err != nil || c.Grace <= 0 {
		return c, fmt.Errorf("VOLTFLOW_OCPP_GRACE %q: want a positive duration", os.Getenv("VOLTFLOW_OCPP_GRACE"))
	}
	c.YKC.Addr = envOr("VOLTFLOW_YKC_ADDR", "127.0.0.1:8767")
	if c.YKC.HeartbeatInterval, err = time.ParseDuration(envOr("VOLTFLOW_YKC_HEARTBEAT", "10s")); err != nil || c.YKC.HeartbeatInterval < time.Second {
		return c, fmt.Errorf("VOLTFLOW_YKC_HEARTBEAT %q: want a duration of at least 1s", os.Getenv("VOLTFLOW_YKC_HEARTBEAT"))
	}
	if c.YKC.Grace, err = time.ParseDuration(envOr("VOLTFLOW_YKC_GRACE", "20s")); err != nil || c.YKC.Grace <= 0 {
		return c, fmt.Errorf("VOLTFLOW_YKC_GRACE %q: want a positive duration", os.Getenv("VOLTFLOW_YKC_GRACE"))
	}
	return c, nil
}

// startOCPP runs the OCPP 1.6J central system with the device message log.
// Status changes are recorded with their regulator push (group commit,
// push.Starter.ChangeStatus); the regulator pump sends it. The returned
// func stops it; a nil server means VOLTFLOW_OCPP_ADDR=off.
// With VOLTFLOW_YKC_ADDR not off, the YKC server runs on the same adapter,
// and the commander returned routes each command by the charger's protocol.
func startOCPP(ctx context.Context, log *slog.Logger, db *store.DB, starter *push.Starter, hooks centralsystem.Hooks) (chargercmdacts.Commander, func(), error) {
	cfg, err := loadOCPPConfig()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Addr == "off" {
		return nil, func() {}, nil
	}
	log = log.With("component", "ocpp")
	var status centralsystem.StatusRecorder
	var statuses centralsystem.StatusesRecorder
	if starter != nil {
		statuses = func(ctx context.Context, changes []push.StatusChange) error {
			chs, err := starter.ChangeStatuses(ctx, db, push.DefaultRegulator, changes)
			if err == nil {
				return nil
			}
			for _, ch := range chs {
				if ch.PushID == 0 {
					return err
				}
			}
			log.Warn("ocpp: regulator pump not started (it sends the pushes once it runs)", "changes", len(changes), "error", err)
			return nil
		}
		status = func(ctx context.Context, info registry.ConnectorStatusInfo, at time.Time) error {
			return statuses(ctx, []push.StatusChange{{Info: info, At: at}})
		}
	}
	if starter != nil {
		// A charger fault is a regulator alarm (notification_alarmInfo within
		// 5 s); a failed signal is caught by the push workflow's sweep.
		hooks.Fault = append(hooks.Fault, func(ctx context.Context, ev centralsystem.FaultEvent) {
			if _, err := starter.Alarm(ctx, db, push.DefaultRegulator, regulatorAlarm(ev), ev.At); err != nil {
				log.Warn("ocpp: regulator alarm not recorded", "chargePoint", ev.ChargePointID, "code", ev.Alarm.Code, "error", err)
			}
		})
	}
	var yc *centralsystem.YKCConfig
	if cfg.YKC.Addr != "off" {
		yc = &cfg.YKC
		yc.Log = log.With("protocol", "ykc")
		if starter != nil {
			// BMS samples for the regulator (query_bms_info, notification_bmsInfo).
			yc.BMS = func(ctx context.Context, connectorID string, b registry.BmsInfo, at time.Time) error {
				ch, err := starter.BMS(ctx, db, push.DefaultRegulator, connectorID, b, at)
				if err != nil && ch.PushID != 0 {
					log.Warn("ykc: regulator pump not started (it sends the BMS push once it runs)", "connector", connectorID, "error", err)
					return nil
				}
				return err
			}
		}
	}
	srv, ys, stop, err := centralsystem.StartChargerServers(ctx, db, centralsystem.CentralConfig{Addr: cfg.Addr,
		HeartbeatInterval: cfg.HeartbeatInterval, Grace: cfg.Grace, Status: status, Statuses: statuses, Hooks: hooks, Log: log,
		YKC: yc})
	if err != nil {
		return nil, nil, err
	}
	log.Info("OCPP central system listening", "url", srv.URL()+"<chargePointId>",
		"heartbeat", cfg.HeartbeatInterval, "grace", cfg.Grace)
	if ys != nil {
		log.Info("YKC server listening", "addr", ys.Addr().String(), "heartbeat", cfg.YKC.HeartbeatInterval, "grace", cfg.YKC.Grace)
	}
	return ykc.Router{Server: srv, YKC: ys}, stop, nil
}

// regulatorAlarm is a charger fault episode's edge as the regulator's
// AlarmInfo (table 19); the push fills in station and type from the code.
func regulatorAlarm(ev centralsystem.FaultEvent) registry.AlarmInfo {
	a := registry.AlarmInfo{EquipmentID: ev.ChargePointID, AlarmCode: ev.Alarm.Code, AlarmType: ev.Alarm.Type,
		AlarmLevel: ev.Alarm.Level, AlarmStatus: 1, NoteString: ev.OCPPCode}
	if ev.Recovered {
		a.AlarmStatus = 0
	}
	if ev.Connector > 0 {
		a.ConnectorID = centralsystem.ConnectorID(ev.ChargePointID, ev.Connector)
	}
	return a
}
