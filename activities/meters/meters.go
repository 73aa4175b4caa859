package meters

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/activitylog"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	metersstore "github.com/voltflow/voltflow/store/meters"
)

// ErrTypeMeterConfig marks failures retrying cannot fix (unknown meter, bad
// profile): the workflow goes to dispatch_failed at once.
const ErrTypeMeterConfig = metersstore.ErrTypeMeterConfig

// Activities run on the devices queue.
type Activities struct {
	DB       *store.DB
	Gateways *Gateways
	Clock    clock.Clock
	// Alarms, when set, hears every fresh reading (workflows/alarm.Observer
	// starts or signals the meter's low-balance alarm).
	Alarms AlarmObserver
	// Interactive is set on the interactive devices queue's worker: a
	// sale's writes go before the sweep's and the batches' requests queued
	// on the same gateway (modbus.Interactive).
	Interactive bool
}

// AlarmObserver is told of a meter's fresh state.
type AlarmObserver interface {
	Observe(ctx context.Context, obs alarmdom.Observation) error
}

// observe reports a reading to the alarms; a failure there must not fail
// the reading or the recharge, so it is only logged.
func (a *Activities) observe(ctx context.Context, meterID string, remaining money.Amount, recharged bool) {
	if a.Alarms == nil {
		return
	}
	if err := a.Alarms.Observe(ctx, alarmdom.Observation{MeterID: meterID, Remaining: remaining, At: a.Clock.Now(), Recharged: recharged}); err != nil {
		activitylog.Logger(ctx, nil).Warn("alarm hook failed", "meter", meterID, "error", err)
	}
}

// The dispatch activities' inputs and result live in store/meters, so
// workflows build them without importing this package.
type (
	DispatchInput       = metersstore.DispatchInput
	DispatchResult      = metersstore.DispatchResult
	RefundDispatchInput = metersstore.RefundDispatchInput
)

// ErrTypeInsufficient marks a refund the meter cannot pay because it holds
// less than the amount: retrying will not help until someone recharges it.
const ErrTypeInsufficient = metersstore.ErrTypeInsufficient

// Kinds of counted operation; meter_purchases.kind.
const (
	opRecharge = "recharge"
	opRefund   = "refund"
)

// counted is one operation that takes a purchase-counter value on a meter.
type counted struct {
	kind      string
	id        string
	meter     string
	amount    money.Amount
	keepPower bool
}

// DispatchRecharge writes a recharge into a meter-side prepaid meter exactly
// once (see dispatch).
func (a *Activities) DispatchRecharge(ctx context.Context, in DispatchInput) (DispatchResult, error) {
	res, err := a.dispatch(ctx, counted{kind: opRecharge, id: in.RechargeID, meter: in.MeterID, amount: in.Amount})
	if err == nil {
		a.observe(ctx, in.MeterID, res.Remaining, true)
	}
	return res, err
}

// DispatchRefund deducts a refund from a meter-side prepaid meter exactly
// once (see dispatch), through the meter's refund command.
func (a *Activities) DispatchRefund(ctx context.Context, in RefundDispatchInput) (DispatchResult, error) {
	res, err := a.dispatch(ctx, counted{kind: opRefund, id: in.RefundID, meter: in.MeterID, amount: in.Amount, keepPower: in.KeepPower})
	if err == nil {
		a.observe(ctx, in.MeterID, res.Remaining, false)
	}
	return res, err
}

