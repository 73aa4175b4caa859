// Package dispatch runs charging dispatch plans (调度充电) as workflows
// dispatch/<stationId>/<planId>: a manual command (start, stop, limit,
// release a connector), a timed plan (commands at given times, once or
// recurring) and a smart plan (per-connector power limits from the planner
// in domain/dispatch, re-planned when a vehicle plugs in or leaves, the site
// limit changes, or a TOU period or plan slot ends). Commands go to the
// chargers as chargercmd activities, each logged with the charger's answer.
//
// Plans run on a Clock that may be accelerated (tests and demos: a night in
// a minute): plan times are clock times, and a timer for a clock duration d
// waits d/Factor of workflow time, so it survives worker restarts as any
// timer does.
package dispatch

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	chargercmdstore "github.com/voltflow/voltflow/store/chargercmd"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
	"github.com/voltflow/voltflow/workflows/names"
)

// Workflow types.
const (
	KindCommand = "dispatch-command"
	KindTimed   = "dispatch-timed"
	KindSmart   = "dispatch-smart"
)

// Commands (contracts.md: POST /api/v1/dispatch/commands).
const (
	CmdStart   = "start"
	CmdStop    = "stop"
	CmdLimit   = "limit"
	CmdRelease = "release"
)

// ProfileBase + connector is the charging profile id dispatch installs and
// releases on a connector, so it replaces its own limits and leaves others'
// alone (a charger keeps one profile per id across its connectors).
const ProfileBase = 8000

// ProfileID is dispatch's profile id on a connector.
func ProfileID(connector int) int { return ProfileBase + connector }

// WorkflowID is dispatch/<stationId>/<planId>.
func WorkflowID(stationID, planID string) string { return "dispatch/" + stationID + "/" + planID }

// Clock maps workflow time to plan time: plan = Epoch + (now − Origin) × Factor.
// The zero Clock is the real clock.
type Clock struct {
	Epoch  time.Time `json:"epoch"`
	Origin time.Time `json:"origin"`
	Factor float64   `json:"factor"`
}

func (c Clock) factor() float64 {
	if c.Factor <= 0 {
		return 1
	}
	return c.Factor
}

// Now is the plan time at workflow time now.
func (c Clock) Now(now time.Time) time.Time {
	if c.Epoch.IsZero() || c.Origin.IsZero() {
		return now
	}
	return c.Epoch.Add(time.Duration(float64(now.Sub(c.Origin)) * c.factor()))
}

// Wait is the workflow time to wait for plan duration d.
func (c Clock) Wait(d time.Duration) time.Duration {
	w := time.Duration(float64(d) / c.factor())
	if w < time.Millisecond {
		w = time.Millisecond
	}
	return w
}

// Command is one command to one connector.
type Command struct {
	Target  dispatchstore.Target `json:"target"`
	Command string               `json:"command"`
	PowerKW float64              `json:"powerKw,omitempty"`
	IdTag   string               `json:"idTag,omitempty"`
}

// Validate checks the command before anything is sent.
func (c Command) Validate() error {
	switch c.Command {
	case CmdStart, CmdStop, CmdRelease:
	case CmdLimit:
		if c.PowerKW < 0 {
			return fmt.Errorf("limit %.1f kW is negative", c.PowerKW)
		}
	default:
		return fmt.Errorf("unknown command %q (start, stop, limit, release)", c.Command)
	}
	if c.Command == CmdStart && c.IdTag == "" {
		return fmt.Errorf("start needs an idTag")
	}
	return nil
}

// Outcome is a command as sent and the charger's answer.
type Outcome struct {
	Command
	CommandID     int64     `json:"commandId,omitempty"` // charger_commands row
	Status        string    `json:"status"`              // the charger's answer, or "failed"
	TransactionID int       `json:"transactionId,omitempty"`
	Failure       string    `json:"failure,omitempty"`
	At            time.Time `json:"at"` // plan time
}

