package alarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/store"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
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
func (o *Observer) Observe(ctx context.Context, obs alarmdom.Observation) error {
	m, err := alarmstore.LoadObservedMeter(ctx, o.DB, obs.MeterID, KindLowBalance)
	if errors.Is(err, alarmstore.ErrObservedMeterNotFound) {
		return fmt.Errorf("alarm hook: meter %s not found", obs.MeterID)
	}
	if err != nil {
		return fmt.Errorf("alarm hook: %w", err)
	}
	if !m.AlarmAmount.IsPositive() {
		return nil // alarms off for this meter
	}
	id := WorkflowID(m.MeterNo, KindLowBalance)
	low := obs.Remaining.Cmp(m.AlarmAmount) <= 0
	switch {
	case obs.Recharged:
		return o.signal(ctx, id, SignalRecharge, Recharge{Remaining: obs.Remaining, At: obs.At})
	case !low:
		if !m.Open {
			return nil
		}
		return o.signal(ctx, id, SignalReading, Reading{Remaining: obs.Remaining, At: obs.At})
	case m.Open && (m.NextThreshold == nil || obs.Remaining.GreaterThan(*m.NextThreshold)):
		return nil // nothing this reading can raise
	}
	_, err = o.Client.SignalWithStartWorkflow(ctx, id, SignalReading, Reading{Remaining: obs.Remaining, At: obs.At},
		client.StartWorkflowOptions{ID: id, TaskQueue: names.MainQueue,
			TypedSearchAttributes: names.Attributes(m.ProjectCode, Kind, m.MeterNo, "open")},
		KindLowBalanceWorkflow, Input{ProjectID: m.ProjectID, MeterID: obs.MeterID, MeterNo: m.MeterNo})
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
func (o *Observer) ObserveMany(ctx context.Context, obs []alarmdom.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	byID := make(map[string]alarmdom.Observation, len(obs))
	for _, ob := range obs {
		byID[ob.MeterID] = ob
	}
	picked, err := alarmstore.PickObservations(ctx, o.DB, KindLowBalance, obs)
	if err != nil {
		return fmt.Errorf("alarm hook: %w", err)
	}
	var errs []error
	for _, id := range picked {
		if err := o.Observe(ctx, byID[id]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
