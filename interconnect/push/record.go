package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// More interface names we push (table 23).
const (
	NotificationStationInfo = "notification_stationInfo"
	NotificationBmsInfo     = "notification_bmsInfo"
	NotificationAlarmInfo   = "notification_alarmInfo"
	NotificationEventInfo   = "notification_eventInfo"
)

// Lanes order the pushes of a station that are not connector statuses:
// each lane goes out in order, independently of the others (a connector's
// status pushes use the connector id as lane). In SQL a row's lane is the
// generated column regulator_pushes.lane (migration 0026).
const (
	LaneAlarm       = "alarm"
	LaneEvent       = "event"
	LaneStationInfo = "station-info"
	laneBmsPrefix   = "bms/"
)

// BmsLane is the lane of one connector's BMS pushes.
func BmsLane(connectorID string) string { return laneBmsPrefix + connectorID }

// MaxEquipmentPerMessage bounds one notification_stationInfo (the
// regulator's limit of 100 equipment per message).
const MaxEquipmentPerMessage = 100

// AlarmPayload is the Data of notification_alarmInfo (table 54).
type AlarmPayload struct {
	AlarmInfos []registry.AlarmInfo `json:"AlarmInfos"`
}

// EventPayload is the Data of notification_eventInfo (table 60; the table
// names the field EventInfo, its type and example a list EventInfos — we
// send the table's name with a list, as one element arrays).
type EventPayload struct {
	EventInfo []registry.EventInfo `json:"EventInfo"`
}

// StationInfoPayload is the Data of notification_stationInfo (table 27).
type StationInfoPayload struct {
	StationInfo registry.StationInfo `json:"StationInfo"`
}

// outbox writes one push row inside tx and returns the Change to signal.
func outbox(ctx context.Context, tx pgx.Tx, regulator, iface, stationID, connectorID, lane, key string, payload any, at time.Time) (Change, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Change: registry.Change{StationID: stationID, At: at}, ConnectorID: lane}
	var conn *string
	if connectorID != "" {
		conn = &connectorID
	}
	err = tx.QueryRow(ctx, `insert into regulator_pushes (regulator, interface, station_id, connector_id, event_key,
		payload, due_at) values ($1,$2,$3,$4,$5,$6,$7)
		on conflict (regulator, interface, event_key) do update set attempts = regulator_pushes.attempts
		returning id`, regulator, iface, stationID, conn, key, raw, at).Scan(&ch.PushID)
	if err != nil {
		return Change{}, fmt.Errorf("record %s push: %w", iface, err)
	}
	return ch, nil
}

// RecordAlarm records an alarm raised or cleared at at and the
// notification_alarmInfo it owes, in one transaction. Only ConnectorID (or
// EquipmentID for equipment-wide alarms), AlarmStatus, AlarmCode and the
// optional NoteString/BmsInfo are needed: the station fields, type and
// level (appendix B) and AlarmTime are filled in. Signal the returned
// Change with Starter.Notify (or use Starter.Alarm).
func RecordAlarm(ctx context.Context, db *store.DB, regulator string, a registry.AlarmInfo, at time.Time) (Change, error) {
	typ, level, ok := registry.AlarmClass(a.AlarmCode)
	if !ok {
		return Change{}, fmt.Errorf("alarm code %d is not in appendix B", a.AlarmCode)
	}
	if a.AlarmStatus != registry.AlarmRaised && a.AlarmStatus != registry.AlarmCleared {
		return Change{}, fmt.Errorf("alarm status %d: want 1 (raised) or 0 (cleared)", a.AlarmStatus)
	}
	if len([]rune(a.NoteString)) > 255 {
		return Change{}, fmt.Errorf("alarm note longer than 255 characters")
	}
	a.AlarmType, a.AlarmLevel, a.AlarmTime = typ, level, registry.FormatTime(at)
	var out Change
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		station := ""
		switch {
		case a.ConnectorID != "":
			station, a.EquipmentID, err = registry.ConnectorPlace(ctx, tx, a.ConnectorID)
		case a.EquipmentID != "":
			err = tx.QueryRow(ctx, `select station_id from charging_equipment where equipment_id=$1`, a.EquipmentID).Scan(&station)
		default:
			err = fmt.Errorf("an alarm needs a ConnectorID or EquipmentID")
		}
		if err != nil {
			return err
		}
		h, err := registry.Head(ctx, tx, station)
		if err != nil {
			return err
		}
		a.StationID, a.OperatorID, a.EquipmentOwnerID, a.StationName = h.StationID, h.OperatorID, h.EquipmentOwnerID, h.StationName
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `insert into regulator_alarms (station_id, equipment_id, connector_id, alarm_time, info)
			values ($1,$2,$3,$4,$5) returning id`, a.StationID, a.EquipmentID, a.ConnectorID, at, raw).Scan(&id); err != nil {
			return fmt.Errorf("record alarm: %w", err)
		}
		out, err = outbox(ctx, tx, regulator, NotificationAlarmInfo, a.StationID, a.ConnectorID, LaneAlarm,
			fmt.Sprintf("alarm/%d", id), AlarmPayload{AlarmInfos: []registry.AlarmInfo{a}}, at)
		return err
	})
	if err != nil {
		return Change{}, fmt.Errorf("record alarm %d: %w", a.AlarmCode, err)
	}
	return out, nil
}

