// Package dispatch plans smart charging (调度充电): given a site power limit that may change over
// time, the station's TOU periods and the connected vehicles, it computes per-connector power limits
// for consecutive time slots. The plan never exceeds the site limit in any slot, meets departure
// times whenever that is physically possible, otherwise prefers cheap (valley) periods, and lists
// the vehicles it cannot satisfy with the reason.
//
// Energy is planned as an exact min-cost max-flow on whole watt-hours: vehicles → slots (capacity =
// vehicle max power × usable part of the slot) → sink (capacity = site limit × slot length). A max
// flow is the largest energy deliverable before the departures (the feasibility check), and the
// min cost among max flows puts that energy into the cheapest periods.
package dispatch

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Period is a TOU period kind (尖峰平谷).
type Period string

const (
	Valley Period = "valley"
	Flat   Period = "flat"
	Peak   Period = "peak"
	Sharp  Period = "sharp"
)

// rank orders periods by price; the planner minimises energy × rank.
func (p Period) rank() int64 {
	switch p {
	case Valley:
		return 1
	case Flat:
		return 2
	case Peak:
		return 3
	case Sharp:
		return 4
	}
	return 2 // an unknown period is priced like flat
}

// TOUPeriod is a daily period from Start to End (offsets from local midnight). End <= Start wraps
// over midnight, e.g. valley 23:00–07:00.
type TOUPeriod struct {
	Start, End time.Duration
	Kind       Period
}

// LimitStep sets the site limit from a moment on (until the next step).
type LimitStep struct {
	From time.Time
	KW   float64
}

// Vehicle is a connected vehicle on one connector.
type Vehicle struct {
	Connector  string
	SOC        float64 // percent 0–100
	TargetSOC  float64 // percent; 0 means 100
	BatteryKWh float64
	MaxKW      float64   // the vehicle's or connector's maximum power, whichever is lower
	Departure  time.Time // zero: no required departure (charged with what is left)
	// TaperSOC, when set, is where the vehicle's power starts to taper: the
	// energy above it takes about twice as long, so the plan reserves twice
	// that energy at full power (a tapering vehicle just takes less).
	TaperSOC float64
}

// PlanKWh is the energy planned for the vehicle: its need plus the taper reserve.
func (v Vehicle) PlanKWh() float64 {
	need := v.NeedKWh()
	if v.TaperSOC <= 0 || v.TaperSOC >= 100 {
		return need
	}
	target := v.TargetSOC
	if target <= 0 || target > 100 {
		target = 100
	}
	if band := (target - math.Max(v.SOC, v.TaperSOC)) / 100 * v.BatteryKWh; band > 0 {
		need += band
	}
	return need
}

// NeedKWh is the energy to bring the vehicle to its target SOC.
func (v Vehicle) NeedKWh() float64 {
	target := v.TargetSOC
	if target <= 0 || target > 100 {
		target = 100
	}
	need := (target - v.SOC) / 100 * v.BatteryKWh
	if need < 0 {
		return 0
	}
	return need
}

// Input is everything the planner needs.
type Input struct {
	Now       time.Time
	Horizon   time.Duration // planned span; extended to the latest departure
	Slot      time.Duration // nominal slot length (default 15 min); slots also split at TOU, limit and departure boundaries
	Location  *time.Location
	SiteLimit []LimitStep // at least one step at or before Now
	TOU       []TOUPeriod // empty: all flat
	Vehicles  []Vehicle
}

// Slot is one planned interval.
type Slot struct {
	Start, End time.Time
	Period     Period
	LimitKW    float64
	PowerKW    map[string]float64 // per connector
}

// Unmet is a vehicle whose target cannot be reached by its departure.
type Unmet struct {
	Connector  string
	NeedKWh    float64
	PlannedKWh float64
	Departure  time.Time
	Reason     string
}

// Plan is the planner's result.
type Plan struct {
	Slots     []Slot
	EnergyKWh map[string]float64 // planned energy per connector
	Unmet     []Unmet
}

// At returns the per-connector limits in force at t (nil outside the plan).
func (p Plan) At(t time.Time) map[string]float64 {
	for _, s := range p.Slots {
		if !t.Before(s.Start) && t.Before(s.End) {
			return s.PowerKW
		}
	}
	return nil
}

// TotalKW is the sum of the connector powers of a slot.
func (s Slot) TotalKW() float64 {
	var sum float64
	for _, kw := range s.PowerKW {
		sum += kw
	}
	return sum
}