// CommandInput is a manual command (a one-shot plan).
type CommandInput struct {
	ProjectID string  `json:"projectId"`
	StationID string  `json:"stationId"`
	PlanID    string  `json:"planId"`
	Command   Command `json:"command"`
}

// CommandWorkflow sends one manual command and returns the charger's answer.
func CommandWorkflow(ctx workflow.Context, in CommandInput) (Outcome, error) {
	out := send(ctx, Clock{}, in.Command)
	status := "done"
	if out.Status != "Accepted" {
		status = "failed"
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(status)); err != nil {
		return out, err
	}
	return out, nil
}

func chargerCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.ChargersQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second, MaximumAttempts: 4},
	})
}

func mainCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           names.MainQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 10 * time.Second, MaximumAttempts: 10},
	})
}

// send runs one command as chargercmd activities and logs its outcome;
// failures are outcomes, not workflow errors, so one offline charger does
// not end a plan.
func send(ctx workflow.Context, clock Clock, c Command) Outcome {
	out := Outcome{Command: c, At: clock.Now(workflow.Now(ctx))}
	if err := c.Validate(); err != nil {
		out.Status, out.Failure = "failed", err.Error()
		return out
	}
	cctx := chargerCtx(ctx)
	origin := workflow.GetInfo(ctx).WorkflowExecution.ID
	var res chargercmdstore.Result
	var err error
	switch c.Command {
	case CmdStart:
		err = remoteStart(cctx, chargercmdstore.Start{ChargePointID: c.Target.ChargePointID,
			Connector: c.Target.Connector, IdTag: c.IdTag, LimitW: c.PowerKW * 1000, Origin: origin}).Get(ctx, &res)
	case CmdStop:
		var active []dispatchstore.Active
		err = dispatchSnapshot(mainCtx(ctx), dispatchstore.SnapshotInput{
			ChargePointIDs: []string{c.Target.ChargePointID}}).Get(ctx, &active)
		if err == nil {
			for _, a := range active {
				if a.Target == c.Target {
					out.TransactionID = a.TransactionID
				}
			}
			if out.TransactionID == 0 {
				out.Status, out.Failure = "failed", "no transaction is running on the connector"
				workflow.GetLogger(ctx).Info("dispatch: command", "command", c.Command, "target", c.Target, "status", out.Status, "failure", out.Failure)
				return out
			}
			err = remoteStop(cctx, chargercmdstore.Stop{ChargePointID: c.Target.ChargePointID,
				Connector: c.Target.Connector, TransactionID: out.TransactionID, Origin: origin}).Get(ctx, &res)
		}
	case CmdLimit:
		err = setLimit(cctx, chargercmdstore.Limit{ChargePointID: c.Target.ChargePointID,
			Connector: c.Target.Connector, LimitW: c.PowerKW * 1000, ProfileID: ProfileID(c.Target.Connector), StackLevel: 1, Origin: origin}).Get(ctx, &res)
	case CmdRelease:
		err = clearLimit(cctx, chargercmdstore.Release{ChargePointID: c.Target.ChargePointID,
			Connector: c.Target.Connector, ProfileID: ProfileID(c.Target.Connector), Origin: origin}).Get(ctx, &res)
	}
	out.CommandID, out.Status = res.CommandID, res.Status
	if err != nil {
		out.Status, out.Failure = "failed", err.Error()
	}
	workflow.GetLogger(ctx).Info("dispatch: command", "command", c.Command, "target", c.Target, "status", out.Status, "failure", out.Failure)
	return out
}

// sendAll sends commands concurrently and returns their outcomes in order.
func sendAll(ctx workflow.Context, clock Clock, cmds []Command) []Outcome {
	out := make([]Outcome, len(cmds))
	wg := workflow.NewWaitGroup(ctx)
	for i, c := range cmds {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			out[i] = send(ctx, clock, c)
		})
	}
	wg.Wait(ctx)
	return out
}
