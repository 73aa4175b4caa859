package push

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/activitylog"
)

// The pump is the hot path of the regulator exchange. A per-station
// workflow fed by a Temporal signal and an activity per push cost several
// Temporal persistence writes per status change, which 2 cores cannot do
// 1,200 times a second (6,000 connectors on a 5 s cadence). The pump is one
// long-running, heartbeating activity per regulator, supervised by
// PumpWorkflow, that does the same work straight from PostgreSQL:
//
//   - outbox: every retried push (status changes, alarms, events, BMS
//     samples, station info) is a pending row in regulator_pushes, written
//     before anything else; an insert trigger NOTIFYs regulator_outbox. The
//     pump LISTENs (and polls as a fallback), claims the oldest pending row
//     of each lane (a connector's statuses, a station's alarms, …) that is
//     due and not already in flight, sends them with bounded concurrency
//     over keep-alive HTTP, and marks the outcomes with one statement. A
//     lane's next row is claimed only after its head is final, so each
//     connector's changes arrive in order. A failed row is retried after a
//     backoff (next_at); while every send fails the pump stops claiming
//     for a growing pause, so a regulator outage costs little.
//   - periodic: every station's snapshot at the regulator's cadence
//     (query_frequency), each station at a fixed phase of the cadence so the
//     load is spread, recorded set-based for many stations at once and sent
//     once (missed ones stay pending as history for supplement_collect).
//
// Nothing is lost when the pump dies: every push is a row first; a new
// pump (Temporal retries the activity when its heartbeat stops) claims
// what is pending. A session advisory lock keeps one pump per regulator.

// Names of the pump workflow.
const (
	KindPump = "regulator-pump"
	// outboxChannel is what the insert trigger of migration 0021 notifies.
	outboxChannel = "regulator_outbox"
)

// PumpWorkflowID is the pump workflow of one regulator.
func PumpWorkflowID(regulator string) string { return KindPump + "/" + regulator }

// PumpInput configures the pump. New fields must have a safe zero value.
type PumpInput struct {
	// Cadence of the periodic status push unless the regulator set one
	// through query_frequency (default 60 s).
	Cadence time.Duration `json:"cadence"`
	// RetryMaxInterval caps the backoff of a failed push (default 1 min).
	RetryMaxInterval time.Duration `json:"retryMaxInterval"`
	// Concurrency bounds the HTTP calls in flight, for retried pushes and
	// for periodic ones each (default 32).
	Concurrency int `json:"concurrency"`
	// RunFor ends one activity run, so a fresh attempt starts with a clean
	// slate and the workflow continues as new now and then (default 1 h).
	RunFor time.Duration `json:"runFor"`
	// HeartbeatTimeout: a pump silent this long is presumed dead and
	// restarted elsewhere (default 30 s).
	HeartbeatTimeout time.Duration `json:"heartbeatTimeout"`
}

func (in PumpInput) withDefaults() PumpInput {
	if in.Cadence <= 0 {
		in.Cadence = DefaultCadence
	}
	if in.RetryMaxInterval <= 0 {
		in.RetryMaxInterval = DefaultRetryMaxInterval
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 32
	}
	if in.RunFor <= 0 {
		in.RunFor = time.Hour
	}
	if in.HeartbeatTimeout <= 0 {
		in.HeartbeatTimeout = 30 * time.Second
	}
	return in
}

// Pump runs the pump of Acts.Regulator (see above). Heartbeat, when set,
// is called regularly while it runs.
type Pump struct {
	Acts      *Activities
	In        PumpInput
	Heartbeat func()
	Log       *slog.Logger

	// down is set while every send fails: the periodic snapshots are then
	// recorded but not sent (the regulator backfills them).
	down atomic.Bool
}

// ErrPumpBusy: another pump holds the regulator's lock (retry later).
var ErrPumpBusy = errors.New("another pump is running for this regulator")

// Run pumps until ctx ends (its error) or In.RunFor passes (nil).
func (p *Pump) Run(parent context.Context) error {
	p.In = p.In.withDefaults()
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(parent, p.In.RunFor)
	defer cancel()
	conn, err := p.Acts.DB.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pump connection: %w", err)
	}
	// Closing the connection drops the lock and the LISTEN with it, also
	// when this process dies.
	defer func() { _ = conn.Conn().Close(context.WithoutCancel(ctx)); conn.Release() }()
	var locked bool
	if err := conn.QueryRow(ctx, `select pg_try_advisory_lock($1)`, lockKey(p.Acts.Regulator)).Scan(&locked); err != nil {
		return fmt.Errorf("pump lock: %w", err)
	}
	if !locked {
		return fmt.Errorf("%s: %w", p.Acts.Regulator, ErrPumpBusy)
	}
	if _, err := conn.Exec(ctx, `listen `+outboxChannel); err != nil {
		return fmt.Errorf("pump listen: %w", err)
	}
	wake := make(chan struct{}, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for {
			n, err := conn.Conn().WaitForNotification(gctx)
			if err != nil {
				return fmt.Errorf("pump wait: %w", err)
			}
			if n.Payload == p.Acts.Regulator {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	})
	g.Go(func() error { return p.outbox(gctx, wake) })
	g.Go(func() error { return p.periodic(gctx) })
	if p.Heartbeat != nil {
		g.Go(func() error {
			t := time.NewTicker(p.In.HeartbeatTimeout / 4)
			defer t.Stop()
			for {
				p.Heartbeat()
				select {
				case <-gctx.Done():
					return gctx.Err()
				case <-t.C:
				}
			}
		})
	}
	err = g.Wait()
	if parent.Err() != nil {
		return parent.Err()
	}
	if ctx.Err() != nil {
		return nil // RunFor passed
	}
	return err
}