// Errors for bad input.
var (
	ErrNoLimit  = errors.New("dispatch: no site limit in force at the start")
	ErrBadInput = errors.New("dispatch: invalid input")
)

// PeriodAt returns the TOU period in force at t.
func PeriodAt(tou []TOUPeriod, t time.Time, loc *time.Location) Period {
	if len(tou) == 0 {
		return Flat
	}
	lt := t.In(loc)
	mid := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	off := lt.Sub(mid)
	for _, p := range tou {
		if p.End > p.Start {
			if off >= p.Start && off < p.End {
				return p.Kind
			}
		} else if off >= p.Start || off < p.End { // wraps midnight
			return p.Kind
		}
	}
	return Flat
}

// NextBoundary returns the first TOU boundary strictly after t (zero time if there are no periods).
func NextBoundary(tou []TOUPeriod, t time.Time, loc *time.Location) time.Time {
	var best time.Time
	lt := t.In(loc)
	for day := -1; day <= 1; day++ {
		mid := time.Date(lt.Year(), lt.Month(), lt.Day()+day, 0, 0, 0, 0, loc)
		for _, p := range tou {
			for _, off := range []time.Duration{p.Start, p.End} {
				b := mid.Add(off)
				if b.After(t) && (best.IsZero() || b.Before(best)) {
					best = b
				}
			}
		}
	}
	return best
}

func limitAt(steps []LimitStep, t time.Time) (float64, bool) {
	kw, ok := 0.0, false
	for _, s := range steps {
		if !s.From.After(t) {
			kw, ok = s.KW, true
		}
	}
	return kw, ok
}

