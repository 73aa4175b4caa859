// Package push delivers our reports to the regulator (DB4403/T 77-2020
// "充电运营商平台主动上报"): notification_stationStatus at once on every
// connector status change and periodically at the regulator's cadence,
// and station info, BMS, alarms and events.
//
// Every push is first a row in regulator_pushes (the outbox, written in the
// same transaction as the status change), so nothing is lost when the
// regulator is down: the pump (pump.go, one per regulator, supervised by
// the regulator-pump/<regulator> workflow) retries the row until the
// regulator takes it (Status 0) or drops it (Status 1), and
// supplement_collect answers from the same rows later.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
)

// Interface names we push (table 23).
const (
	NotificationStationStatus = "notification_stationStatus"
)

// DefaultRegulator names the credentials and pushes of the one regulator
// we talk to (the Shenzhen platform).
const DefaultRegulator = "shenzhen"

// Push row statuses.
const (
	StatusPending  = "pending"
	StatusSent     = "sent"
	StatusDropped  = "dropped"  // the regulator answered Status 1
	StatusRejected = "rejected" // 4001/4003/4004: retrying cannot help
)

// StatusPayload is the Data of notification_stationStatus (table 33).
type StatusPayload struct {
	ConnectorStatusInfo registry.ConnectorStatusInfo `json:"ConnectorStatusInfo"`
}

// Change is a recorded status change and the push it owes.
type Change struct {
	registry.Change
	PushID      int64
	ConnectorID string
}

// RecordStatusChange sets the connector's status and writes the push it owes
// to the regulator, in one transaction: a change is never recorded without
// its push.
func RecordStatusChange(ctx context.Context, db *store.DB, regulator string, info registry.ConnectorStatusInfo, at time.Time) (Change, error) {
	out := Change{ConnectorID: info.ConnectorID}
	payload, err := json.Marshal(StatusPayload{ConnectorStatusInfo: info})
	if err != nil {
		return Change{}, err
	}
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		ch, err := registry.SetConnectorStatusTx(ctx, tx, info, at)
		if err != nil {
			return err
		}
		out.Change = ch
		return tx.QueryRow(ctx, `insert into regulator_pushes (regulator, interface, station_id, connector_id, event_key,
			payload, due_at) values ($1,$2,$3,$4,$5,$6,$7) returning id`,
			regulator, NotificationStationStatus, ch.StationID, info.ConnectorID, fmt.Sprintf("status/%d", ch.HistoryID),
			payload, at).Scan(&out.PushID)
	})
	if err != nil {
		return Change{}, fmt.Errorf("record status change of %s: %w", info.ConnectorID, err)
	}
	return out, nil
}

// Activities run on the interconnect queue.
type Activities struct {
	DB        *store.DB
	Client    *regclient.Client
	Regulator string
	// OperatorID keys regulator_settings (the cadence the regulator set);
	// empty means the OperatorID of the client's credentials.
	OperatorID string
	// Clock is the time source; the zero Clock is the real clock.
	Clock clock.Clock
}

// PeriodicInput is one periodic status report of a station.
type PeriodicInput struct {
	StationID string    `json:"stationId"`
	At        time.Time `json:"at"` // the tick, used as due time and idempotency key
	// OrphanAge: pending status pushes older than this are returned as
	// orphans (their signal may have been lost).
	OrphanAge time.Duration `json:"orphanAge"`
}

// Pending is a queued push of a connector.
type Pending struct {
	PushID      int64  `json:"pushId"`
	ConnectorID string `json:"connectorId"`
}

// PeriodicResult tells the workflow the cadence to keep and any orphans.
type PeriodicResult struct {
	FrequencySeconds int       `json:"frequencySeconds"` // 0: none configured
	Sent             int       `json:"sent"`
	Failed           int       `json:"failed"`
	Orphans          []Pending `json:"orphans,omitempty"`
}

// sendConcurrency bounds the periodic fan-out per station.
const sendConcurrency = 8