// lockKey is the advisory lock of a regulator's pump.
func lockKey(regulator string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("regulator-pump/" + regulator))
	return int64(h.Sum64())
}

// claimed is an outbox row in flight.
type claimed struct {
	outgoing
	attempts int
}

// sent is the outcome of one send.
type sent struct {
	claimed
	status string // final status, or pending after a retryable failure
	err    error
}

// pollInterval bounds how long a row due later (or a missed NOTIFY) waits.
const pollInterval = 250 * time.Millisecond

// outbox claims, sends and marks retried pushes until ctx ends.
func (p *Pump) outbox(ctx context.Context, wake <-chan struct{}) error {
	conc := p.In.Concurrency
	maxInflight := 4 * conc
	work := make(chan claimed, maxInflight)
	results := make(chan sent, maxInflight) // never blocks: at most maxInflight in flight
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				results <- p.send(ctx, c)
			}
		}()
	}
	inflight := map[int64]bool{}
	var done []sent
	defer func() {
		// Record what came back before stopping; what did not stays
		// pending and goes out again from the next pump.
		close(work)
		wg.Wait()
		close(results)
		for r := range results {
			done = append(done, r)
		}
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = p.mark(mctx, done)
	}()
	poll := time.NewTimer(0)
	defer poll.Stop()
	failures := 0 // consecutive rounds in which every send failed
	var pausedUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-results:
			done = append(done, r)
		case <-wake:
		case <-poll.C:
		}
		for more := true; more; {
			select {
			case r := <-results:
				done = append(done, r)
			default:
				more = false
			}
		}
		if len(done) > 0 {
			if err := p.mark(ctx, done); err != nil {
				return err
			}
			ok := false
			for _, r := range done {
				delete(inflight, r.id)
				ok = ok || r.status != StatusPending
			}
			if ok {
				failures = 0
				p.down.Store(false)
			} else {
				failures++
				p.down.Store(true)
				pausedUntil = time.Now().Add(backoff(failures-1, p.In.RetryMaxInterval))
			}
			done = done[:0]
		}
		if wait := time.Until(pausedUntil); wait > 0 {
			// The regulator is down: hold back until the pause ends (the
			// rows in flight still come back and are marked).
			poll.Reset(min(wait, pollInterval))
			continue
		}
		if free := maxInflight - len(inflight); free > 0 {
			rows, err := p.claim(ctx, inflight, free)
			if err != nil {
				return err
			}
			for _, c := range rows {
				inflight[c.id] = true
				work <- c
			}
		}
		poll.Reset(pollInterval)
	}
}

// backoff is the wait after n earlier failed attempts: 0.5 s doubling,
// capped at limit.
func backoff(n int, limit time.Duration) time.Duration {
	d := 500 * time.Millisecond
	for range min(n, 20) {
		d *= 2
	}
	return min(d, limit)
}

// pendingOutbox selects the rows of regulator_pushes_lanes, in the words
// of its predicate (see migration 0026 for why not status = 'pending').
const pendingOutbox = `status not in ('sent', 'dropped', 'rejected') and event_key not like 'periodic%'`

