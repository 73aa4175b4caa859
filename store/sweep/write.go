package sweep

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/store"
)

// LostAfter is how many consecutive failed reads make a meter lost (失联).
const LostAfter = 3

// Event kinds in device_events.
const (
	EventMeterLost   = "meter_lost_contact"
	EventGatewayLost = "gateway_lost_contact"
)

// Batch is what one write sends to PostgreSQL.
type Batch struct {
	Rows     []Row
	Failed   []Failure
	Gateways []Contact
}

// Empty reports a batch with nothing to write.
func (b *Batch) Empty() bool { return len(b.Rows) == 0 && len(b.Failed) == 0 && len(b.Gateways) == 0 }

// Row is one meter's answer.
type Row struct {
	Meter             uuid.UUID
	TakenAt           time.Time
	S                 modbus.Snapshot
	Alarmed, Platform bool // what the hooks after a write need to hear of
}

// Failure is a meter that did not answer.
type Failure struct {
	Meter uuid.UUID
	Err   string
}

// Contact is whether a gateway could be connected.
type Contact struct {
	GatewayID string
	Down      string // why the gateway could not be connected; "" if it could
	// NoPipeliningAt is when the client found the gateway dropping a
	// second request in flight; zero if it did not.
	NoPipeliningAt time.Time
}

var stageColumns = []string{"meter_id", "taken_at", "energy", "sharp", "peak", "flat", "valley", "voltage", "current",
	"power", "remaining", "purchase_count", "cumulative", "relay", "mode", "status"}

var readingColumns = []string{"meter_id", "read_at", "taken_at", "energy_kwh", "sharp_kwh", "peak_kwh", "flat_kwh",
	"valley_kwh", "voltage_v", "current_a", "power_kw", "remaining", "purchase_count", "relay", "mode", "status_flags"}

// Phases is where one write's time went.
type Phases struct{ Readings, State time.Duration }

// Write stores a batch in one transaction: the readings, the latest state,
// the contact counters and the events. The readings are COPied straight
// into the table; if one of them is already there (a zombie attempt of the
// same batch wrote it meanwhile), the transaction is redone through a
// staging table and INSERT … ON CONFLICT DO NOTHING, so nothing is written
// twice and nothing is lost.
func Write(ctx context.Context, db *store.DB, log *slog.Logger, at, now time.Time, b *Batch) (Phases, error) {
	var ph Phases
	err := WriteTx(ctx, db, at, now, b, false, &ph)
	if store.IsUniqueViolation(err) {
		log.Info("sweep write: readings already there, writing through the staging table", "at", at, "rows", len(b.Rows))
		ph = Phases{}
		err = WriteTx(ctx, db, at, now, b, true, &ph)
	}
	return ph, err
}

// WriteTx is one attempt of Write: straight COPY, or staged.
func WriteTx(ctx context.Context, db *store.DB, at, now time.Time, b *Batch, staged bool, ph *Phases) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if len(b.Rows) > 0 {
			t := time.Now()
			write := copyReadings
			if staged {
				write = stageReadings
			}
			if err := write(ctx, tx, at, b.Rows); err != nil {
				return err
			}
			if err := writeParameters(ctx, tx, at, b.Rows); err != nil {
				return err
			}
			ph.Readings = time.Since(t)
			t = time.Now()
			if err := writeState(ctx, tx, at, now, b.Rows); err != nil {
				return err
			}
			ph.State = time.Since(t)
		}
		if err := writeMeterContact(ctx, tx, at, now, b); err != nil {
			return err
		}
		return writeGatewayContact(ctx, tx, at, now, b.Gateways)
	})
}

