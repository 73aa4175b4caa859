package dispatch

import (
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
)

// TimedAction sends a command to connectors at a plan time, once or every
// Every (e.g. start at 23:00 and stop at 07:00, daily).
type TimedAction struct {
	At      time.Time              `json:"at"`
	Every   time.Duration          `json:"every,omitempty"`
	Until   time.Time              `json:"until,omitempty"` // last occurrence at or before (recurring only; zero: forever)
	Command string                 `json:"command"`
	Targets []dispatchstore.Target `json:"targets"`
	PowerKW float64                `json:"powerKw,omitempty"`
	IdTag   string                 `json:"idTag,omitempty"`
}

// TimedInput is a timed plan; Actions carry their next occurrence across
// continue-as-new.
type TimedInput struct {
	ProjectID string        `json:"projectId"`
	StationID string        `json:"stationId"`
	PlanID    string        `json:"planId"`
	Clock     Clock         `json:"clock"`
	Actions   []TimedAction `json:"actions"`
	// Late: an occurrence missed by more than this (the worker was down
	// longer) is skipped rather than sent late; default 1 h plan time.
	Late time.Duration `json:"late,omitempty"`
}

// QueryOutcomes answers the outcomes of a plan's commands so far.
const QueryOutcomes = "outcomes"

// TimedWorkflow sends each action's command at its times.
func TimedWorkflow(ctx workflow.Context, in TimedInput) ([]Outcome, error) {
	if in.Clock.Origin.IsZero() && !in.Clock.Epoch.IsZero() {
		in.Clock.Origin = workflow.Now(ctx)
	}
	if in.Late <= 0 {
		in.Late = time.Hour
	}
	var log []Outcome
	if err := workflow.SetQueryHandler(ctx, QueryOutcomes, func() ([]Outcome, error) { return log, nil }); err != nil {
		return nil, err
	}
	for {
		// The next due occurrence; actions due at the same time go together.
		idx := -1
		for i, a := range in.Actions {
			if a.At.IsZero() {
				continue
			}
			if idx < 0 || a.At.Before(in.Actions[idx].At) {
				idx = i
			}
		}
		if idx < 0 {
			return log, nil
		}
		due := in.Actions[idx].At
		if wait := due.Sub(in.Clock.Now(workflow.Now(ctx))); wait > 0 {
			if err := workflow.Sleep(ctx, in.Clock.Wait(wait)); err != nil {
				return log, err
			}
		}
		now := in.Clock.Now(workflow.Now(ctx))
		var cmds []Command
		var dueIdx []int
		for i, a := range in.Actions {
			if !a.At.IsZero() && !a.At.After(due) {
				dueIdx = append(dueIdx, i)
			}
		}
		sort.Ints(dueIdx)
		for _, i := range dueIdx {
			a := &in.Actions[i]
			if now.Sub(a.At) <= in.Late {
				for _, t := range a.Targets {
					cmds = append(cmds, Command{Target: t, Command: a.Command, PowerKW: a.PowerKW, IdTag: a.IdTag})
				}
			} else {
				workflow.GetLogger(ctx).Warn("dispatch: occurrence missed", "at", a.At, "now", now, "command", a.Command)
			}
			a.At = next(*a, now)
		}
		log = append(log, sendAll(ctx, in.Clock, cmds)...)
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() || len(log) > 500 {
			return log, workflow.NewContinueAsNewError(ctx, KindTimed, in)
		}
	}
}

// next is an action's occurrence after now (zero: none).
func next(a TimedAction, now time.Time) time.Time {
	if a.Every <= 0 {
		return time.Time{}
	}
	t := a.At.Add(a.Every)
	for !t.After(now) {
		t = t.Add(a.Every)
	}
	if !a.Until.IsZero() && t.After(a.Until) {
		return time.Time{}
	}
	return t
}
