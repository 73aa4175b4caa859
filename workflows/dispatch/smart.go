package dispatch

import (
	"context"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	dispatchdom "github.com/voltflow/voltflow/domain/dispatch"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
)

// Signals and queries of a smart plan.
const (
	SignalVehicle   = "vehicle"    // a VehicleEvent: something plugged in or left (the charger hook)
	SignalSiteLimit = "site-limit" // a SiteLimit
	QueryPlan       = "plan"
)

// Fleet is what the operator knows of the vehicle parked at a connector
// (a bus with its battery and departure); unknown vehicles use Default.
type Fleet struct {
	Target      dispatchstore.Target `json:"target"`
	CapacityKWh float64              `json:"capacityKwh"`
	MaxKW       float64              `json:"maxKw"`
	TargetSOC   float64              `json:"targetSoc,omitempty"`
	TaperSOC    float64              `json:"taperSoc,omitempty"`  // where its power tapers (0: not modelled)
	Departure   time.Time            `json:"departure,omitempty"` // plan time; zero: none
}

// SiteLimit changes the site limit from a plan time on (zero From: now).
type SiteLimit struct {
	KW   float64   `json:"kw"`
	From time.Time `json:"from,omitempty"`
}

// VehicleEvent tells a plan that a connector's transaction started or stopped.
type VehicleEvent struct {
	Target dispatchstore.Target `json:"target"`
	Kind   string               `json:"kind"` // started, stopped
}

// SmartInput is a smart plan.
type SmartInput struct {
	ProjectID   string                  `json:"projectId"`
	StationID   string                  `json:"stationId"`
	PlanID      string                  `json:"planId"`
	Clock       Clock                   `json:"clock"`
	Location    string                  `json:"location,omitempty"` // TOU periods' zone, default Asia/Shanghai
	SiteLimitKW float64                 `json:"siteLimitKw"`
	Limits      []SiteLimit             `json:"limits,omitempty"` // later changes (carried across continue-as-new)
	TOU         []dispatchdom.TOUPeriod `json:"tou"`
	Connectors  []dispatchstore.Target  `json:"connectors"` // under this plan
	Fleet       []Fleet                 `json:"fleet,omitempty"`
	Default     Fleet                   `json:"default"`          // an unknown vehicle (default 300 kWh, 120 kW)
	Replan      time.Duration           `json:"replan,omitempty"` // plan time between re-plans, default 15 min
	Horizon     time.Duration           `json:"horizon,omitempty"`
	Until       time.Time               `json:"until,omitempty"`   // plan time the plan ends (zero: never)
	Applied     map[string]float64      `json:"applied,omitempty"` // kW last installed per connector key
}

// PlanState is what the plan query answers.
type PlanState struct {
	At        time.Time           `json:"at"`
	SiteKW    float64             `json:"siteKw"`
	LimitsKW  map[string]float64  `json:"limitsKw"`
	Unmet     []dispatchdom.Unmet `json:"unmet"`
	Replans   int                 `json:"replans"`
	Outcomes  []Outcome           `json:"outcomes"`
	EnergyKWh map[string]float64  `json:"energyKwh"`
}

