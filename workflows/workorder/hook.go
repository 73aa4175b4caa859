package workorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/charging"
	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/workflows/names"
)

// Hook opens and signals work orders from what the central system tells:
// fault episodes (already de-duplicated in charger_faults) and failed
// sessions. It runs on the charger's message path, so it only signals;
// the failed-session counts live in memory (a restart starts them again).
type Hook struct {
	Client client.Client
	Log    *slog.Logger
	Config workorderdom.Config

	mu       sync.Mutex
	sessions workorderdom.Sessions
}

// NewHook makes the hook.
func NewHook(tc client.Client, log *slog.Logger, cfg workorderdom.Config) *Hook {
	return &Hook{Client: tc, Log: log, Config: cfg, sessions: workorderdom.Sessions{Threshold: cfg.FailedSessions}}
}

// Fault takes a fault episode opening or recovering.
func (h *Hook) Fault(ctx context.Context, ev charging.FaultEvent) {
	key := workorderdom.FaultKey(ev.Alarm.Code)
	f := Fault{FaultID: ev.FaultID, Recovered: ev.Recovered, OCPPCode: ev.OCPPCode, AlarmCode: ev.Alarm.Code, Info: ev.Info, At: ev.At}
	var err error
	if ev.Recovered {
		err = h.signal(ctx, ev.ChargePointID, ev.Connector, key, f)
	} else {
		title := fmt.Sprintf("%s connector %d: %s (%s, alarm %d)", ev.ChargePointID, ev.Connector, ev.Alarm.Description,
			ev.OCPPCode, ev.Alarm.Code)
		if ev.Connector == 0 {
			title = fmt.Sprintf("%s: %s (%s, alarm %d)", ev.ChargePointID, ev.Alarm.Description, ev.OCPPCode, ev.Alarm.Code)
		}
		err = h.start(ctx, ev.ChargePointID, ev.Connector, key, workorderdom.SourceFault, title, f)
	}
	if err != nil {
		h.Log.Error("work order hook", "chargePoint", ev.ChargePointID, "connector", ev.Connector, "fault", key, "error", err)
	}
}

// Transaction counts failed sessions per connector.
func (h *Hook) Transaction(ctx context.Context, ev charging.TxEvent) {
	if h.Config.FailedSessions <= 0 {
		return
	}
	conn := ev.ChargePointID + "/" + strconv.Itoa(ev.Connector)
	h.mu.Lock()
	var out workorderdom.Outcome
	switch ev.Kind {
	case charging.TxStarted:
		out = h.sessions.Started(conn, ev.TransactionID, ev.MeterWh, ev.Authorized)
	case charging.TxStopped:
		out = h.sessions.Stopped(conn, ev.TransactionID, ev.MeterWh)
	}
	h.mu.Unlock()
	var err error
	switch out {
	case workorderdom.Failing:
		title := fmt.Sprintf("%s connector %d: %d failed sessions in a row (refused or no energy)", ev.ChargePointID,
			ev.Connector, h.Config.FailedSessions)
		err = h.start(ctx, ev.ChargePointID, ev.Connector, workorderdom.FailedSessionsKey, workorderdom.SourceFailedSessions, title,
			Fault{OCPPCode: "FailedSessions", At: ev.At})
	case workorderdom.Recovered:
		err = h.signal(ctx, ev.ChargePointID, ev.Connector, workorderdom.FailedSessionsKey, Fault{Recovered: true, At: ev.At})
	}
	if err != nil {
		h.Log.Error("work order hook", "chargePoint", ev.ChargePointID, "connector", ev.Connector, "error", err)
	}
}

func (h *Hook) start(ctx context.Context, cp string, connector int, key, source, title string, f Fault) error {
	id := workorderdom.WorkflowID(cp, connector, key)
	_, err := h.Client.SignalWithStartWorkflow(ctx, id, SignalFault, f,
		client.StartWorkflowOptions{ID: id, TaskQueue: names.MainQueue,
			TypedSearchAttributes: names.Attributes("", Kind, cp, workorderdom.Open)},
		KindWorkflow, Input{ChargePointID: cp, Connector: connector, FaultKey: key, Source: source, Title: title,
			Policy: h.Config.Policy})
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// signal tells a running order; none running is fine (closed already).
func (h *Hook) signal(ctx context.Context, cp string, connector int, key string, f Fault) error {
	id := workorderdom.WorkflowID(cp, connector, key)
	err := h.Client.SignalWorkflow(ctx, id, "", SignalFault, f)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("signal %s: %w", id, err)
	}
	return nil
}
