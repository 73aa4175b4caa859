package centralsystem

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/domain/charging"
	"github.com/voltflow/voltflow/interconnect/push"
)

// The events live in domain/charging, so workflows and their hooks use
// them without importing this package.
type (
	TxKind     = charging.TxKind
	TxEvent    = charging.TxEvent
	FaultEvent = charging.FaultEvent
)

// Transaction events.
const (
	TxStarted = charging.TxStarted
	TxMeter   = charging.TxMeter
	TxStopped = charging.TxStopped
)

// Hooks are told of events after they are stored. They run on the
// charger's message path, so they must be quick (a Temporal signal) and
// handle their own errors; what they miss stays in PostgreSQL.
type Hooks struct {
	Transaction []func(context.Context, TxEvent)
	Fault       []func(context.Context, FaultEvent)
}

func (s *Service) emitTx(ctx context.Context, ev TxEvent) {
	switch ev.Kind {
	case TxStarted:
		s.regulatorEvent(ctx, chargefault.SessionStarted, chargefault.Alarm{}, ev.ChargePointID, ev.Connector, ev.At)
	case TxStopped:
		s.regulatorEvent(ctx, chargefault.SessionStopped, chargefault.Alarm{}, ev.ChargePointID, ev.Connector, ev.At)
	}
	for _, h := range s.Hooks.Transaction {
		h(ctx, ev)
	}
}

func (s *Service) emitFault(ctx context.Context, ev FaultEvent) {
	kind := chargefault.FaultRaised
	if ev.Recovered {
		kind = chargefault.FaultRecovered
	}
	s.regulatorEvent(ctx, kind, ev.Alarm, ev.ChargePointID, ev.Connector, ev.At)
	for _, h := range s.Hooks.Fault {
		h(ctx, ev)
	}
}

// regulatorEvent records the regulator's notification_eventInfo of an
// operating event in the outbox (the pump, woken by the insert, sends
// it). A failure is logged: the charger's message is answered regardless,
// and the fault or transaction itself is stored.
func (s *Service) regulatorEvent(ctx context.Context, kind chargefault.EventKind, a chargefault.Alarm, chargePointID string, connector int, at time.Time) {
	cid := ""
	if connector > 0 {
		cid = ConnectorID(chargePointID, connector)
	}
	if _, err := push.RecordOperatingEvent(ctx, s.DB, push.DefaultRegulator, kind, a, chargePointID, cid, at); err != nil {
		s.log().Warn("ocpp: regulator event not recorded", "chargePoint", chargePointID, "connector", connector, "kind", kind, "error", err)
	}
}

// openFault records a fault episode unless the same one is already open
// (a charger repeats its StatusNotification) and tells the hooks of a new one.
func (s *Service) openFault(ctx context.Context, id string, connector int, ocppCode, vendor, info string, a chargefault.Alarm, at time.Time) error {
	var faultID int64
	err := s.DB.QueryRow(ctx, `insert into charger_faults (equipment_id, connector_no, ocpp_code, vendor_code, info,
		alarm_code, alarm_type, alarm_level, started_at) values ($1,$2,$3,nullif($4,''),nullif($5,''),$6,$7,$8,$9)
		on conflict (equipment_id, connector_no, alarm_code) where recovered_at is null do nothing returning id`,
		id, connector, ocppCode, vendor, info, a.Code, a.Type, a.Level, at).Scan(&faultID)
	if err == pgx.ErrNoRows {
		return nil // already open
	}
	if err != nil {
		return fmt.Errorf("fault of %s/%d: %w", id, connector, err)
	}
	s.emitFault(ctx, FaultEvent{FaultID: faultID, ChargePointID: id, Connector: connector, OCPPCode: ocppCode,
		VendorCode: vendor, Info: info, Alarm: a, At: at})
	return nil
}

// recoverFaults closes the connector's open episodes (all codes, or only
// the given one when code > 0) and tells the hooks.
func (s *Service) recoverFaults(ctx context.Context, id string, connector, code int, at time.Time) error {
	rows, err := s.DB.Query(ctx, `update charger_faults set recovered_at=greatest($4, started_at)
		where equipment_id=$1 and connector_no=$2 and recovered_at is null and ($3 = 0 or alarm_code=$3)
		returning id, ocpp_code, coalesce(vendor_code,''), coalesce(info,''), alarm_code, alarm_type, alarm_level, recovered_at`,
		id, connector, code, at)
	if err != nil {
		return fmt.Errorf("recover faults of %s/%d: %w", id, connector, err)
	}
	var evs []FaultEvent
	for rows.Next() {
		ev := FaultEvent{ChargePointID: id, Connector: connector, Recovered: true}
		if err := rows.Scan(&ev.FaultID, &ev.OCPPCode, &ev.VendorCode, &ev.Info, &ev.Alarm.Code, &ev.Alarm.Type,
			&ev.Alarm.Level, &ev.At); err != nil {
			rows.Close()
			return err
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("recover faults of %s/%d: %w", id, connector, err)
	}
	for _, ev := range evs {
		s.emitFault(ctx, ev)
	}
	return nil
}

// statusFault opens or closes fault episodes from a StatusNotification.
func (s *Service) statusFault(ctx context.Context, id string, connector int, errorCode, vendor, info string, at time.Time) error {
	a, faulty := chargefault.FromStatus(errorCode, vendor)
	if !faulty {
		return s.recoverFaults(ctx, id, connector, 0, at)
	}
	return s.openFault(ctx, id, connector, errorCode, vendor, info, a, at)
}
