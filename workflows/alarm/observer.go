package alarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	domain "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/workflows/names"
)

// Observer is the hook every place that records a meter's state calls with
// the fresh reading: it signals-with-start the meter's low-balance alarm when
// the balance is at or below the alarm amount, and signals an open alarm when
// the balance is back or a recharge arrived.
//
// To keep a sweep of many meters cheap it reads the open alarm's
// next_threshold and stays silent for readings that cannot raise a stage.
type Observer struct {
	Client client.Client
	DB     *store.DB
	Log    *slog.Logger
}

// Observe reports one reading.
func (o *Observer) Observe(ctx context.Context, obs domain.Observation) error {
	var projectID, projectCode, meterNo string
	var alarmAmount money.Amount
	var open bool
	var next *money.Amount
	err := o.DB.QueryRow(ctx, `select m.project_id, p.code, m.meter_no, m.alarm1, a.id is not null, a.next_threshold
		from meters m join projects p on p.id = m.project_id
		left join alarms a on a.meter_id = m.id and a.kind = $2 and a.status = 'open'
		where m.id = $1`, obs.MeterID, KindLowBalance).Scan(&projectID, &projectCode, &meterNo, &alarmAmount, &open, &next)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("alarm hook: meter %s not found", obs.MeterID)
		}
		return fmt.Errorf("alarm hook: %w", err)
	}
	if !alarmAmount.IsPositive() {
		return nil // alarms off for this meter
	}
	id := WorkflowID(meterNo, KindLowBalance)
	low := obs.Remaining.Cmp(alarmAmount) <= 0
	switch {
	case obs.Recharged:
		return o.signal(ctx, id, SignalRecharge, Recharge{Remaining: obs.Remaining, At: obs.At})
	case !low:
		if !open {
			return nil
		}
		return o.signal(ctx, id, SignalReading, Reading{Remaining: obs.Remaining, At: obs.At})
	case open && (next == nil || obs.Remaining.GreaterThan(*next)):
		return nil // nothing this reading can raise
	}
	_, err = o.Client.SignalWithStartWorkflow(ctx, id, SignalReading, Reading{Remaining: obs.Remaining, At: obs.At},
		client.StartWorkflowOptions{ID: id, TaskQueue: names.MainQueue,
			TypedSearchAttributes: names.Attributes(projectCode, Kind, meterNo, "open")},
		KindLowBalanceWorkflow, Input{ProjectID: projectID, MeterID: obs.MeterID, MeterNo: meterNo})
	if err != nil {
		return fmt.Errorf("alarm hook: start %s: %w", id, err)
	}
	return nil
}

// signal signals a running alarm; none running is fine.
func (o *Observer) signal(ctx context.Context, id, name string, arg any) error {
	err := o.Client.SignalWorkflow(ctx, id, "", name, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alarm hook: signal %s %s: %w", name, id, err)
	}
	return nil
}

// ObserveMany reports a sweep's readings: one query picks the few that can
// change an alarm (a new one at or below the alarm amount, a deeper stage,
// a balance back above it), and only those are observed one by one.
func (o *Observer) ObserveMany(ctx context.Context, obs []domain.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	ids := make([]string, len(obs))
	amounts := make([]string, len(obs))
	byID := make(map[string]domain.Observation, len(obs))
	for i, ob := range obs {
		ids[i], amounts[i] = ob.MeterID, ob.Remaining.String()
		byID[ob.MeterID] = ob
	}
	// One index probe per reading (the lateral join, kept from being
	// flattened by offset 0): a join the planner is free to turn around
	// scans all of meters for every sweep write.
	rows, err := o.DB.Query(ctx, `select s.meter_id::text from unnest($1::uuid[], $2::numeric[]) as s(meter_id, remaining)
		cross join lateral (select m.id, m.alarm1 from meters m where m.id = s.meter_id and m.alarm1 > 0 offset 0) m
		left join alarms a on a.meter_id = m.id and a.kind = $3 and a.status = 'open'
		where (a.id is null and s.remaining <= m.alarm1)
			or (a.id is not null and (s.remaining > m.alarm1 or (a.next_threshold is not null and s.remaining <= a.next_threshold)))`,
		ids, amounts, KindLowBalance)
	if err != nil {
		return fmt.Errorf("alarm hook: select readings: %w", err)
	}
	var picked []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		picked = append(picked, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var errs []error
	for _, id := range picked {
		if err := o.Observe(ctx, byID[id]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