// dispatch writes a counted operation into its meter exactly once. Under a
// per-meter lock it reads the meter's purchase counter c, settles earlier
// claims against it (claims ≤ c were taken, claims > c were not), and only
// if this operation holds no taken claim writes it with counter c+1. The
// meter refuses any other counter, so however often this runs — retries, a
// worker killed mid-write, an operator's re-dispatch — the meter takes it
// once. Recharges and refunds share the counter, hence the lock and claims.
func (a *Activities) dispatch(ctx context.Context, op counted) (DispatchResult, error) {
	if a.Interactive {
		ctx = modbus.Interactive(ctx)
	}
	m, err := loadMeter(ctx, a.DB, op.meter)
	if err != nil {
		return DispatchResult{}, configError(err)
	}
	gw, err := a.Gateways.Get(m.Address, m.Profile)
	if err != nil {
		return DispatchResult{}, configError(err)
	}
	conn, err := a.DB.Acquire(ctx)
	if err != nil {
		return DispatchResult{}, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `select pg_advisory_lock(hashtext('meter:' || $1))`, m.ID); err != nil {
		return DispatchResult{}, fmt.Errorf("lock meter %s: %w", m.MeterNo, err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `select pg_advisory_unlock(hashtext('meter:' || $1))`, m.ID)
	}()

	before, err := a.read(ctx, conn, gw, m)
	if err != nil {
		return DispatchResult{}, err
	}
	if res, done, err := applied(ctx, conn, m, op, before); err != nil || done {
		return res, err
	}
	if op.kind == opRefund && op.amount.GreaterThan(money.FromCents(before.Remaining)) {
		err := fmt.Errorf("meter %s holds %s, less than the refund of %s", m.MeterNo, money.FromCents(before.Remaining), op.amount)
		return DispatchResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInsufficient, err)
	}
	if op.keepPower && before.Mode != profile.ModeProtect {
		// 不断电退费: protect mode first, so the deduction cannot trip the
		// relay; a failed switch is retried before anything is deducted.
		if err := gw.SetMode(ctx, m.Unit, profile.ModeProtect); err != nil {
			return DispatchResult{}, fmt.Errorf("protect mode on %s before the refund: %w", m.MeterNo, err)
		}
	}
	counter := int(before.PurchaseCount) + 1
	if _, err := conn.Exec(ctx, `insert into meter_purchases(meter_id, counter, recharge_id, amount, state, kind, remaining_before)
		values($1,$2,$3,$4,'claimed',$5,$6)`, m.ID, counter, op.id, op.amount, op.kind, money.FromCents(before.Remaining)); err != nil {
		if store.IsUniqueViolation(err) {
			return DispatchResult{}, fmt.Errorf("meter %s: counter %d already claimed although the meter shows %d (meter reset?)",
				m.MeterNo, counter, before.PurchaseCount)
		}
		return DispatchResult{}, fmt.Errorf("claim counter %d on %s: %w", counter, m.MeterNo, err)
	}
	write := gw.Recharge
	if op.kind == opRefund {
		write = gw.Refund
	}
	werr := write(ctx, m.Unit, uint16(counter), uint32(op.amount.Cents()))
	if errors.Is(werr, modbus.ErrRefused) {
		// Refused means nothing was applied: free the counter for the next try.
		if _, err := conn.Exec(ctx, `update meter_purchases set state='void', resolved_at=now()
			where meter_id=$1 and counter=$2 and state='claimed'`, m.ID, counter); err != nil {
			return DispatchResult{}, err
		}
		return DispatchResult{}, fmt.Errorf("meter %s refused %s counter %d: %w", m.MeterNo, op.kind, counter, werr)
	}
	// Whatever the write returned, the counter read back decides; if the
	// meter cannot be read the claim stays open and the next attempt settles it.
	after, err := a.read(ctx, conn, gw, m)
	if err != nil {
		return DispatchResult{}, errors.Join(werr, err)
	}
	res, done, err := applied(ctx, conn, m, op, after)
	if err != nil || done {
		return res, err
	}
	return DispatchResult{}, fmt.Errorf("meter %s did not take the %s (counter %d): %w", m.MeterNo, op.kind, after.PurchaseCount, werr)
}

// applied settles open claims against the meter's counter and reports
// whether this operation is among the taken ones.
func applied(ctx context.Context, conn *pgxpool.Conn, m Meter, op counted, s modbus.Snapshot) (DispatchResult, bool, error) {
	if _, err := conn.Exec(ctx, `update meter_purchases set state = case when counter <= $2 then 'applied' else 'void' end,
		resolved_at=now() where meter_id=$1 and state='claimed'`, m.ID, int(s.PurchaseCount)); err != nil {
		return DispatchResult{}, false, fmt.Errorf("settle claims of %s: %w", m.MeterNo, err)
	}
	var counter int
	err := conn.QueryRow(ctx, `select counter from meter_purchases where kind=$1 and recharge_id=$2 and state='applied'`,
		op.kind, op.id).Scan(&counter)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return DispatchResult{}, false, nil
		}
		return DispatchResult{}, false, err
	}
	return DispatchResult{Counter: counter, PurchaseCount: int(s.PurchaseCount), Remaining: money.FromCents(s.Remaining)}, true, nil
}

func (a *Activities) read(ctx context.Context, q execer, gw *modbus.Gateway, m Meter) (modbus.Snapshot, error) {
	s, err := gw.ReadMeter(ctx, m.Unit)
	if err != nil {
		return s, fmt.Errorf("read meter %s at %s unit %d: %w", m.MeterNo, m.Address, m.Unit, err)
	}
	if err := saveState(ctx, q, m.ID, s, a.Clock.Now()); err != nil {
		return s, err
	}
	return s, nil
}

// ReadInput and Reading live in store/meters, so workflows use them
// without importing this package.
type (
	ReadInput = metersstore.ReadInput
	Reading   = metersstore.Reading
)

// ReadMeter reads a meter and records its state.
func (a *Activities) ReadMeter(ctx context.Context, in ReadInput) (Reading, error) {
	m, err := loadMeter(ctx, a.DB, in.MeterID)
	if err != nil {
		return Reading{}, configError(err)
	}
	gw, err := a.Gateways.Get(m.Address, m.Profile)
	if err != nil {
		return Reading{}, configError(err)
	}
	at := a.Clock.Now()
	s, err := a.read(ctx, a.DB, gw, m)
	if err != nil {
		return Reading{}, err
	}
	a.observe(ctx, m.ID, money.FromCents(s.Remaining), false)
	return Reading{MeterNo: m.MeterNo, Remaining: money.FromCents(s.Remaining), PurchaseCount: int(s.PurchaseCount),
		Relay: int(s.Relay), Mode: int(s.Mode), ReadAt: at, EnergyKwh: money.FromCents(s.Energy)}, nil
}

func configError(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeMeterConfig, err)
}