// copyReadings COPies the rows into readings in PostgreSQL's binary
// format (copybin.go), encoded here: pgx's own binary COPY encodes each
// numeric through math/big, and the text format made the server parse
// every value. A reading already there is a unique violation that aborts
// the transaction.
func copyReadings(ctx context.Context, tx pgx.Tx, at time.Time, rows []Row) error {
	// About 190 bytes a row; growing a buffer of megabytes costs copies.
	buf := make([]byte, 0, len(copyBinaryHeader)+len(rows)*200+len(copyBinaryTrailer))
	buf = append(buf, copyBinaryHeader...)
	for _, r := range rows {
		s := r.S
		buf = appendFieldCount(buf, len(readingColumns))
		buf = appendUUID(buf, r.Meter)
		buf = appendTimestamptz(buf, at)
		buf = appendTimestamptz(buf, r.TakenAt)
		for _, v := range [...]struct {
			v      int64
			places int
		}{{s.Energy, 2}, {s.EnergySharp, 2}, {s.EnergyPeak, 2}, {s.EnergyFlat, 2}, {s.EnergyValley, 2},
			{s.Voltage, 1}, {s.Current, 2}, {s.Power, 3}, {s.Remaining, 2}} {
			buf = appendNumeric(buf, v.v, v.places)
		}
		buf = appendInt4(buf, int32(s.PurchaseCount))
		buf = appendInt2(buf, int16(s.Relay))
		buf = appendInt2(buf, int16(s.Mode))
		buf = appendInt4(buf, int32(s.Status))
	}
	buf = append(buf, copyBinaryTrailer...)
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), copyReadingsSQL); err != nil {
		return fmt.Errorf("copy %d readings: %w", len(rows), err)
	}
	return nil
}

var copyReadingsSQL = "copy readings (" + strings.Join(readingColumns, ", ") + ") from stdin with (format binary)"

