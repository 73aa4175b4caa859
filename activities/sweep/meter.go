package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/domain/money"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
)

// MeterInput names one meter to read now (store/sweep).
type MeterInput = sweepstore.MeterInput

// MeterReading is the fresh state of one meter; the store's type, so the
// workflow's history keeps the same JSON.
type MeterReading = sweepstore.MeterReading

// SweepMeter reads one meter through the sweep's path: the reading, the
// latest state and the contact counters are written as a sweep writes them,
// with the read time as the slot. A meter that does not answer is an error.
func (a *Activities) SweepMeter(ctx context.Context, in MeterInput) (MeterReading, error) {
	if a.Interactive {
		ctx = modbus.Interactive(ctx)
	}
	gws, err := sweepstore.LoadMeter(ctx, a.DB, in.ProjectID, in.MeterID)
	if err == nil && len(gws) == 0 {
		err = fmt.Errorf("meter %s: %w", in.MeterID, metersacts.ErrUnknownMeter)
	}
	if err != nil {
		return MeterReading{}, temporal.NewNonRetryableApplicationError(err.Error(), metersacts.ErrTypeMeterConfig, err)
	}
	g := gws[0]
	// Millisecond slots: a sweep's slots are whole seconds, so an on-demand
	// read never lands on a sweep's key.
	at := a.Clock.Now().UTC().Truncate(time.Millisecond)
	if at.Truncate(time.Second).Equal(at) {
		at = at.Add(time.Millisecond)
	}
	if err := sweepstore.EnsurePartitions(ctx, a.DB, at); err != nil {
		return MeterReading{}, err
	}
	o := a.readGateway(ctx, g, at)
	var b batch
	addOutcome(&b, o)
	if _, err := a.write(ctx, at, &b); err != nil {
		return MeterReading{}, err
	}
	a.observe(ctx, b.Rows)
	m := g.Meters[0]
	switch {
	case o.down != "":
		return MeterReading{}, fmt.Errorf("meter %s: gateway %s: %s", m.MeterNo, g.Code, o.down)
	case len(o.failed) > 0:
		return MeterReading{}, fmt.Errorf("meter %s: %s", m.MeterNo, o.failed[0].Err)
	case len(o.rows) == 0:
		return MeterReading{}, errors.New("meter " + m.MeterNo + " was not read")
	}
	r := o.rows[0]
	return MeterReading{MeterNo: m.MeterNo, Remaining: money.FromCents(r.S.Remaining), PurchaseCount: int(r.S.PurchaseCount),
		EnergyCenti: r.S.Energy, Relay: int(r.S.Relay), Mode: int(r.S.Mode), ReadAt: r.TakenAt}, nil
}