// claim returns up to limit due heads of lanes not in flight, alarms
// first, then oldest first. The heads come from regulator_pushes_lanes in
// its order (migration 0026): one pass over the pending rows' index
// entries, no sort. A walk from lane to lane (one probe per lane) was 5×
// faster on a 200,000-row backlog but 3× slower in steady state, where
// nearly every lane holds one row: push latency at 6,000 connectors went
// from p99 21 ms to 50 ms.
func (p *Pump) claim(ctx context.Context, inflight map[int64]bool, limit int) ([]claimed, error) {
	skip := make([]int64, 0, len(inflight))
	for id := range inflight {
		skip = append(skip, id)
	}
	rows, err := p.Acts.DB.Query(ctx, `with heads as (
			select distinct on (coalesce(station_id, ''), lane) lane, id, next_at from regulator_pushes
			where regulator = $1 and `+pendingOutbox+`
			order by coalesce(station_id, ''), lane, id
		), due as (
			select lane, id from heads where (next_at is null or next_at <= $2) and id <> all($3)
			order by lane = 'alarm' desc, id limit $4
		)
		select p.id, p.interface, p.payload, p.attempts from due join regulator_pushes p using (id)
		order by due.lane = 'alarm' desc, p.id`, p.Acts.Regulator, p.Acts.Clock.Now(), skip, limit)
	if err != nil {
		return nil, fmt.Errorf("claim pushes: %w", err)
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		if err := rows.Scan(&c.id, &c.iface, &c.payload, &c.attempts); err != nil {
			return nil, fmt.Errorf("claim pushes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim pushes: %w", err)
	}
	return out, nil
}

// send posts one row and sorts the outcome.
func (p *Pump) send(ctx context.Context, c claimed) sent {
	var ans struct{ Status int }
	err := p.Acts.Client.Call(ctx, c.iface, c.payload, &ans)
	switch {
	case err == nil && ans.Status == 1:
		return sent{claimed: c, status: StatusDropped}
	case err == nil:
		return sent{claimed: c, status: StatusSent}
	case errors.Is(err, regclient.ErrRejected):
		p.Log.Warn("regulator rejected a push", "pushId", c.id, "interface", c.iface, "error", err)
		return sent{claimed: c, status: StatusRejected, err: err}
	default:
		return sent{claimed: c, status: StatusPending, err: err}
	}
}

// mark records outcomes with one statement: final ones with their time,
// failed ones with their error and when to try again.
func (p *Pump) mark(ctx context.Context, done []sent) error {
	if len(done) == 0 {
		return nil
	}
	now := p.Acts.Clock.Now()
	ids := make([]int64, len(done))
	statuses := make([]string, len(done))
	errs := make([]string, len(done))
	nexts := make([]time.Time, len(done))
	for i, r := range done {
		ids[i], statuses[i], nexts[i] = r.id, r.status, now
		if r.err != nil {
			errs[i] = r.err.Error()
		}
		if r.status == StatusPending {
			nexts[i] = now.Add(backoff(r.attempts, p.In.RetryMaxInterval))
		}
	}
	if _, err := p.Acts.DB.Exec(ctx, `update regulator_pushes p set status = u.status, attempts = p.attempts + 1,
			sent_at = case when u.status in ('sent', 'dropped') then $5 else p.sent_at end,
			last_error = nullif(u.err, ''), next_at = u.next_at
		from unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) as u(id, status, err, next_at)
		where p.id = u.id and p.status = 'pending'`, ids, statuses, errs, nexts, now); err != nil {
		return fmt.Errorf("mark %d pushes: %w", len(done), err)
	}
	return nil
}

// periodic sends every station's snapshot once per cadence until ctx ends.
func (p *Pump) periodic(ctx context.Context) error {
	cadence := p.In.Cadence
	var stations []string
	nextDue := map[string]time.Time{}
	var refreshed time.Time
	for {
		now := time.Now()
		if now.Sub(refreshed) >= cadence {
			// New stations join, and the regulator may have changed the cadence.
			freq, err := p.Acts.frequency(ctx)
			if err != nil {
				return err
			}
			if d := time.Duration(freq) * time.Second; d > 0 && d != cadence {
				cadence = d
				clear(nextDue)
			}
			if stations, err = registry.StationIDs(ctx, p.Acts.DB); err != nil {
				return fmt.Errorf("pump stations: %w", err)
			}
			for _, st := range stations {
				if _, ok := nextDue[st]; !ok {
					nextDue[st] = now.Add(spread(st, cadence))
				}
			}
			refreshed = now
		}
		var due []string
		for _, st := range stations {
			if t := nextDue[st]; !t.After(now) {
				due = append(due, st)
				for !t.After(now) {
					t = t.Add(cadence) // a tick missed while busy is skipped, not made up
				}
				nextDue[st] = t
			}
		}
		for i := 0; i < len(due); i += maxStationsPerSnapshot {
			if err := p.snapshot(ctx, due[i:min(i+maxStationsPerSnapshot, len(due))], now); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.Log.Warn("periodic status push failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(cadence/50, 20*time.Millisecond)):
		}
	}
}

// maxStationsPerSnapshot bounds one snapshot's statements.
const maxStationsPerSnapshot = 50

// snapshot records and sends the periodic report of stations, and records
// the station info any of them owes (sent through the outbox).
func (p *Pump) snapshot(ctx context.Context, stations []string, at time.Time) error {
	rows, err := p.Acts.snapshot(ctx, stations, at)
	if err != nil {
		return err
	}
	if !p.down.Load() {
		if _, _, err := p.Acts.sendAll(ctx, rows, p.In.Concurrency); err != nil {
			return err
		}
	}
	_, err = p.Acts.stationInfoOwed(ctx, stations, at)
	return err
}

// RunPump is the pump as an activity (see Pump), heartbeating. It ends
// without error when its worker stops: PumpWorkflow then runs it again at
// once on the next worker, where a failure would wait for a retry (and log
// an error at every clean shutdown).
func (a *Activities) RunPump(ctx context.Context, in PumpInput) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopping := activity.GetWorkerStopChannel(ctx)
	go func() {
		select {
		case <-stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	p := &Pump{Acts: a, In: in, Heartbeat: func() {
		if ctx.Err() == nil {
			activity.RecordHeartbeat(ctx)
		}
	}}
	err := p.Run(ctx)
	select {
	case <-stopping:
		activitylog.Logger(ctx, nil).Info("regulator pump: worker stopping, the pump ends here", "regulator", a.Regulator)
		return nil
	default:
		return err
	}
}