// Make computes a plan.
func Make(in Input) (Plan, error) {
	if in.Location == nil {
		in.Location = time.UTC
	}
	if in.Slot <= 0 {
		in.Slot = 15 * time.Minute
	}
	if in.Horizon <= 0 {
		in.Horizon = 24 * time.Hour
	}
	steps := append([]LimitStep(nil), in.SiteLimit...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].From.Before(steps[j].From) })
	if _, ok := limitAt(steps, in.Now); !ok {
		return Plan{}, ErrNoLimit
	}
	for _, s := range steps {
		if s.KW < 0 || math.IsNaN(s.KW) || math.IsInf(s.KW, 0) {
			return Plan{}, fmt.Errorf("%w: site limit %v kW", ErrBadInput, s.KW)
		}
	}
	seen := map[string]bool{}
	end := in.Now.Add(in.Horizon)
	for _, v := range in.Vehicles {
		switch {
		case v.Connector == "" || seen[v.Connector]:
			return Plan{}, fmt.Errorf("%w: connector %q missing or repeated", ErrBadInput, v.Connector)
		case v.BatteryKWh <= 0 || v.MaxKW < 0 || v.SOC < 0 || v.SOC > 100:
			return Plan{}, fmt.Errorf("%w: vehicle on %s (battery %v kWh, max %v kW, SOC %v)", ErrBadInput, v.Connector, v.BatteryKWh, v.MaxKW, v.SOC)
		}
		seen[v.Connector] = true
		if v.Departure.After(end) {
			end = v.Departure
		}
	}

	// Slot boundaries: the nominal grid plus every instant where something changes.
	bounds := []time.Time{in.Now, end}
	for t := in.Now.Add(in.Slot); t.Before(end); t = t.Add(in.Slot) {
		bounds = append(bounds, t)
	}
	for t := NextBoundary(in.TOU, in.Now, in.Location); !t.IsZero() && t.Before(end); t = NextBoundary(in.TOU, t, in.Location) {
		bounds = append(bounds, t)
	}
	for _, s := range steps {
		if s.From.After(in.Now) && s.From.Before(end) {
			bounds = append(bounds, s.From)
		}
	}
	for _, v := range in.Vehicles {
		if v.Departure.After(in.Now) && v.Departure.Before(end) {
			bounds = append(bounds, v.Departure)
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].Before(bounds[j]) })
	uniq := bounds[:1]
	for _, t := range bounds[1:] {
		if !t.Equal(uniq[len(uniq)-1]) {
			uniq = append(uniq, t)
		}
	}
	bounds = uniq

	plan := Plan{EnergyKWh: map[string]float64{}}
	for i := 0; i+1 < len(bounds); i++ {
		kw, _ := limitAt(steps, bounds[i])
		plan.Slots = append(plan.Slots, Slot{
			Start: bounds[i], End: bounds[i+1],
			Period:  PeriodAt(in.TOU, bounds[i], in.Location),
			LimitKW: kw, PowerKW: map[string]float64{},
		})
	}

	// Flow network: 0 source, 1 sink, 2.. vehicles, then slots. Units: Wh.
	nv, ns := len(in.Vehicles), len(plan.Slots)
	g := newGraph(2 + nv + ns)
	slotNode := func(j int) int { return 2 + nv + j }
	for j, s := range plan.Slots {
		g.addEdge(slotNode(j), 1, wh(s.LimitKW, s.End.Sub(s.Start)), 0)
	}
	type arc struct{ veh, slot, edge int }
	var arcs []arc
	addVehicle := func(i int, v Vehicle) {
		g.addEdge(0, 2+i, int64(math.Floor(v.PlanKWh()*1000)), 0)
		for j, s := range plan.Slots {
			usable := s.End.Sub(s.Start)
			if !v.Departure.IsZero() {
				if !v.Departure.After(s.Start) {
					continue
				}
				if v.Departure.Before(s.End) {
					usable = v.Departure.Sub(s.Start)
				}
			}
			// Cheap periods first; within a period, earlier slots slightly first so energy is not
			// needlessly left to the last moment.
			cost := s.Period.rank()*int64(ns+1) + int64(j)
			arcs = append(arcs, arc{i, j, g.addEdge(2+i, slotNode(j), wh(v.MaxKW, usable), cost)})
		}
	}
	// Vehicles with a departure first: their max flow is fixed before the others may use what is left
	// (augmenting paths never reduce the flow already leaving the source).
	for i, v := range in.Vehicles {
		if !v.Departure.IsZero() {
			addVehicle(i, v)
		}
	}
	g.minCostMaxFlow(0, 1)
	for i, v := range in.Vehicles {
		if v.Departure.IsZero() {
			addVehicle(i, v)
		}
	}
	g.minCostMaxFlow(0, 1)

	got := make([]int64, nv)
	for _, a := range arcs {
		f := g.flow(a.edge)
		if f <= 0 {
			continue
		}
		got[a.veh] += f
		s := &plan.Slots[a.slot]
		hours := s.End.Sub(s.Start).Hours()
		s.PowerKW[in.Vehicles[a.veh].Connector] += float64(f) / 1000 / hours
	}
	for j := range plan.Slots {
		for _, v := range in.Vehicles { // not a map range: plans run inside workflows
			if kw, ok := plan.Slots[j].PowerKW[v.Connector]; ok {
				plan.Slots[j].PowerKW[v.Connector] = math.Round(kw*1000) / 1000
			}
		}
	}
	for i, v := range in.Vehicles {
		plan.EnergyKWh[v.Connector] = float64(got[i]) / 1000
		need := int64(math.Floor(v.NeedKWh() * 1000))
		if v.Departure.IsZero() || got[i] >= int64(math.Floor(v.PlanKWh()*1000)) {
			continue
		}
		plan.Unmet = append(plan.Unmet, Unmet{
			Connector: v.Connector, NeedKWh: float64(need) / 1000, PlannedKWh: float64(got[i]) / 1000,
			Departure: v.Departure, Reason: reason(v, in, int64(math.Floor(v.PlanKWh()*1000)), got[i]),
		})
	}
	return plan, nil
}

// reason explains why a vehicle cannot be met: its own power, or the site limit shared with others.
func reason(v Vehicle, in Input, need, got int64) string {
	dep := v.Departure.In(in.Location).Format("15:04")
	hours := v.Departure.Sub(in.Now).Hours()
	if hours < 0 {
		hours = 0
	}
	own := int64(v.MaxKW * hours * 1000)
	msg := fmt.Sprintf("needs %.1f kWh by %s, at most %.1f kWh deliverable", float64(need)/1000, dep, float64(got)/1000)
	if v.PlanKWh() > v.NeedKWh() {
		msg = fmt.Sprintf("needs %.1f kWh by %s (%.1f kWh at full power with its taper above %.0f %%), at most %.1f kWh deliverable",
			v.NeedKWh(), dep, float64(need)/1000, v.TaperSOC, float64(got)/1000)
	}
	if own < need {
		return msg + fmt.Sprintf(" (vehicle max %.0f kW for %.1f h)", v.MaxKW, hours)
	}
	return msg + " (site limit shared with earlier departures)"
}

func wh(kw float64, d time.Duration) int64 {
	if kw <= 0 || d <= 0 {
		return 0
	}
	return int64(math.Floor(kw * d.Hours() * 1000))
}