// PushStationStatus records the current status of every connector of the
// station as due at in.At and pushes each once. Failures are not retried:
// the next tick supersedes them, and the rows stay pending as history for
// supplement_collect. (The legacy per-station workflow's tick; the pump
// does the same for many stations at once.)
func (a *Activities) PushStationStatus(ctx context.Context, in PeriodicInput) (PeriodicResult, error) {
	var res PeriodicResult
	rows, err := a.snapshot(ctx, []string{in.StationID}, in.At)
	if err != nil {
		return res, err
	}
	outcome, failed, err := a.sendAll(ctx, rows, sendConcurrency)
	if err != nil {
		return res, err
	}
	res.Sent, res.Failed = len(outcome), failed
	for _, s := range outcome {
		if s == StatusRejected {
			res.Sent--
			res.Failed++
		}
	}
	if res.FrequencySeconds, err = a.frequency(ctx); err != nil {
		return res, err
	}
	chs, err := a.stationInfoOwed(ctx, []string{in.StationID}, in.At)
	if err != nil {
		return res, err
	}
	for _, ch := range chs {
		res.Orphans = append(res.Orphans, Pending{PushID: ch.PushID, ConnectorID: ch.ConnectorID})
	}
	if in.OrphanAge > 0 {
		// Every retried push (not the periodic ones) with its lane.
		r, err := a.DB.Query(ctx, `select id, lane
			from regulator_pushes
			where status='pending' and station_id=$1 and due_at < $2 and event_key not like 'periodic%'
			order by id limit 500`, in.StationID, a.Clock.Now().Add(-in.OrphanAge))
		if err != nil {
			return res, fmt.Errorf("find orphaned pushes: %w", err)
		}
		if res.Orphans, err = pgx.CollectRows(r, pgx.RowToStructByPos[Pending]); err != nil {
			return res, fmt.Errorf("find orphaned pushes: %w", err)
		}
	}
	return res, nil
}

// snapshot records the periodic report of stations as due at — every
// connector's status and, while it charges, its newest BMS sample — and
// returns the rows still to send. Every row of the tick is written by one
// set-based statement: at 6,000 connectors on a 5 s cadence a statement
// per connector is 1,200 inserts a second.
func (a *Activities) snapshot(ctx context.Context, stations []string, at time.Time) ([]outgoing, error) {
	infos, err := registry.StationStatus(ctx, a.DB, stations)
	if err != nil {
		return nil, err
	}
	var ifaces, sts, conns, keys []string
	var payloads [][]byte
	add := func(iface, st, conn, key string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		ifaces, sts, conns, keys, payloads = append(ifaces, iface), append(sts, st), append(conns, conn), append(keys, key), append(payloads, raw)
		return nil
	}
	for _, st := range infos {
		for _, c := range st.ConnectorStatusInfos {
			if err := add(NotificationStationStatus, st.StationID, c.ConnectorID, fmt.Sprintf("periodic/%d/%s", at.Unix(), c.ConnectorID),
				StatusPayload{ConnectorStatusInfo: c}); err != nil {
				return nil, err
			}
		}
	}
	// While a connector charges, its newest BMS sample goes out at the same
	// cadence (notification_bmsInfo, §8.6), as history for supplement_bmsInfo.
	bms, err := a.DB.Query(ctx, `select distinct on (b.connector_id) b.station_id::text, b.connector_id, b.info->'BmsInfo'
		from regulator_bms b join connector_status s on s.connector_id = b.connector_id and s.status = $2
		where b.station_id = any($1) order by b.connector_id, b.fresh_time desc, b.id desc`, stations, registry.StatusCharging)
	if err != nil {
		return nil, fmt.Errorf("charging connectors: %w", err)
	}
	type sample struct { // exported fields: pgx fills only those
		Station string
		Conn    string
		Info    json.RawMessage
	}
	samples, err := pgx.CollectRows(bms, pgx.RowToStructByPos[sample])
	if err != nil {
		return nil, fmt.Errorf("charging connectors: %w", err)
	}
	for _, b := range samples {
		if err := add(NotificationBmsInfo, b.Station, b.Conn, fmt.Sprintf("periodic-bms/%d/%s", at.Unix(), b.Conn),
			map[string]any{"ConnectorID": b.Conn, "Status": registry.StatusCharging, "BmsInfo": b.Info}); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	// attempts + 1 here too: every row of the tick is sent (a retried
	// tick's rows already final are not returned as pending).
	r, err := a.DB.Query(ctx, `insert into regulator_pushes as p (regulator, interface, station_id, connector_id, event_key,
			payload, due_at, attempts)
		select $1, i, s, c, k, pl, $2, 1 from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) as t(i, s, c, k, pl)
		on conflict (regulator, interface, event_key) do update set attempts = p.attempts + 1
		returning id, interface, payload, status`,
		a.Regulator, at, ifaces, sts, conns, keys, payloads)
	if err != nil {
		return nil, fmt.Errorf("record periodic pushes: %w", err)
	}
	type rec struct {
		ID      int64
		Iface   string
		Payload json.RawMessage
		Status  string
	}
	recs, err := pgx.CollectRows(r, pgx.RowToStructByPos[rec])
	if err != nil {
		return nil, fmt.Errorf("record periodic pushes: %w", err)
	}
	var rows []outgoing
	for _, x := range recs {
		if x.Status == StatusPending {
			rows = append(rows, outgoing{id: x.ID, iface: x.Iface, payload: x.Payload})
		}
	}
	return rows, nil
}

// frequency is the cadence the regulator set through query_frequency, in
// seconds (0: none).
func (a *Activities) frequency(ctx context.Context) (int, error) {
	op := a.OperatorID
	if op == "" {
		op, _ = a.Client.OperatorID(ctx)
	}
	if op == "" {
		return 0, nil
	}
	var s int
	err := a.DB.QueryRow(ctx, `select push_frequency_s from regulator_settings where operator_id=$1`, op).Scan(&s)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("load push frequency: %w", err)
	}
	return s, nil
}

