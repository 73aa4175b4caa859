// Package safety is the safety/<meterNo> workflow (安全用电, seed 002): one
// per meter that ever tripped. A trip switches the meter off for three
// minutes and on again; past the allowed number of trips it stays off until
// a manager (admin or maintenance) restores it with the restore Update.
package safety

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	safetydom "github.com/voltflow/voltflow/domain/safety"
	safetystore "github.com/voltflow/voltflow/store/safety"
	"github.com/voltflow/voltflow/workflows/approval"
	"github.com/voltflow/voltflow/workflows/names"
)

// Names the workflow is known by.
const (
	Kind          = "safety"  // registered name, VoltflowKind
	SignalTrip    = "trip"    // a reading over the meter's limits
	UpdateRestore = "restore" // a manager switches a locked-out meter on
	// continueAfter trips, the run continues as new: a meter that trips
	// every day keeps a short history.
	continueAfter = 100
)

// ErrNotLockedOut: a restore of a meter that is not locked out.
var ErrNotLockedOut = errors.New("the meter is not locked out by its safety limits")

// WorkflowID is the meter's safety workflow.
func WorkflowID(meterNo string) string { return "safety/" + meterNo }

// Input starts (or continues) a meter's safety workflow.
type Input struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
	// Speed is how much faster than real time the world runs (a demo or a
	// test with simulated meters); the 3 minutes off shrink by it.
	Speed float64 `json:"speed,omitempty"`
	// Trips since the last restore, carried over a continue-as-new.
	Trips int `json:"trips,omitempty"`
}

// Trip is a reading over the limits (signal trip).
type Trip struct {
	Reason string    `json:"reason"`
	PowerW int64     `json:"powerW"`
	At     time.Time `json:"at"`
}

// Restore is a manager's restore of a locked-out meter (Update restore).
type Restore struct {
	OperatorID string        `json:"operatorId"`
	Username   string        `json:"username"`
	Roles      []access.Role `json:"roles"`
	Comment    string        `json:"comment"`
}

// Manager reports whether the roles may restore a meter: a manager has
// checked the premises (seed 002: 必须由管理人员核实).
func Manager(roles []access.Role) bool {
	return slices.Contains(roles, access.Admin) || slices.Contains(roles, access.Maintenance)
}

// Workflow watches one meter's trips.
func Workflow(ctx workflow.Context, in Input) error {
	state := safetystore.State{MeterID: in.MeterID, Status: safetydom.Normal, Trips: in.Trips}
	var restore *Restore
	// stored is the status as last written to PostgreSQL: a restore answers
	// once the meter's new status is readable there, not merely decided.
	stored := state.Status
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRestore,
		func(ctx workflow.Context, r Restore) (safetystore.State, error) {
			restore = &r
			// The main loop switches the meter on and records it.
			done := func() bool { return state.Status != safetydom.LockedOut }
			if workflow.GetVersion(ctx, "restore-answers-when-stored", workflow.DefaultVersion, 1) == 1 {
				done = func() bool { return stored != safetydom.LockedOut }
			}
			if err := workflow.Await(ctx, done); err != nil {
				return state, err
			}
			return state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r Restore) error {
			switch {
			case !Manager(r.Roles):
				return approval.ErrNotYourRole
			case state.Status != safetydom.LockedOut || restore != nil:
				return ErrNotLockedOut
			}
			return nil
		}}); err != nil {
		return err
	}
	set := func(s safetydom.Status) error {
		state.Status = s
		if err := setSafetyState(ctx, state).Get(ctx, nil); err != nil {
			return err
		}
		stored = s
		return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(string(s)))
	}
	switchTo := func(off bool) {
		// A meter that stays unreachable for the switch's whole retry
		// window is left to the next trip or restore; the state says what
		// the platform asked for.
		sw := safetystore.SwitchInput{MeterID: in.MeterID, Off: off}
		if !off && state.LastTripAt != nil {
			sw.Since = *state.LastTripAt
		}
		if err := safetySwitch(ctx, sw).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("safety switch failed", "meter", in.MeterNo, "off", off, "error", err)
		}
	}
	trips := workflow.GetSignalChannel(ctx, SignalTrip)
	// drain drops trips read before the meter was off or while it was:
	// the next reading over the limits trips it again.
	drain := func() {
		for trips.ReceiveAsync(nil) {
		}
	}
	for range continueAfter {
		var t Trip
		trips.Receive(ctx, &t)
		var limits safetydom.Limits
		if err := safetyLimits(ctx, safetystore.LimitsInput{MeterID: in.MeterID}).Get(ctx, &limits); err != nil {
			return err
		}
		state.Trips++
		at := t.At
		state.LastTripAt, state.LastReason = &at, t.Reason
		switchTo(true)
		status := safetydom.AfterTrip(state.Trips, limits.AllowedTrips)
		if err := set(status); err != nil {
			return err
		}
		if status == safetydom.Tripped {
			if err := workflow.Sleep(ctx, safetydom.OffFor(in.Speed)); err != nil {
				return err
			}
		} else {
			if err := workflow.Await(ctx, func() bool { return restore != nil }); err != nil {
				return err
			}
			now := workflow.Now(ctx)
			state.Trips, state.RestoredBy, state.RestoredAt = 0, restore.Username, &now
		}
		drain()
		switchTo(false)
		if err := set(safetydom.Normal); err != nil {
			return err
		}
		restore = nil
	}
	// Let a restore Update in its handler finish before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	drain()
	in.Trips = state.Trips
	return workflow.NewContinueAsNewError(ctx, Workflow, in)
}
