// Package safety is the Temporal adapter of safe use of electricity (安全用电):
// Activities (main queue) read limits and record a meter's safety state
// through store/safety; Devices (devices queue) switch the meter.
package safety

import (
	"context"
	"errors"
	"fmt"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/store"
	safetystore "github.com/voltflow/voltflow/store/safety"
)

// Inputs and results live in store/safety, so workflows build them without
// importing this package.
type (
	State       = safetystore.State
	SwitchInput = safetystore.SwitchInput
	LimitsInput = safetystore.LimitsInput
)

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
}

// SetSafetyState records the meter's safety state for the API.
func (a *Activities) SetSafetyState(ctx context.Context, s State) error {
	return safetystore.SetState(ctx, a.DB, s)
}

// SafetyLimits reads the limits that apply to the meter now (its own, else
// its project's); none is the zero Limits with the default allowed trips.
func (a *Activities) SafetyLimits(ctx context.Context, in LimitsInput) (safetydom.Limits, error) {
	l, _, err := safetystore.Effective(ctx, a.DB, in.MeterID)
	if errors.Is(err, safetystore.ErrNotFound) {
		return safetydom.Limits{AllowedTrips: safetydom.DefaultAllowedTrips}, nil
	}
	return l, err
}

// Devices run on the devices queue.
type Devices struct {
	DB       *store.DB
	Gateways *metersacts.Gateways
}

// SafetySwitch opens (Off) or closes the meter's relay. Both are states,
// so a retry after a lost answer writes again harmlessly. A switch-on is
// skipped when an operator switched the meter off since the trip.
func (d *Devices) SafetySwitch(ctx context.Context, in SwitchInput) error {
	if !in.Off && !in.Since.IsZero() {
		off, err := safetystore.OperatorOffSince(ctx, d.DB, in.MeterID, in.Since)
		if err != nil || off {
			return err
		}
	}
	m, err := metersacts.LoadMeter(ctx, d.DB, in.MeterID)
	if err != nil {
		if errors.Is(err, metersacts.ErrUnknownMeter) {
			return metersacts.ConfigError(err)
		}
		return err
	}
	if m.Protocol == "dlt645-tcp" {
		return metersacts.ConfigError(fmt.Errorf("meter %s: safety switching of DL/T 645 meters is not supported", m.MeterNo))
	}
	gw, err := d.Gateways.Get(m.Address, m.Profile)
	if err != nil {
		return metersacts.ConfigError(err)
	}
	if in.Off {
		err = gw.SwitchOff(ctx, m.Unit)
	} else {
		err = gw.SwitchOn(ctx, m.Unit)
	}
	if err != nil {
		return fmt.Errorf("meter %s safety switch (off=%v): %w", m.MeterNo, in.Off, err)
	}
	return nil
}