// stationInfoOwed records the notification_stationInfo pages owed by those
// of stations whose registry rows changed since their last station info
// push (as of at), so any writer of the registry tables triggers it.
func (a *Activities) stationInfoOwed(ctx context.Context, stations []string, at time.Time) ([]Change, error) {
	r, err := a.DB.Query(ctx, `select s.station_id::text from charging_stations s
		where s.station_id = any($1) and greatest(s.updated_at,
			(select max(e.updated_at) from charging_equipment e where e.station_id = s.station_id),
			(select max(c.updated_at) from charging_connectors c join charging_equipment e using (equipment_id)
				where e.station_id = s.station_id))
		> coalesce((select max(due_at) from regulator_pushes p where p.regulator = $2 and p.interface = $3
			and p.station_id = s.station_id), '-infinity')`, stations, a.Regulator, NotificationStationInfo)
	if err != nil {
		return nil, fmt.Errorf("station info owed: %w", err)
	}
	owed, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("station info owed: %w", err)
	}
	var out []Change
	for _, st := range owed {
		chs, err := RecordStationInfo(ctx, a.DB, a.Regulator, st, at)
		if err != nil {
			return out, err
		}
		out = append(out, chs...)
	}
	return out, nil
}

// outgoing is a pending row to send.
type outgoing struct {
	id      int64
	iface   string
	payload json.RawMessage
}

// sendAll posts rows with at most conc calls at a time and records the
// outcomes set-based: one update for the taken rows, one for the dropped.
// It returns each final status (sent, dropped, rejected) and how many
// failed retryably (those stay pending with their error noted).
func (a *Activities) sendAll(ctx context.Context, rows []outgoing, conc int) (map[int64]string, int, error) {
	out := make(map[int64]string, len(rows))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var sent, dropped []int64
	failed := 0
	sem := make(chan struct{}, conc)
	for _, r := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var ans struct{ Status int }
			err := a.Client.Call(ctx, r.iface, r.payload, &ans)
			switch {
			case err == nil:
				mu.Lock()
				if ans.Status == 1 {
					dropped = append(dropped, r.id)
					out[r.id] = StatusDropped
				} else {
					sent = append(sent, r.id)
					out[r.id] = StatusSent
				}
				mu.Unlock()
			case errors.Is(err, regclient.ErrRejected):
				_, _ = a.DB.Exec(ctx, `update regulator_pushes set status='rejected', last_error=$2 where id=$1`, r.id, err.Error())
				mu.Lock()
				out[r.id] = StatusRejected
				mu.Unlock()
			default:
				_, _ = a.DB.Exec(ctx, `update regulator_pushes set last_error=$2 where id=$1`, r.id, err.Error())
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	now := a.Clock.Now()
	for _, g := range []struct {
		status string
		ids    []int64
	}{{StatusSent, sent}, {StatusDropped, dropped}} {
		if len(g.ids) == 0 {
			continue
		}
		if _, err := a.DB.Exec(ctx, `update regulator_pushes set status=$2, sent_at=$3, last_error=null where id = any($1)`,
			g.ids, g.status, now); err != nil {
			return out, failed, fmt.Errorf("mark %d pushes %s: %w", len(g.ids), g.status, err)
		}
	}
	return out, failed, nil
}
