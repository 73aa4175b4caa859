package dispatch

import (
	"math"
	"time"
)

// Defaults of a smart plan, for what its request leaves out. The depot the
// seed describes charges electric buses.
const (
	DefaultReplan  = 15 * time.Minute // plan time between re-plans
	DefaultHorizon = 24 * time.Hour   // how far a plan looks ahead
	// An unknown vehicle: a typical electric bus.
	DefaultBatteryKWh = 300.0
	DefaultMaxKW      = 120.0
	// DefaultSOC is a vehicle's state of charge before its first meter
	// value: a typical returning bus.
	DefaultSOC = 20.0
)

// Cadence is how often a smart plan re-plans and how far it looks ahead.
type Cadence struct {
	Replan, Horizon time.Duration
}

// WithDefaults fills an unset (or negative) re-plan interval or horizon.
func (c Cadence) WithDefaults() Cadence {
	if c.Replan <= 0 {
		c.Replan = DefaultReplan
	}
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon
	}
	return c
}

// Model is what the operator knows of a vehicle: its battery, its
// charging power and where to stop (0: 100 %).
type Model struct {
	BatteryKWh, MaxKW, TargetSOC, TaperSOC float64
}

// WithDefaults fills an unknown battery or power with those of the
// default vehicle.
func (m Model) WithDefaults() Model {
	if m.BatteryKWh <= 0 {
		m.BatteryKWh = DefaultBatteryKWh
	}
	if m.MaxKW <= 0 {
		m.MaxKW = DefaultMaxKW
	}
	return m
}

// PluggedIn is the vehicle to plan for on connector at now: soc as last
// reported (nil: DefaultSOC) and a departure that has passed dropped — a
// vehicle still here after it charges with what is left.
func PluggedIn(connector string, m Model, soc *int, departure, now time.Time) Vehicle {
	s := DefaultSOC
	if soc != nil {
		s = float64(*soc)
	}
	if !departure.IsZero() && !departure.After(now) {
		departure = time.Time{}
	}
	return Vehicle{Connector: connector, SOC: s, TargetSOC: m.TargetSOC, BatteryKWh: m.BatteryKWh, MaxKW: m.MaxKW,
		Departure: departure, TaperSOC: m.TaperSOC}
}

// SiteLimits folds the site limit's changes into the steps a plan at now
// uses: a change already due replaces the limit in force (in order), later
// ones become steps. It returns the steps (the first from just before now),
// the limit in force and the changes still to come.
func SiteLimits(now time.Time, inForce float64, changes []LimitStep) (steps []LimitStep, kw float64, later []LimitStep) {
	steps = []LimitStep{{From: now.Add(-time.Second), KW: inForce}}
	kw = inForce
	for _, c := range changes {
		if !c.From.After(now) {
			steps[0].KW, kw = c.KW, c.KW
			continue
		}
		later = append(later, c)
		steps = append(steps, c)
	}
	return steps, kw, later
}

// PlanLocation is the zone of a plan's TOU periods; an empty or unknown
// name is China Standard Time.
func PlanLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if name == "" || err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// EqualShare is the plan when the planner fails: the site limit shared
// equally by the plugged-in vehicles (each at most its own maximum), never
// over the limit, though blind to TOU and departures.
func EqualShare(siteKW float64, vs []Vehicle) map[string]float64 {
	out := map[string]float64{}
	if len(vs) == 0 {
		return out
	}
	share := math.Max(siteKW, 0) / float64(len(vs))
	for _, v := range vs {
		out[v.Connector] = math.Min(share, v.MaxKW)
	}
	return out
}

// LimitChange is a connector's new power limit.
type LimitChange struct {
	Connector string
	KW        float64
}

// LimitChanges install a plan's wants over the applied limits: the lowered
// ones, to send first so the sum never passes the site limit while limits
// move between connectors, and the raised ones. A want is floored to 0.1 kW.
// Changes under 0.5 kW are not sent (chargers take each limit as a
// command), but with belowOnly only a limit at or below its new plan may
// stay: one left above lets the sum pass the site limit.
func LimitChanges(connectors []string, want, applied map[string]float64, belowOnly bool) (lower, raise []LimitChange) {
	for _, k := range connectors {
		kw := math.Floor(want[k]*10) / 10
		old, had := applied[k]
		if had && math.Abs(old-kw) < 0.5 && (!belowOnly || old <= kw) {
			continue
		}
		c := LimitChange{Connector: k, KW: kw}
		if had && kw > old {
			raise = append(raise, c)
		} else {
			lower = append(lower, c)
		}
	}
	return lower, raise
}

// Limits of a dispatch plan request.
const (
	MaxActions       = 100          // actions of a timed plan
	MaxLateMinutes   = 24 * 60      // how late a timed action may still run
	MaxEveryMinutes  = 31 * 24 * 60 // the longest repeat of a timed action
	MaxCommandKW     = 10_000       // a limit command's power
	MaxSiteLimitKW   = 100_000
	MaxBatteryKWh    = 5000
	MaxVehicleKW     = 2000
	MaxReplanMinutes = 24 * 60
	MaxHorizonHours  = 7 * 24
	MinClockFactor   = 1 // an accelerated plan clock (demos, tests)
	MaxClockFactor   = 10_000
)

// ValidPower is a power from 0 to max kW.
func ValidPower(kw, max float64) bool { return !math.IsNaN(kw) && kw >= 0 && kw <= max }

// ValidSOC is a state of charge in percent, 0–100.
func ValidSOC(soc float64) bool { return !math.IsNaN(soc) && soc >= 0 && soc <= 100 }

// ValidBattery is a battery of more than 0 and at most MaxBatteryKWh.
func ValidBattery(kwh float64) bool { return !math.IsNaN(kwh) && kwh > 0 && kwh <= MaxBatteryKWh }

// ValidVehiclePower is a vehicle's power, more than 0 and at most MaxVehicleKW.
func ValidVehiclePower(kw float64) bool { return !math.IsNaN(kw) && kw > 0 && kw <= MaxVehicleKW }

// ValidClockFactor is how much faster than real time a plan clock may run.
func ValidClockFactor(f float64) bool {
	return !math.IsNaN(f) && f >= MinClockFactor && f <= MaxClockFactor
}