// stageReadings is the slow, conflict-proof path: COPY into a staging
// table, then INSERT … ON CONFLICT DO NOTHING.
func stageReadings(ctx context.Context, tx pgx.Tx, at time.Time, rows []Row) error {
	// Registers in their own integer units: COPY moves plain integers, the
	// INSERT scales them exactly into numeric.
	if _, err := tx.Exec(ctx, `create temp table sweep_stage (meter_id uuid, taken_at timestamptz, energy bigint,
		sharp bigint, peak bigint, flat bigint, valley bigint, voltage bigint, current bigint, power bigint,
		remaining bigint, purchase_count integer, cumulative bigint, relay smallint, mode smallint, status integer)
		on commit drop`); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(rows) {
			return nil, nil
		}
		r := rows[i]
		i++
		s := r.S
		return []any{[16]byte(r.Meter), r.TakenAt, s.Energy, s.EnergySharp, s.EnergyPeak, s.EnergyFlat, s.EnergyValley,
			s.Voltage, s.Current, s.Power, s.Remaining, int32(s.PurchaseCount), s.CumulativePurchased,
			int16(s.Relay), int16(s.Mode), int32(s.Status)}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sweep_stage"}, stageColumns, src); err != nil {
		return fmt.Errorf("copy %d readings: %w", len(rows), err)
	}
	if _, err := tx.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh,
		flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		select meter_id, $1, taken_at, energy*0.01, sharp*0.01, peak*0.01, flat*0.01, valley*0.01, voltage*0.1,
			current*0.01, power*0.001, remaining*0.01, purchase_count, relay, mode, status from sweep_stage
		on conflict (meter_id, read_at) do nothing`, at); err != nil {
		return fmt.Errorf("insert readings: %w", err)
	}
	return nil
}

// writeState upserts the latest state from arrays (no staging table: its
// create and drop cost more catalog work than the arrays' decoding), and
// resets the contact counters of meters that answer again.
func writeState(ctx context.Context, tx pgx.Tx, at, now time.Time, rows []Row) error {
	n := len(rows)
	// Plain [16]byte: pgx encodes it directly, while uuid.UUID goes through
	// driver.Valuer after failed plans whose errors cost more than the COPY.
	ids := make([][16]byte, n)
	taken := make([]time.Time, n)
	remaining, cumulative, energy := make([]int64, n), make([]int64, n), make([]int64, n)
	count, status := make([]int32, n), make([]int32, n)
	relay, mode := make([]int16, n), make([]int16, n)
	for i, r := range rows {
		s := r.S
		ids[i], taken[i] = r.Meter, r.TakenAt
		remaining[i], cumulative[i], energy[i] = s.Remaining, s.CumulativePurchased, s.Energy
		count[i], status[i], relay[i], mode[i] = int32(s.PurchaseCount), int32(s.Status), int16(s.Relay), int16(s.Mode)
	}
	// The same upsert as activities/meters saveState: never move the state
	// back in time. A row whose values and time are unchanged (a retried
	// write) is left alone: no dead tuple.
	// unnest in the select list: PostgreSQL streams it, where unnest in
	// FROM first copies every array into a tuple store (three times the
	// CPU for a 2,000-row write).
	if _, err := tx.Exec(ctx, `insert into meter_state as ms (meter_id, remaining, purchase_count, cumulative_purchased,
		energy_kwh, relay, mode, status_flags, read_at)
		select unnest($1::uuid[]), unnest($2::bigint[])*0.01, unnest($3::integer[]), unnest($4::bigint[])*0.01,
			unnest($5::bigint[])*0.01, unnest($6::smallint[]), unnest($7::smallint[]), unnest($8::integer[]),
			unnest($9::timestamptz[])
		on conflict (meter_id) do update set remaining=excluded.remaining, purchase_count=excluded.purchase_count,
		cumulative_purchased=excluded.cumulative_purchased, energy_kwh=excluded.energy_kwh, relay=excluded.relay,
		mode=excluded.mode, status_flags=excluded.status_flags, read_at=excluded.read_at
		where ms.read_at < excluded.read_at or (ms.read_at = excluded.read_at and
			(ms.remaining, ms.purchase_count, ms.cumulative_purchased, ms.energy_kwh, ms.relay, ms.mode, ms.status_flags)
			is distinct from (excluded.remaining, excluded.purchase_count, excluded.cumulative_purchased,
				excluded.energy_kwh, excluded.relay, excluded.mode, excluded.status_flags))`,
		ids, remaining, count, cumulative, energy, relay, mode, status, taken); err != nil {
		return fmt.Errorf("upsert meter state: %w", err)
	}
	// A meter that answers after failures is back: reset it, clear its event.
	if _, err := tx.Exec(ctx, `with back as (
			update meter_contact c set failures=0, lost=false, last_error='', last_sweep_at=greatest(c.last_sweep_at, $1),
				last_ok_at=s.taken_at
			from (select unnest($4::uuid[]) as meter_id, unnest($5::timestamptz[]) as taken_at) s
			where c.meter_id=s.meter_id and (c.failures > 0 or c.lost)
			returning c.meter_id)
		update device_events e set cleared_at=$2 from back
		where e.kind=$3 and e.subject=back.meter_id and e.cleared_at is null`, at, now, EventMeterLost, ids, taken); err != nil {
		return fmt.Errorf("meters back in contact: %w", err)
	}
	return nil
}

// writeMeterContact counts failed reads. A failure counts once per sweep
// slot (last_sweep_at), so a retried batch does not count it twice; at
// LostAfter the meter is lost and one event is raised (the partial unique
// index keeps it to one open event).
func writeMeterContact(ctx context.Context, tx pgx.Tx, at, now time.Time, b *Batch) error {
	if len(b.Failed) == 0 {
		return nil
	}
	ids := make([][16]byte, len(b.Failed))
	errs := make([]string, len(b.Failed))
	for i, f := range b.Failed {
		ids[i], errs[i] = f.Meter, f.Err
	}
	if _, err := tx.Exec(ctx, `with f as (select unnest($1::uuid[]) as meter_id, unnest($2::text[]) as err),
		counted as (
			insert into meter_contact as c (meter_id, failures, lost, last_error, last_sweep_at)
			select meter_id, 1, 1 >= $4, err, $3 from f
			on conflict (meter_id) do update set
				failures = c.failures + case when c.last_sweep_at < excluded.last_sweep_at then 1 else 0 end,
				lost = c.lost or c.failures + case when c.last_sweep_at < excluded.last_sweep_at then 1 else 0 end >= $4,
				last_error = excluded.last_error,
				last_sweep_at = greatest(c.last_sweep_at, excluded.last_sweep_at)
			returning c.meter_id, c.failures, c.last_error)
		insert into device_events(project_id, kind, subject, subject_no, detail, raised_at)
		select m.project_id, $5, m.id, m.meter_no,
			format('no answer in %s consecutive reads: %s', counted.failures, counted.last_error), $6
		from counted join meters m on m.id=counted.meter_id where counted.failures >= $4
		on conflict (kind, subject) where cleared_at is null do nothing`,
		ids, errs, at, LostAfter, EventMeterLost, now); err != nil {
		return fmt.Errorf("count failed reads of %d meters: %w", len(ids), err)
	}
	return nil
}

// writeGatewayContact records whether each gateway could be connected, and
// raises or clears the gateway's lost-contact event.
func writeGatewayContact(ctx context.Context, tx pgx.Tx, at, now time.Time, gws []Contact) error {
	if len(gws) == 0 {
		return nil
	}
	ids := make([]string, len(gws))
	up := make([]bool, len(gws))
	errs := make([]string, len(gws))
	for i, g := range gws {
		ids[i], up[i], errs[i] = g.GatewayID, g.Down == "", g.Down
	}
	if _, err := tx.Exec(ctx, `with g as (select unnest($1::uuid[]) as gateway_id, unnest($2::bool[]) as reachable,
			unnest($3::text[]) as err),
		saved as (
			insert into gateway_contact as c (gateway_id, reachable, last_error, last_sweep_at, since)
			select gateway_id, reachable, err, $4, $5 from g
			on conflict (gateway_id) do update set reachable=excluded.reachable, last_error=excluded.last_error,
				last_sweep_at=greatest(c.last_sweep_at, excluded.last_sweep_at),
				since = case when c.reachable = excluded.reachable then c.since else excluded.since end
			where c.last_sweep_at <= excluded.last_sweep_at
			returning c.gateway_id, c.reachable, c.last_error),
		raised as (
			insert into device_events(project_id, kind, subject, subject_no, detail, raised_at)
			select gw.project_id, $6, gw.id, gw.code, 'cannot connect: ' || saved.last_error, $5
			from saved join gateways gw on gw.id=saved.gateway_id where not saved.reachable
			on conflict (kind, subject) where cleared_at is null do nothing)
		update device_events e set cleared_at=$5 from saved
		where saved.reachable and e.kind=$6 and e.subject=saved.gateway_id and e.cleared_at is null`,
		ids, up, errs, at, now, EventGatewayLost); err != nil {
		return fmt.Errorf("gateway contact of %d gateways: %w", len(ids), err)
	}
	return writePipelining(ctx, tx, gws)
}

// writePipelining records the gateways found unable to pipeline, once: the
// first detection's time stays.
func writePipelining(ctx context.Context, tx pgx.Tx, gws []Contact) error {
	var ids []string
	var ats []time.Time
	for _, g := range gws {
		if !g.NoPipeliningAt.IsZero() {
			ids, ats = append(ids, g.GatewayID), append(ats, g.NoPipeliningAt)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `update gateways g set pipelining = 'unsupported', pipelining_detected_at = d.at
		from unnest($1::uuid[], $2::timestamptz[]) as d(id, at)
		where g.id = d.id and g.pipelining is null`, ids, ats); err != nil {
		return fmt.Errorf("record %d gateways without pipelining: %w", len(ids), err)
	}
	return nil
}
