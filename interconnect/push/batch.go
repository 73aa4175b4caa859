package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// StatusChange is one connector status change to record.
type StatusChange struct {
	Info registry.ConnectorStatusInfo
	At   time.Time
}

// RecordStatusChanges records many status changes with their pushes in one
// transaction of one statement (what RecordStatusChange does for one):
// each change's history row and outbox row, in the order given, and every
// connector's newest status. It fails as a whole (e.g. an unknown
// connector); the Changes are in the order given.
func RecordStatusChanges(ctx context.Context, db *store.DB, regulator string, changes []StatusChange) ([]Change, error) {
	infos := make([][]byte, len(changes))
	ats := make([]time.Time, len(changes))
	for i, c := range changes {
		if !registry.ValidStatus(c.Info.Status) {
			return nil, fmt.Errorf("connector %s: status %d is not in table 8", c.Info.ConnectorID, c.Info.Status)
		}
		raw, err := json.Marshal(c.Info)
		if err != nil {
			return nil, err
		}
		infos[i], ats[i] = raw, c.At
	}
	out := make([]Change, 0, len(changes))
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		out = out[:0]
		// History ids, and so push ids, follow the order given: a
		// connector's pushes are sent in id order.
		rows, err := tx.Query(ctx, `with t as (
				select i, at, ord from unnest($1::jsonb[], $2::timestamptz[]) with ordinality as t(i, at, ord)
			), h as (
				insert into connector_status_history (connector_id, info, changed_at)
				select i->>'ConnectorID', i, at from t order by ord
				returning id, connector_id, info, changed_at
			), s as (
				insert into connector_status (connector_id, status, park_status, lock_status, current_a, current_b,
					current_c, voltage_a, voltage_b, voltage_c, soc, connector_temp, equipment_temp, connector_lock,
					charge_electricity, discharge_electricity, changed_at)
				select distinct on (i->>'ConnectorID') i->>'ConnectorID', (i->>'Status')::int, (i->>'ParkStatus')::int,
					(i->>'LockStatus')::int, (i->>'CurrentA')::int, (i->>'CurrentB')::int, (i->>'CurrentC')::int,
					(i->>'VoltageA')::int, (i->>'VoltageB')::int, (i->>'VoltageC')::int, (i->>'SOC')::int,
					(i->>'ConnectorTemp')::int, (i->>'EquipmentTemp')::int, (i->>'ConnectorLock')::int,
					(i->>'ChargeElectricity')::numeric, (i->>'DischargeElectricity')::numeric, at
				from t order by i->>'ConnectorID', ord desc
				`+registry.StatusUpsert+`
			)
			insert into regulator_pushes (regulator, interface, station_id, connector_id, event_key, payload, due_at)
			select $3, $4, e.station_id, h.connector_id, 'status/' || h.id, jsonb_build_object('ConnectorStatusInfo', h.info), h.changed_at
			from h join charging_connectors c using (connector_id) join charging_equipment e using (equipment_id)
			order by h.id
			returning id, connector_id, station_id::text, event_key, due_at`, infos, ats, regulator, NotificationStationStatus)
		if err != nil {
			return err
		}
		for rows.Next() {
			var ch Change
			var key string
			if err := rows.Scan(&ch.PushID, &ch.ConnectorID, &ch.StationID, &key, &ch.At); err != nil {
				return err
			}
			if ch.HistoryID, err = strconv.ParseInt(strings.TrimPrefix(key, "status/"), 10, 64); err != nil {
				return err
			}
			out = append(out, ch)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) != len(changes) {
			return fmt.Errorf("%d of %d changes recorded", len(out), len(changes))
		}
		for i, ch := range out {
			if ch.ConnectorID != changes[i].Info.ConnectorID || (i > 0 && ch.PushID <= out[i-1].PushID) {
				return fmt.Errorf("change %d recorded out of order", i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record %d status changes: %w", len(changes), err)
	}
	return out, nil
}

// RecordStatusChangesEach records changes as RecordStatusChanges does, in
// one transaction, and when that fails as a whole (an unknown connector)
// one by one with RecordStatusChange, in the order given, so only the bad
// ones fail: a failed change's Change is zero and its error is in the
// joined error.
func RecordStatusChangesEach(ctx context.Context, db *store.DB, regulator string, changes []StatusChange) ([]Change, error) {
	out, errs := recordEach(ctx, db, regulator, changes)
	return out, joinErrors(errs)
}

// recordEach is RecordStatusChangesEach with each change's error apart.
func recordEach(ctx context.Context, db *store.DB, regulator string, changes []StatusChange) ([]Change, []error) {
	errs := make([]error, len(changes))
	out, err := RecordStatusChanges(ctx, db, regulator, changes)
	if err == nil {
		return out, errs
	}
	out = make([]Change, len(changes))
	for i, c := range changes {
		out[i], errs[i] = RecordStatusChange(ctx, db, regulator, c.Info, c.At)
	}
	return out, errs
}

// joinErrors is nil, the one error, or all of them joined.
func joinErrors(errs []error) error {
	var bad []error
	for _, err := range errs {
		if err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) == 1 {
		return bad[0]
	}
	return errors.Join(bad...)
}

// Batcher records status changes with group commit: concurrent callers'
// changes go into the database together, in one transaction per batch
// (RecordStatusChanges), so the cost per change falls as the rate rises.
// Each caller still returns only after its changes and their pushes are
// committed. A batch that fails as a whole (one unknown connector) is
// recorded change by change, so only the bad ones fail. The zero value
// (with DB and Regulator set) is ready; safe for concurrent use.
type Batcher struct {
	DB        *store.DB
	Regulator string
	// Max bounds a batch (default 500); one caller's group larger than
	// that is a batch of its own.
	Max int

	mu      sync.Mutex
	queue   []*batched
	leading bool
}

// batched is one caller's group of changes, kept together in one batch.
type batched struct {
	changes []StatusChange
	out     []Change
	errs    []error
	turn    chan bool // true: lead the next batches; false: done
}

// RecordAll records a group of changes, in the order given, in one batch
// (one transaction unless it fails as a whole): a charge point's
// connectors going offline together cost one commit, not one each. A
// failed change's Change is zero and its error is in the joined error;
// the others are recorded.
func (b *Batcher) RecordAll(ctx context.Context, changes []StatusChange) ([]Change, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	r := &batched{changes: changes, turn: make(chan bool, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead && !<-r.turn {
		return r.out, joinErrors(r.errs)
	}
	// Lead: write batches until our own changes are in, then hand the lead
	// to the oldest waiting caller, so no caller serves others for long.
	// The write is not cancelled with one caller's ctx: others wait on it.
	wctx := context.WithoutCancel(ctx)
	for {
		b.mu.Lock()
		limit := b.Max
		if limit <= 0 {
			limit = 500
		}
		n, size := 0, 0
		for n < len(b.queue) && (n == 0 || size+len(b.queue[n].changes) <= limit) {
			size += len(b.queue[n].changes)
			n++
		}
		batch := append([]*batched(nil), b.queue[:n]...)
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.write(wctx, batch, size)
		mine := false
		for _, x := range batch {
			if x == r {
				mine = true
			} else {
				x.turn <- false
			}
		}
		if mine {
			break
		}
	}
	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].turn <- true
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	return r.out, joinErrors(r.errs)
}

// write records batch (size changes in all), falling back to one
// transaction per change when the batch fails as a whole.
func (b *Batcher) write(ctx context.Context, batch []*batched, size int) {
	changes := make([]StatusChange, 0, size)
	for _, x := range batch {
		changes = append(changes, x.changes...)
	}
	out, errs := recordEach(ctx, b.DB, b.Regulator, changes)
	for _, x := range batch {
		n := len(x.changes)
		x.out, x.errs = out[:n:n], errs[:n:n]
		out, errs = out[n:], errs[n:]
	}
}
