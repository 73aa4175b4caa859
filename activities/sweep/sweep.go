// Package sweep reads many meters at once (抄表) for the scheduled sweep: one
// activity reads a batch of gateways — one connection each, every meter's
// snapshot by unit id — and bulk-writes the readings, the latest state and
// the lost-contact bookkeeping to PostgreSQL.
//
// A batch is the unit of work, never a meter: 100,000 meters are a few
// dozen activities, so orchestration stays small next to the device I/O.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/devices/dlt645"
	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/internal/activitylog"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	safetystore "github.com/voltflow/voltflow/store/safety"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
)

// LostAfter is how many consecutive failed reads make a meter lost (失联).
const LostAfter = sweepstore.LostAfter

// Event kinds in device_events.
const (
	EventMeterLost   = sweepstore.EventMeterLost
	EventGatewayLost = sweepstore.EventGatewayLost
)

// What a write sends to PostgreSQL, as store/sweep takes it.
type (
	batch   = sweepstore.Batch
	row     = sweepstore.Row
	failure = sweepstore.Failure
)

// addOutcome adds what reading one gateway produced to the next write.
func addOutcome(b *batch, o gatewayOutcome) {
	b.Rows = append(b.Rows, o.rows...)
	b.Failed = append(b.Failed, o.failed...)
	if o.skipped < len(o.gw.Meters) || len(o.gw.Meters) == 0 {
		b.Gateways = append(b.Gateways, sweepstore.Contact{GatewayID: o.gw.ID, Down: o.down, NoPipeliningAt: o.noPipeliningAt})
	}
}

// write stores a batch through store/sweep (see sweepstore.Write).
func (a *Activities) write(ctx context.Context, at time.Time, b *batch) (sweepstore.Phases, error) {
	return sweepstore.Write(ctx, a.DB, a.log(ctx), at, a.Clock.Now(), b)
}

// Activities run on the devices queue.
type Activities struct {
	DB       *store.DB
	Gateways *metersacts.Gateways
	// Concurrency is how many gateways one batch reads at once; default 64.
	// Each gateway is still one connection with one request at a time.
	Concurrency int
	// FlushRows is how many readings are buffered before a write; default 2,000.
	FlushRows int
	// WriteParallel is how many of this worker's sweep statements run in
	// PostgreSQL at once, across all its batches: the batches' set-up
	// queries, their writes and the hooks after them; default 4. Eight
	// writers (one per batch) cost PostgreSQL about 40% more CPU than two
	// for the same rows (contention on relation extension and index pages,
	// and every extra connection is a backend to start and warm), while two
	// leave the writes the long pole when the machine is busy.
	WriteParallel int
	Log           *slog.Logger
	Clock         clock.Clock
	// Alarms, when set, hears the readings each write stored
	// (workflows/alarm.Observer).
	Alarms AlarmHook
	// Billing, when set, prices the readings of platform-side meters
	// (activities/platformbilling.Activities.BillSweep) after each write.
	Billing BillingHook
	// Safety, when set, checks the readings against the meters' safety
	// limits (workflows/safety.Observer) after each write.
	Safety SafetyHook
	// Interactive is set on the interactive devices queue's worker: an
	// on-demand read (SweepMeter) goes before the bulk requests queued on
	// its gateway (modbus.Interactive).
	Interactive bool

	writeOnce  sync.Once
	writeSlots chan struct{} // one token per sweep statement in PostgreSQL
}