func key(t dispatchstore.Target) string { return t.ChargePointID + "#" + itoa(t.Connector) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// SmartWorkflow plans and applies per-connector power limits until Until,
// or until cancelled (DELETE /dispatch/plans/...); either way it then
// releases the limits it installed, so no connector stays held at its
// last share (idle ones at 0 kW) after the plan.
func SmartWorkflow(ctx workflow.Context, in SmartInput) (state PlanState, err error) {
	if err := workflow.SetQueryHandler(ctx, QueryPlan, func() (PlanState, error) { return state, nil }); err != nil {
		return state, err
	}
	vehicles := workflow.GetSignalChannel(ctx, SignalVehicle)
	limits := workflow.GetSignalChannel(ctx, SignalSiteLimit)
	if in.Clock.Origin.IsZero() && !in.Clock.Epoch.IsZero() {
		in.Clock.Origin = workflow.Now(ctx)
	}
	cadence := dispatchdom.Cadence{Replan: in.Replan, Horizon: in.Horizon}.WithDefaults()
	in.Replan, in.Horizon = cadence.Replan, cadence.Horizon
	unknown := in.Default.model().WithDefaults()
	in.Default.CapacityKWh, in.Default.MaxKW = unknown.BatteryKWh, unknown.MaxKW
	if in.Applied == nil {
		in.Applied = map[string]float64{}
	}
	loc := dispatchdom.PlanLocation(in.Location)
	cps := map[string]bool{}
	var cpIDs []string
	for _, t := range in.Connectors {
		if !cps[t.ChargePointID] {
			cps[t.ChargePointID] = true
			cpIDs = append(cpIDs, t.ChargePointID)
		}
	}
	sort.Strings(cpIDs)
	controlled := map[dispatchstore.Target]bool{}
	for _, t := range in.Connectors {
		controlled[t] = true
	}
	fleet := map[dispatchstore.Target]Fleet{}
	for _, f := range in.Fleet {
		fleet[f.Target] = f
	}
	defer func() {
		if workflow.IsContinueAsNewError(err) {
			return
		}
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		if workflow.GetVersion(dctx, "release-at-end", workflow.DefaultVersion, 1) < 1 {
			return
		}
		state.Outcomes = append(state.Outcomes, release(dctx, in)...)
	}()

	for {
		now := in.Clock.Now(workflow.Now(ctx))
		if !in.Until.IsZero() && !now.Before(in.Until) {
			return state, nil
		}
		var active []dispatchstore.Active
		if err := dispatchSnapshot(mainCtx(ctx), dispatchstore.SnapshotInput{ChargePointIDs: cpIDs}).
			Get(ctx, &active); err != nil {
			return state, err
		}
		changes := make([]dispatchdom.LimitStep, len(in.Limits))
		for i, l := range in.Limits {
			changes[i] = dispatchdom.LimitStep{From: l.From, KW: l.KW}
		}
		steps, siteKW, later := dispatchdom.SiteLimits(now, in.SiteLimitKW, changes)
		in.SiteLimitKW, in.Limits = siteKW, nil
		for _, l := range later {
			in.Limits = append(in.Limits, SiteLimit{KW: l.KW, From: l.From})
		}
		var vs []dispatchdom.Vehicle
		// Every controlled connector gets a limit, idle ones 0 kW: a vehicle
		// plugging in then waits for its share instead of taking the
		// nameplate before the re-plan (the limit is a TxDefault profile).
		targets := map[string]dispatchstore.Target{}
		for _, t := range in.Connectors {
			targets[key(t)] = t
		}
		for _, a := range active {
			if !controlled[a.Target] {
				continue
			}
			f, ok := fleet[a.Target]
			if !ok {
				f = in.Default
			}
			vs = append(vs, dispatchdom.PluggedIn(key(a.Target), f.model(), a.SOC, f.Departure, now))
		}
		pin := PlanInput{Now: now, Horizon: in.Horizon, Slot: in.Replan, Location: in.Location,
			SiteLimit: steps, TOU: in.TOU, Vehicles: vs}
		var plan Planned
		fallback := false
		if workflow.GetVersion(ctx, "plan-in-local-activity", workflow.DefaultVersion, 1) >= 1 {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: planTimeout,
				ScheduleToCloseTimeout: planTimeout, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
			if err := workflow.ExecuteLocalActivity(lctx, MakePlan, pin).Get(ctx, &plan); err != nil {
				if ctx.Err() != nil {
					return state, err
				}
				// The planner's search can take very long on rare inputs: share
				// the limit safely until the next re-plan rather than stall.
				workflow.GetLogger(ctx).Warn("dispatch: planner failed; sharing the site limit equally", "error", err)
				plan, fallback = EqualShare(steps[0].KW, vs), true
			}
		} else {
			plan, err = MakePlan(context.Background(), pin) // as recorded before the local activity
			if err != nil {
				return state, err
			}
		}
		// Install what changed: lower limits first so the sum never passes the
		// site limit while limits move between connectors.
		keys := make([]string, 0, len(in.Connectors))
		for _, t := range in.Connectors {
			keys = append(keys, key(t))
		}
		sort.Strings(keys)
		belowOnly := workflow.GetVersion(ctx, "small-change-below-plan-only", workflow.DefaultVersion, 1) >= 1
		lower, raise := limitCommands(keys, plan.Want, in.Applied, targets, belowOnly)
		outs := sendAll(ctx, in.Clock, lower)
		outs = append(outs, sendAll(ctx, in.Clock, raise)...)
		for _, o := range outs {
			if o.Status == "Accepted" {
				in.Applied[key(o.Target)] = o.PowerKW
			}
		}
		state.At, state.SiteKW, state.Unmet, state.EnergyKWh = now, in.SiteLimitKW, plan.Unmet, plan.EnergyKWh
		state.LimitsKW = map[string]float64{}
		for _, k := range keys {
			if v, ok := in.Applied[k]; ok {
				state.LimitsKW[k] = v
			}
		}
		state.Replans++
		state.Outcomes = append(state.Outcomes, outs...)
		if len(state.Outcomes) > 200 {
			state.Outcomes = state.Outcomes[len(state.Outcomes)-200:]
		}

		// Wake at the end of the current slot (a TOU boundary, a limit step, a
		// departure or the re-plan interval), or on a signal.
		wake := now.Add(in.Replan)
		if !plan.SlotEnd.IsZero() && plan.SlotEnd.Before(wake) {
			wake = plan.SlotEnd
		}
		if b := dispatchdom.NextBoundary(in.TOU, now, loc); !b.IsZero() && b.Before(wake) {
			wake = b
		}
		if fallback {
			for _, l := range in.Limits { // the plan's slots would have ended there
				if l.From.After(now) && l.From.Before(wake) {
					wake = l.From
				}
			}
		}
		if !in.Until.IsZero() && in.Until.Before(wake) {
			wake = in.Until
		}
		timerCtx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(workflow.NewTimer(timerCtx, in.Clock.Wait(wake.Sub(now))), func(workflow.Future) {})
		sel.AddReceive(vehicles, func(c workflow.ReceiveChannel, _ bool) {
			var ev VehicleEvent
			c.Receive(ctx, &ev)
		})
		sel.AddReceive(limits, func(c workflow.ReceiveChannel, _ bool) {
			var l SiteLimit
			c.Receive(ctx, &l)
			if l.From.IsZero() {
				l.From = in.Clock.Now(workflow.Now(ctx))
			}
			in.Limits = append(in.Limits, l)
		})
		sel.Select(ctx)
		cancel()
		// Drain what else arrived so one re-plan covers a burst of plug-ins.
		for {
			var l SiteLimit
			if !limits.ReceiveAsync(&l) {
				break
			}
			if l.From.IsZero() {
				l.From = in.Clock.Now(workflow.Now(ctx))
			}
			in.Limits = append(in.Limits, l)
		}
		for {
			var ev VehicleEvent
			if !vehicles.ReceiveAsync(&ev) {
				break
			}
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() || state.Replans >= 300 {
			return state, workflow.NewContinueAsNewError(ctx, KindSmart, in)
		}
	}
}

// release clears the plan's profile from every connector it controls.
func release(ctx workflow.Context, in SmartInput) []Outcome {
	cmds := make([]Command, 0, len(in.Connectors))
	for _, t := range in.Connectors {
		cmds = append(cmds, Command{Target: t, Command: CmdRelease})
	}
	return sendAll(ctx, in.Clock, cmds)
}

// model is what the planner knows of the vehicle.
func (f Fleet) model() dispatchdom.Model {
	return dispatchdom.Model{BatteryKWh: f.CapacityKWh, MaxKW: f.MaxKW, TargetSOC: f.TargetSOC, TaperSOC: f.TaperSOC}
}

// PlanInput is the planner's input as a workflow can record it (a zone
// name instead of a *time.Location).
type PlanInput struct {
	Now       time.Time               `json:"now"`
	Horizon   time.Duration           `json:"horizon"`
	Slot      time.Duration           `json:"slot"`
	Location  string                  `json:"location,omitempty"`
	SiteLimit []dispatchdom.LimitStep `json:"siteLimit"`
	TOU       []dispatchdom.TOUPeriod `json:"tou"`
	Vehicles  []dispatchdom.Vehicle   `json:"vehicles"`
}

// Planned is what a re-plan needs of the plan: the limits now, the unmet
// vehicles, the energy per connector and when the current slot ends —
// small enough to record on every re-plan.
type Planned struct {
	Want      map[string]float64  `json:"want"`
	Unmet     []dispatchdom.Unmet `json:"unmet"`
	EnergyKWh map[string]float64  `json:"energyKwh"`
	SlotEnd   time.Time           `json:"slotEnd,omitempty"`
}

// planTimeout bounds one run of the planner.
const planTimeout = 20 * time.Second

// EqualShare is the plan when the planner fails: the site limit shared
// equally by the plugged-in vehicles (each at most its own maximum), idle
// connectors at 0 — never over the limit, though blind to TOU and departures.
func EqualShare(siteKW float64, vs []dispatchdom.Vehicle) Planned {
	return Planned{Want: dispatchdom.EqualShare(siteKW, vs)}
}

// MakePlan runs the planner. Smart plans call it as a local activity: a
// large plan on a busy machine may hold the CPU longer than a workflow task
// may keep its goroutine (the SDK's deadlock detector allows 1 s).
func MakePlan(_ context.Context, in PlanInput) (Planned, error) {
	p, err := dispatchdom.Make(dispatchdom.Input{Now: in.Now, Horizon: in.Horizon, Slot: in.Slot, Location: dispatchdom.PlanLocation(in.Location),
		SiteLimit: in.SiteLimit, TOU: in.TOU, Vehicles: in.Vehicles})
	if err != nil {
		return Planned{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidPlan", err)
	}
	out := Planned{Want: p.At(in.Now), Unmet: p.Unmet, EnergyKWh: p.EnergyKWh}
	if len(p.Slots) > 0 {
		out.SlotEnd = p.Slots[0].End
	}
	return out, nil
}

// limitCommands are the limit commands that install a plan's wants over
// the applied limits (planner.LimitChanges): the lowered ones, to send
// first, and the raised ones. belowOnly is the versioned fix for a small
// rise left in force that let the sum pass the site limit (by 100 W in
// tests/dispatch).
func limitCommands(keys []string, want, applied map[string]float64, targets map[string]dispatchstore.Target, belowOnly bool) (lower, raise []Command) {
	lc, rc := dispatchdom.LimitChanges(keys, want, applied, belowOnly)
	cmd := func(c dispatchdom.LimitChange) Command {
		return Command{Target: targets[c.Connector], Command: CmdLimit, PowerKW: c.KW}
	}
	for _, c := range lc {
		lower = append(lower, cmd(c))
	}
	for _, c := range rc {
		raise = append(raise, cmd(c))
	}
	return lower, raise
}
