// Package aircon runs central air-conditioning billing's activities: the
// controller read over Modbus TCP on the devices queue (Devices) and the
// period's allocation through store/aircon on the main queue (Activities).
// Both are idempotent: a bound read before is not read again, a period
// allocated before books nothing again.
package aircon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/devices/profile"
	aircondom "github.com/voltflow/voltflow/domain/aircon"
	"github.com/voltflow/voltflow/store"
	airconstore "github.com/voltflow/voltflow/store/aircon"
)

// ErrRefused is the application error type of what retrying cannot fix (no
// plant reading at a bound, no controller reading, no weight, a unit
// without a meter to pay, an unknown system): the workflow fails with it.
const ErrRefused = "aircon_refused"

// The inputs live in store/aircon, so workflows build them without
// importing this package.
type (
	AllocateInput  = airconstore.AllocateInput
	AllocateResult = airconstore.AllocateResult
	ReadInput      = airconstore.ReadInput
	ReadResult     = airconstore.ReadResult
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// AllocateAircon allocates the system's period and books the shares once.
func (a *Activities) AllocateAircon(ctx context.Context, in AllocateInput) (AllocateResult, error) {
	out, err := airconstore.Allocate(ctx, a.DB, in)
	if errors.Is(err, airconstore.ErrInvalid) || errors.Is(err, airconstore.ErrNoReading) ||
		errors.Is(err, airconstore.ErrNotFound) {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	return out, err
}

// Devices run on the devices queue: they talk to controllers.
type Devices struct {
	DB       *store.DB
	Gateways *metersacts.Gateways
}

// ReadAirconController reads every indoor unit of the system from its
// controller over Modbus and stores the counters for the bound, unless
// that bound was read before. One indoor unit that does not answer fails
// the read (retried): a bound is stored whole or not at all.
func (d *Devices) ReadAirconController(ctx context.Context, in ReadInput) (ReadResult, error) {
	var out ReadResult
	c, have, err := airconstore.ControllerOf(ctx, d.DB, in.SystemID, in.Bound)
	if errors.Is(err, airconstore.ErrNotFound) {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	if err != nil || have {
		return out, err
	}
	g, err := d.Gateways.Get(c.Address, c.Profile)
	if err != nil {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	capQ, ok := g.Profile().Quantity(profile.AirconCapacity)
	if !ok {
		err := fmt.Errorf("profile %s has no %s", c.Profile, profile.AirconCapacity)
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	readings := make([]airconstore.UnitReading, 0, len(c.Units))
	for _, u := range c.Units {
		s, err := g.ReadMeter(ctx, uint8(u.ControllerUnit))
		if err != nil {
			return out, fmt.Errorf("indoor unit %s (unit id %d) at %s: %w", u.Code, u.ControllerUnit, c.Address, err)
		}
		v := s.Values
		readings = append(readings, airconstore.UnitReading{IndoorUnitID: u.ID, Counters: aircondom.Counters{
			RuntimeMin:   v[profile.AirconRuntime],
			ValveOpenMin: v[profile.AirconValveOpen],
			CapacityKW:   decimal.New(v[profile.AirconCapacity], capQ.Scale.Exp()),
			Running:      v[profile.AirconRunning] != 0,
		}})
	}
	out.Units, out.ReadAt = len(readings), time.Now()
	out.Stored, err = airconstore.SaveReading(ctx, d.DB, in.SystemID, in.Bound, out.ReadAt, readings)
	return out, err
}