// writeSlot waits for a turn in PostgreSQL; release it with the returned func.
func (a *Activities) writeSlot(ctx context.Context) (func(), error) {
	a.writeOnce.Do(func() {
		n := a.WriteParallel
		if n <= 0 {
			n = 4
		}
		a.writeSlots = make(chan struct{}, n)
	})
	select {
	case a.writeSlots <- struct{}{}:
		return func() { <-a.writeSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// BillingHook is told which meters' readings a write stored at a slot.
type BillingHook interface {
	BillSweep(ctx context.Context, at time.Time, meterIDs []string) error
}

// bill hands written readings to billing; a failure is logged, never a
// failed sweep: billing starts from each meter's last billed reading, so
// the next sweep bills the longer interval and nothing is lost.
func (a *Activities) bill(ctx context.Context, at time.Time, rows []row) {
	if a.Billing == nil {
		return
	}
	var ids []string
	for _, r := range rows {
		if r.Platform {
			ids = append(ids, r.Meter.String())
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := a.Billing.BillSweep(ctx, at, ids); err != nil {
		a.log(ctx).Warn("billing hook failed", "at", at, "error", err)
	}
}

// SafetyHook is told of the readings that drew power or that a meter's own
// safety trip flags.
type SafetyHook interface {
	ObserveSafety(ctx context.Context, obs []safetystore.Observed) error
}

// checkSafety hands readings to the safety limits; a failure is logged,
// never a failed sweep (the next reading over the limit trips it).
func (a *Activities) checkSafety(ctx context.Context, rows []row) {
	if a.Safety == nil {
		return
	}
	var obs []safetystore.Observed
	for _, r := range rows {
		if r.S.Power > 0 || r.S.Status&(profile.StatusOverloadTrip|profile.StatusMalignantTrip) != 0 {
			obs = append(obs, safetystore.Observed{MeterID: r.Meter.String(),
				Reading: safetydom.Reading{PowerW: r.S.Power, Status: r.S.Status, At: r.TakenAt}})
		}
	}
	if len(obs) == 0 {
		return
	}
	if err := a.Safety.ObserveSafety(ctx, obs); err != nil {
		a.log(ctx).Warn("safety hook failed", "error", err)
	}
}

// AlarmHook is told of the readings a sweep stored.
type AlarmHook interface {
	ObserveMany(ctx context.Context, obs []alarmdom.Observation) error
}

// observe reports written readings to the alarms; a failure there is logged,
// never a failed sweep.
func (a *Activities) observe(ctx context.Context, rows []row) {
	if a.Alarms == nil {
		return
	}
	var obs []alarmdom.Observation
	for _, r := range rows {
		if r.Alarmed {
			obs = append(obs, alarmdom.Observation{MeterID: r.Meter.String(), Remaining: money.FromCents(r.S.Remaining), At: r.TakenAt})
		}
	}
	if len(obs) == 0 {
		return
	}
	if err := a.Alarms.ObserveMany(ctx, obs); err != nil {
		a.log(ctx).Warn("alarm hook failed", "error", err)
	}
}

// log is Log (discarding when nil) with the running activity's ids.
func (a *Activities) log(ctx context.Context) *slog.Logger {
	if a.Log != nil {
		return activitylog.Logger(ctx, a.Log)
	}
	return slog.New(slog.DiscardHandler)
}

// The activities' inputs and results live in store/sweep, so workflows build
// them without importing this package.
type (
	GatewaysInput  = sweepstore.GatewaysInput
	GatewaysResult = sweepstore.GatewaysResult
	BatchInput     = sweepstore.BatchInput
	BatchResult    = sweepstore.BatchResult
)

// SweepGateways lists the gateways a sweep of the project reads.
func (a *Activities) SweepGateways(ctx context.Context, in GatewaysInput) (GatewaysResult, error) {
	var out GatewaysResult
	rows, err := a.DB.Query(ctx, `select g.id::text, count(m.id) from gateways g left join meters m on m.gateway_id=g.id
		where g.project_id=$1 group by g.id order by g.code`, in.ProjectID)
	if err != nil {
		return out, fmt.Errorf("list gateways of project %s: %w", in.ProjectID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return out, err
		}
		out.GatewayIDs = append(out.GatewayIDs, id)
		out.Meters += n
	}
	return out, rows.Err()
}

// Progress is the heartbeat detail of a batch.
type Progress struct {
	GatewaysDone int `json:"gatewaysDone"`
	Written      int `json:"written"`
}

// SweepBatch reads every meter behind the batch's gateways and writes the
// readings. Device failures are data (lost-contact counters and events),
// not activity failures; only a database failure fails the activity, and
// its retry skips the meters an earlier attempt already wrote.
func (a *Activities) SweepBatch(ctx context.Context, in BatchInput) (BatchResult, error) {
	began := time.Now()
	at := in.At.UTC()
	if at.IsZero() {
		return BatchResult{}, errors.New("sweep batch without a slot time")
	}
	gws, res, err := a.prepareBatch(ctx, in.ProjectID, at, in.GatewayIDs)
	if err != nil {
		return res, err
	}

	var done, written atomic.Int64
	hbCtx, stopHB := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	// The batch returns only once no heartbeat is on its way: one still
	// sending when the activity completes fails on the cancelled context
	// and the SDK logs a warning for it.
	defer func() { stopHB(); <-hbDone }()
	go func() {
		defer close(hbDone)
		// Every 5 s, well inside the 20 s heartbeat timeout.
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx, Progress{GatewaysDone: int(done.Load()), Written: int(written.Load())})
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	outcomes := make(chan gatewayOutcome, a.concurrency())
	work := make(chan *gateway)
	var readers sync.WaitGroup
	for range min(a.concurrency(), len(gws)) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for g := range work {
				outcomes <- a.readGateway(ctx, g, at)
				done.Add(1)
			}
		}()
	}
	go func() {
		defer close(work)
		for _, g := range gws {
			select {
			case work <- g:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { readers.Wait(); close(outcomes) }()

	// One writer goroutine: the readers never wait for PostgreSQL, the
	// collector hands it full batches (a batch of 200 gateways is at most a
	// few thousand rows, so the queue stays small).
	toWrite := make(chan *batch, 64)
	var werr error
	var writeT, readingsT, stateT, hooksT time.Duration // the writer goroutine's; read after wrote
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for b := range toWrite {
			if werr != nil {
				continue // drain; the activity fails and its retry skips what was written
			}
			var ph sweepstore.Phases
			var release func()
			if release, werr = a.writeSlot(ctx); werr != nil {
				continue
			}
			t := time.Now() // the write's own time, not its wait for a slot
			ph, werr = a.write(ctx, at, b)
			writeT += time.Since(t)
			readingsT += ph.Readings
			stateT += ph.State
			if werr == nil {
				// In the same turn: the hooks' queries count against the
				// same bound on PostgreSQL work.
				t = time.Now()
				a.observe(ctx, b.Rows)
				a.bill(ctx, at, b.Rows)
				a.checkSafety(ctx, b.Rows)
				hooksT += time.Since(t)
			}
			release()
			written.Add(int64(len(b.Rows)))
		}
	}()
	newBatch := func() *batch { return &batch{Rows: make([]row, 0, a.flushRows()+256)} }
	pending := newBatch()
	for o := range outcomes {
		res.Skipped += o.skipped
		res.Read += len(o.rows)
		res.Failed += len(o.failed)
		if o.down != "" {
			res.GatewaysDown++
		}
		addOutcome(pending, o)
		if len(pending.Rows) >= a.flushRows() {
			toWrite <- pending
			pending = newBatch()
		}
	}
	if !pending.Empty() {
		toWrite <- pending
	}
	close(toWrite)
	<-wrote
	res.WriteMs, res.ReadingsMs = writeT.Milliseconds(), readingsT.Milliseconds()
	res.StateMs, res.HooksMs = stateT.Milliseconds(), hooksT.Milliseconds()
	if werr != nil {
		return res, werr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.ElapsedMs = time.Since(began).Milliseconds()
	a.log(ctx).Debug("sweep batch", "project", in.ProjectID, "at", at, "gateways", res.Gateways,
		"read", res.Read, "failed", res.Failed, "down", res.GatewaysDown)
	return res, nil
}

// prepareBatch loads the batch's gateways and meters, drops the meters an
// earlier attempt already wrote and makes sure the partitions exist: in one
// turn in PostgreSQL, so eight batches starting at once do not open eight
// connections for it.
func (a *Activities) prepareBatch(ctx context.Context, projectID string, at time.Time, ids []string) ([]*gateway, BatchResult, error) {
	release, err := a.writeSlot(ctx)
	if err != nil {
		return nil, BatchResult{}, err
	}
	defer release()
	gws, err := sweepstore.LoadBatch(ctx, a.DB, projectID, ids)
	if err != nil {
		return nil, BatchResult{}, err
	}
	res := BatchResult{Gateways: len(gws)}
	for _, g := range gws {
		res.Meters += len(g.Meters)
	}
	// A retry (after a worker died mid-batch) reads only the meters without
	// this slot's reading yet. A first attempt has nothing of its own to
	// skip, and does not ask: if another run of the same slot wrote some
	// readings, the write notices and keeps the ones there (write).
	if retried(ctx) {
		n, err := sweepstore.SkipWritten(ctx, a.DB, at, gws)
		if err != nil {
			return nil, res, err
		}
		res.Skipped += n
	}
	return gws, res, sweepstore.EnsurePartitions(ctx, a.DB, at)
}

// retried tells a retried attempt, or a call outside Temporal, from a
// first attempt. Heartbeat details left by an earlier attempt count too
// (Temporal's test environment sets those, not the attempt).
func retried(ctx context.Context) bool {
	return !activity.IsActivity(ctx) || activity.GetInfo(ctx).Attempt > 1 || activity.HasHeartbeatDetails(ctx)
}

func (a *Activities) concurrency() int {
	if a.Concurrency > 0 {
		return a.Concurrency
	}
	return 64
}

func (a *Activities) flushRows() int {
	if a.FlushRows > 0 {
		return a.FlushRows
	}
	return 2000
}

// The gateways and meters a sweep reads, as store/sweep loads them.
type (
	gateway = sweepstore.Gateway
	meter   = sweepstore.Meter
)

// gatewayOutcome is what reading one gateway produced.
type gatewayOutcome struct {
	gw      *gateway
	rows    []row
	failed  []failure
	down    string // why the gateway could not be connected; "" if it could
	skipped int
	// noPipeliningAt: the client fell back to one request at a time (it
	// found the gateway dropping the second request in flight).
	noPipeliningAt time.Time
}

// readGateway reads the gateway's meters one after the other over its one
// connection. A gateway that cannot be connected is down: its meters are
// not counted as failing, the gateway event speaks for them.
func (a *Activities) readGateway(ctx context.Context, g *gateway, at time.Time) gatewayOutcome {
	out := gatewayOutcome{gw: g}
	var read func(m meter) (modbus.Snapshot, error)
	switch g.Protocol {
	case ProtocolModbusTCP, ProtocolModbusRTUTCP:
		return a.readModbus(ctx, g, out)
	case ProtocolDLT645TCP:
		client := a.Gateways.DLT(g.Address)
		read = func(m meter) (modbus.Snapshot, error) { return readDLT(ctx, client, m) }
	default:
		out.skipped = len(g.Meters)
		return out
	}
	for _, m := range g.Meters {
		if ctx.Err() != nil {
			return out
		}
		s, err := read(m)
		if err != nil {
			if isDialError(err) {
				out.down = err.Error()
				return out
			}
			if ctx.Err() != nil {
				return out
			}
			out.failed = append(out.failed, failure{Meter: m.UUID, Err: err.Error()})
			continue
		}
		out.rows = append(out.rows, row{Meter: m.UUID, TakenAt: a.Clock.Now(), S: s, Alarmed: m.Alarmed, Platform: m.Platform})
	}
	return out
}

// readModbus reads a Modbus gateway's meters through one client per
// profile (nearly always one), with requests pipelined (modbus.ReadMeters).
func (a *Activities) readModbus(ctx context.Context, g *gateway, out gatewayOutcome) gatewayOutcome {
	out.rows = make([]row, 0, len(g.Meters))
	addr := metersacts.GatewayURL(g.Protocol, g.Address, g.MaxInFlight)
	for i := 0; i < len(g.Meters); {
		// A run of meters with the same profile.
		j := i + 1
		for j < len(g.Meters) && g.Meters[j].Profile == g.Meters[i].Profile {
			j++
		}
		run := g.Meters[i:j]
		i = j
		client, err := a.Gateways.Get(addr, run[0].Profile)
		units := make([]uint8, 0, len(run))
		var valid []meter
		for _, m := range run {
			switch {
			case err != nil:
				out.failed = append(out.failed, failure{Meter: m.UUID, Err: err.Error()})
			case m.Unit < 1 || m.Unit > 247:
				out.failed = append(out.failed, failure{Meter: m.UUID, Err: fmt.Sprintf("unit address %d outside 1..247", m.Unit)})
			default:
				units = append(units, uint8(m.Unit))
				valid = append(valid, m)
			}
		}
		if len(units) == 0 {
			continue
		}
		res := client.ReadMeters(ctx, units)
		takenAt := a.Clock.Now()
		// Recorded while the row still asks for pipelining; afterwards the
		// row's window is 1 and a new client is never found dropping.
		if no, at := client.PipeliningUnsupported(); no && g.MaxInFlight != 1 {
			out.noPipeliningAt = at
		}
		for k, r := range res {
			m := valid[k]
			if r.Err != nil {
				if isDialError(r.Err) {
					out.down = r.Err.Error()
					return out
				}
				if ctx.Err() != nil {
					return out
				}
				out.failed = append(out.failed, failure{Meter: m.UUID, Err: r.Err.Error()})
				continue
			}
			out.rows = append(out.rows, row{Meter: m.UUID, TakenAt: takenAt, S: r.Snapshot, Alarmed: m.Alarmed, Platform: m.Platform})
		}
	}
	return out
}

// Gateway protocols (gateways.protocol).
const (
	ProtocolModbusTCP    = "modbus-tcp"
	ProtocolModbusRTUTCP = "modbus-rtu-tcp"
	ProtocolDLT645TCP    = "dlt645-tcp"
)

// readDLT reads a DL/T 645-2007 meter, whose address is its meter number
// (the twelve digits on its nameplate), into the sweep's register units.
// The relay comes from run status word 3, so the board shows a DL/T 645
// meter cut off; mode and status flags have no identifier read: they stay
// zero.
func readDLT(ctx context.Context, c *dlt645.Client, m meter) (modbus.Snapshot, error) {
	addr, err := dlt645.ParseAddress(m.MeterNo)
	if err == nil && strings.ContainsFunc(m.MeterNo, func(r rune) bool { return r < '0' || r > '9' }) {
		err = errors.New("not all digits") // "AA" parses as the wildcard byte
	}
	if err != nil {
		return modbus.Snapshot{}, fmt.Errorf("meter number %q is not a DL/T 645 address: %w", m.MeterNo, err)
	}
	r, err := c.ReadMeter(ctx, addr)
	if err != nil {
		return modbus.Snapshot{}, err
	}
	relay := uint16(profile.RelayClosed)
	if r.HasRunStatus && r.RunStatus3&dlt645.Status3RelayOpen != 0 {
		relay = profile.RelayOpen
	}
	return modbus.Snapshot{
		Relay:         relay,
		Energy:        r.Energy,       // 0.01 kWh both
		Voltage:       r.Voltage,      // 0.1 V both
		Current:       r.Current / 10, // 0.001 A → 0.01 A
		Power:         r.Power / 10,   // 0.0001 kW → 0.001 kW
		Remaining:     r.Remaining,    // 0.01 yuan both
		PurchaseCount: uint16(r.PurchaseCount),
	}, nil
}

// isDialError tells "cannot connect to the gateway" from "the meter did not
// answer": only the first is the gateway's lost contact.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