// RecordEvent records a station event (table 21) at at and the
// notification_eventInfo it owes. StationID and EventCode are needed; the
// station fields, EventType (from the code, appendix B.4) and EventTime are
// filled in.
func RecordEvent(ctx context.Context, db *store.DB, regulator string, e registry.EventInfo, at time.Time) (Change, error) {
	typ, ok := registry.EventClass(e.EventCode)
	if !ok {
		return Change{}, fmt.Errorf("event code %d is not in appendix B", e.EventCode)
	}
	e.EventType, e.EventTime = typ, registry.FormatTime(at)
	var out Change
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		h, err := registry.Head(ctx, tx, e.StationID)
		if err != nil {
			return err
		}
		e.OperatorID, e.EquipmentOwnerID, e.StationName = h.OperatorID, h.EquipmentOwnerID, h.StationName
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `insert into regulator_events (station_id, event_time, info) values ($1,$2,$3) returning id`,
			e.StationID, at, raw).Scan(&id); err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		out, err = outbox(ctx, tx, regulator, NotificationEventInfo, e.StationID, "", LaneEvent,
			fmt.Sprintf("event/%d", id), EventPayload{EventInfo: []registry.EventInfo{e}}, at)
		return err
	})
	if err != nil {
		return Change{}, fmt.Errorf("record event %d: %w", e.EventCode, err)
	}
	return out, nil
}

// RecordBMS is the BMS entry point for charger integrations (the YKC
// protocol's BMS frames): one call per sample, with Starter.BMS in a
// process with Temporal (it also makes sure the pump runs). It stores the
// sample for query_bms_info, supplement_collect (supplement_bmsInfo) and
// supplement_query_bms_intact, and owes notification_bmsInfo.
//
// RecordBMS records a BMS sample of a charging connector (table 20) taken
// at at, and the notification_bmsInfo it owes. The connector's current
// status goes with it; BmsInfo is sent only while it charges (table 45).
// The periodic report repeats the newest sample of every charging
// connector at the regulator's cadence.
func RecordBMS(ctx context.Context, db *store.DB, regulator, connectorID string, b registry.BmsInfo, at time.Time) (Change, error) {
	b.ConnectorID = connectorID
	b.FreshTime = registry.FormatTime(at)
	var start *time.Time
	if b.StartChargingTime != "" {
		t, err := registry.ParseTime(b.StartChargingTime)
		if err != nil {
			return Change{}, fmt.Errorf("StartChargingTime %q: %w", b.StartChargingTime, err)
		}
		start = &t
		b.ChargingSessionMin = int(at.Sub(t) / time.Second)
	}
	var out Change
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		station, _, err := registry.ConnectorPlace(ctx, tx, connectorID)
		if err != nil {
			return err
		}
		p := registry.ConnectorBms{ConnectorID: connectorID}
		if err := tx.QueryRow(ctx, `select coalesce((select status from connector_status where connector_id=$1), 0)`,
			connectorID).Scan(&p.Status); err != nil {
			return err
		}
		if p.Status == registry.StatusCharging {
			p.BmsInfo = &b
		}
		raw, err := json.Marshal(registry.ConnectorBms{ConnectorID: connectorID, Status: p.Status, BmsInfo: &b})
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `insert into regulator_bms (station_id, connector_id, start_charging_time, fresh_time, info)
			values ($1,$2,$3,$4,$5) returning id`, station, connectorID, start, at, raw).Scan(&id); err != nil {
			return fmt.Errorf("record bms: %w", err)
		}
		out, err = outbox(ctx, tx, regulator, NotificationBmsInfo, station, connectorID, BmsLane(connectorID),
			fmt.Sprintf("bms/%d", id), p, at)
		return err
	})
	if err != nil {
		return Change{}, fmt.Errorf("record bms of %s: %w", connectorID, err)
	}
	return out, nil
}

