// Package safety is safe use of electricity (安全用电, seed 002): limits on
// a meter's load, and what a trip does. Over its limit a meter is off for
// three minutes and then on again; after the allowed number of trips it
// stays off until a manager has checked the premises and restores it.
//
// Which trips the platform sees: the meter's own overload and malignant-load
// trips (status flags, for meters that enforce downloaded limits
// themselves), and, for every meter, a sweep reading whose power is above
// the maximum load or the time-of-use limit of that time of day. A
// malignant load (a resistive heater switched on) is told by the meter from
// its power step within seconds; readings minutes apart cannot, so the
// malignant-load start power is only enforced where the meter's profile
// can take it.
package safety

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultOff is how long a trip keeps the meter off (seed 002: 3 minutes).
const DefaultOff = 3 * time.Minute

// DefaultAllowedTrips applies when a limits row does not say.
const DefaultAllowedTrips = 3

// Window is a time-of-use power limit (分时功率): between From and To local
// time ("HH:MM", To before From spans midnight) the load may not exceed KW.
type Window struct {
	From string          `json:"from"`
	To   string          `json:"to"`
	KW   decimal.Decimal `json:"kw"`
}

// Limits are a meter's or a project's safety limits; a nil limit is off.
type Limits struct {
	MaxLoadKW        *decimal.Decimal `json:"maxLoadKw"`
	MalignantStartKW *decimal.Decimal `json:"malignantStartKw"`
	AllowedTrips     int              `json:"allowedTrips"`
	TOU              []Window         `json:"touLimits"`
	UTCOffsetMinutes int              `json:"utcOffsetMinutes"`
}

// Validate checks limits an operator sets.
func (l Limits) Validate() error {
	for name, v := range map[string]*decimal.Decimal{"maxLoadKw": l.MaxLoadKW, "malignantStartKw": l.MalignantStartKW} {
		if v != nil && (!v.IsPositive() || v.Exponent() < -3 || v.GreaterThan(decimal.NewFromInt(10000))) {
			return fmt.Errorf("%s must be above 0 and at most 10000 kW, with at most 3 places", name)
		}
	}
	if l.AllowedTrips < 0 || l.AllowedTrips > 1000 {
		return errors.New("allowedTrips is 0 to 1000")
	}
	if len(l.TOU) > 12 {
		return errors.New("at most 12 touLimits")
	}
	for i, w := range l.TOU {
		f, err1 := minuteOfDay(w.From)
		t, err2 := minuteOfDay(w.To)
		if err1 != nil || err2 != nil || f == t {
			return fmt.Errorf("touLimits[%d]: from and to are different HH:MM times", i)
		}
		if !w.KW.IsPositive() || w.KW.Exponent() < -3 {
			return fmt.Errorf("touLimits[%d]: kw must be above 0, with at most 3 places", i)
		}
	}
	if l.UTCOffsetMinutes < -720 || l.UTCOffsetMinutes > 840 {
		return errors.New("utcOffsetMinutes is -720 to 840")
	}
	return nil
}

func minuteOfDay(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Status flag bits a meter reports when it tripped itself (devices/profile).
const (
	flagOverloadTrip  = 1 << 3
	flagMalignantTrip = 1 << 4
)

// Reasons of a trip.
const (
	ReasonMaxLoad       = "max_load"       // reading above the maximum load
	ReasonTOU           = "tou_limit"      // reading above the time-of-use limit
	ReasonMeterOverload = "overload_trip"  // the meter tripped itself on overload
	ReasonMalignant     = "malignant_load" // the meter tripped itself on a malignant load
)

// Reading is what a sweep read of a meter.
type Reading struct {
	PowerW int64 // W (= 0.001 kW), as the sweep reads it
	Status uint16
	At     time.Time
}

// Check tells whether a reading is a trip under the limits, and why.
func Check(l Limits, r Reading) (reason string, trip bool) {
	kw := decimal.New(r.PowerW, -3)
	switch {
	case r.Status&flagMalignantTrip != 0:
		return ReasonMalignant, true
	case r.Status&flagOverloadTrip != 0:
		return ReasonMeterOverload, true
	case l.MaxLoadKW != nil && kw.GreaterThan(*l.MaxLoadKW):
		return ReasonMaxLoad, true
	}
	if w, ok := l.window(r.At); ok && kw.GreaterThan(w.KW) {
		return ReasonTOU, true
	}
	return "", false
}

// window is the time-of-use limit in force at t, if any (the first that
// matches).
func (l Limits) window(t time.Time) (Window, bool) {
	local := t.UTC().Add(time.Duration(l.UTCOffsetMinutes) * time.Minute)
	m := local.Hour()*60 + local.Minute()
	for _, w := range l.TOU {
		f, err1 := minuteOfDay(w.From)
		to, err2 := minuteOfDay(w.To)
		if err1 != nil || err2 != nil {
			continue
		}
		if (f < to && m >= f && m < to) || (f > to && (m >= f || m < to)) {
			return w, true
		}
	}
	return Window{}, false
}

// Status of a meter's safety.
type Status string

const (
	Normal    Status = "normal"     // power on, under its limits
	Tripped   Status = "tripped"    // off for DefaultOff after a trip
	LockedOut Status = "locked_out" // past the allowed trips: off until a manager restores it
)

// AfterTrip is the status after a meter's trips-th trip since it was last
// restored: within the allowed count it comes back by itself.
func AfterTrip(trips, allowed int) Status {
	if trips > allowed {
		return LockedOut
	}
	return Tripped
}

// OffFor is how long a trip keeps the meter off on a clock running speed
// times real time (a demo or test world; speed ≤ 1 is real time).
func OffFor(speed float64) time.Duration {
	if speed <= 1 {
		return DefaultOff
	}
	return time.Duration(float64(DefaultOff) / speed)
}

// MeterBlock renders limits as the register values of a meter's
// safety-limit block (command set_safety_limits, devices/profile/README.md):
// kW in W (0.001 kW), a check that is off as 0. Time-of-use limits have no
// registers: the platform keeps enforcing them from readings.
func (l Limits) MeterBlock() map[string]int64 {
	w := func(kw *decimal.Decimal) int64 {
		if kw == nil {
			return 0
		}
		return kw.Shift(3).Round(0).IntPart()
	}
	return map[string]int64{"max_load": w(l.MaxLoadKW), "malignant_start": w(l.MalignantStartKW), "allowed_trips": int64(l.AllowedTrips)}
}