// StationInfoPages splits a station's info into messages of at most
// MaxEquipmentPerMessage equipment each (a station without equipment is
// one message).
func StationInfoPages(st registry.StationInfo) []registry.StationInfo {
	var pages []registry.StationInfo
	all := st.EquipmentInfos
	for i := 0; i == 0 || i < len(all); i += MaxEquipmentPerMessage {
		p := st
		p.EquipmentInfos = all[i:min(i+MaxEquipmentPerMessage, len(all))]
		pages = append(pages, p)
	}
	return pages
}

// RecordStationInfo records the notification_stationInfo messages a
// station owes after a change of its registry rows (as of at), paged by
// MaxEquipmentPerMessage. The periodic report calls it when the registry
// changed since the last one; callers that change the registry may call it
// (and Notify each Change) to push at once.
func RecordStationInfo(ctx context.Context, db *store.DB, regulator, stationID string, at time.Time) ([]Change, error) {
	st, err := registry.Stations(ctx, db, []string{stationID})
	if err != nil {
		return nil, err
	}
	var out []Change
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		out = out[:0]
		for i, p := range StationInfoPages(st[0]) {
			ch, err := outbox(ctx, tx, regulator, NotificationStationInfo, stationID, "", LaneStationInfo,
				fmt.Sprintf("stationinfo/%s/%d/%d", stationID, at.UnixNano(), i+1), StationInfoPayload{StationInfo: p}, at)
			if err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record station info of %s: %w", stationID, err)
	}
	return out, nil
}

// RecordOperatingEvent records an operating event of a charger (a session
// starting or stopping, a fault raised or recovered, operation paused or
// resumed) as the station's notification_eventInfo: the table B.4 code
// and note come from chargefault.EventCode, the station from the
// equipment. connectorID may be empty (the equipment as a whole).
func RecordOperatingEvent(ctx context.Context, db *store.DB, regulator string, kind chargefault.EventKind,
	a chargefault.Alarm, equipmentID, connectorID string, at time.Time) (Change, error) {
	where := equipmentID
	if connectorID != "" {
		where = connectorID
	}
	code, note := chargefault.EventCode(kind, a, where)
	if code == 0 {
		return Change{}, fmt.Errorf("event kind %d has no appendix B code", kind)
	}
	var station string
	if err := db.QueryRow(ctx, `select station_id from charging_equipment where equipment_id=$1`, equipmentID).Scan(&station); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Change{}, fmt.Errorf("equipment %q: %w", equipmentID, registry.ErrUnknown)
		}
		return Change{}, fmt.Errorf("station of %s: %w", equipmentID, err)
	}
	return RecordEvent(ctx, db, regulator, registry.EventInfo{StationID: station, EventCode: code, NoteString: note}, at)
}

// RecordStationEvent records a station-wide operating event (operation
// paused or resumed) as its notification_eventInfo.
func RecordStationEvent(ctx context.Context, db *store.DB, regulator string, kind chargefault.EventKind, stationID string, at time.Time) (Change, error) {
	code, note := chargefault.EventCode(kind, chargefault.Alarm{}, stationID)
	if code == 0 {
		return Change{}, fmt.Errorf("event kind %d has no appendix B code", kind)
	}
	return RecordEvent(ctx, db, regulator, registry.EventInfo{StationID: stationID, EventCode: code, NoteString: note}, at)
}
