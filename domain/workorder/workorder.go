// Package workorder holds the rules of maintenance work orders (运维工单):
// which fault a work order is about, when it escalates, and when repeated
// failed charging sessions on a connector count as a fault.
package workorder

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Statuses of a work order.
const (
	Open         = "open"         // nobody has taken it yet
	Acknowledged = "acknowledged" // a maintenance operator took it
	Closed       = "closed"       // resolved, with a resolution
)

// Sources of a work order.
const (
	SourceFault          = "fault"           // a charger_faults episode (error code or offline)
	SourceFailedSessions = "failed_sessions" // refused or zero-energy sessions in a row
)

// Escalation stages: each is sent at most once per work order.
const (
	StageUnacknowledged = "unacknowledged"
	StageUnresolved     = "unresolved"
)

// FailedSessionsKey is the fault key of repeated failed sessions.
const FailedSessionsKey = "failed-sessions"

// FaultKey names an appendix B alarm as a work order's fault.
func FaultKey(alarmCode int) string { return "alarm-" + strconv.Itoa(alarmCode) }

// WorkflowID is the work order of one fault on one connector: a repeated
// fault finds the running workflow instead of opening another.
func WorkflowID(chargePointID string, connector int, faultKey string) string {
	return fmt.Sprintf("work-order/%s/%d/%s", chargePointID, connector, faultKey)
}

// Policy is how a work order escalates and closes.
type Policy struct {
	// AckWithin: nobody acknowledged by then → SMS to level-1 contacts.
	AckWithin time.Duration `json:"ackWithin"`
	// ResolveWithin: not closed by then → SMS to level-1 and level-2 contacts.
	ResolveWithin time.Duration `json:"resolveWithin"`
	// AutoClose closes the work order when the fault recovers. Off by
	// default: a technician records what was done (the resolution); the
	// recovery is kept in the order's fault history either way.
	AutoClose bool `json:"autoClose"`
}

// DefaultPolicy: half an hour to acknowledge, four hours to resolve.
func DefaultPolicy() Policy {
	return Policy{AckWithin: 30 * time.Minute, ResolveWithin: 4 * time.Hour}
}

// Validate rejects durations that cannot work.
func (p Policy) Validate() error {
	if p.AckWithin <= 0 || p.ResolveWithin <= 0 {
		return errors.New("work order: escalation durations must be positive")
	}
	return nil
}

// Config is the hook's configuration.
type Config struct {
	Policy Policy
	// FailedSessions in a row on a connector open a work order (0: off).
	FailedSessions int
}

// ConfigFromEnv reads VOLTFLOW_WORKORDER_ACK_WITHIN, _RESOLVE_WITHIN (Go
// durations), _AUTO_CLOSE (bool) and _FAILED_SESSIONS (count, default 3).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Policy: DefaultPolicy(), FailedSessions: 3}
	var err error
	if v := getenv("VOLTFLOW_WORKORDER_ACK_WITHIN"); v != "" {
		if c.Policy.AckWithin, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("VOLTFLOW_WORKORDER_ACK_WITHIN: %w", err)
		}
	}
	if v := getenv("VOLTFLOW_WORKORDER_RESOLVE_WITHIN"); v != "" {
		if c.Policy.ResolveWithin, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("VOLTFLOW_WORKORDER_RESOLVE_WITHIN: %w", err)
		}
	}
	if v := getenv("VOLTFLOW_WORKORDER_AUTO_CLOSE"); v != "" {
		if c.Policy.AutoClose, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("VOLTFLOW_WORKORDER_AUTO_CLOSE: %w", err)
		}
	}
	if v := getenv("VOLTFLOW_WORKORDER_FAILED_SESSIONS"); v != "" {
		if c.FailedSessions, err = strconv.Atoi(v); err != nil || c.FailedSessions < 0 {
			return c, fmt.Errorf("VOLTFLOW_WORKORDER_FAILED_SESSIONS: want a count >= 0")
		}
	}
	return c, c.Policy.Validate()
}

// Due lists the escalation stages due at now for an order opened at
// opened, in the given status, with the stages already sent.
func (p Policy) Due(now, opened time.Time, status string, sent []string) []string {
	var out []string
	has := func(s string) bool {
		for _, x := range sent {
			if x == s {
				return true
			}
		}
		return false
	}
	if status == Closed {
		return nil
	}
	if status == Open && !now.Before(opened.Add(p.AckWithin)) && !has(StageUnacknowledged) {
		out = append(out, StageUnacknowledged)
	}
	if !now.Before(opened.Add(p.ResolveWithin)) && !has(StageUnresolved) {
		out = append(out, StageUnresolved)
	}
	return out
}

// Next is when the next escalation falls due (ok false: none left).
func (p Policy) Next(opened time.Time, status string, sent []string) (time.Time, bool) {
	if status == Closed {
		return time.Time{}, false
	}
	var next time.Time
	consider := func(stage string, at time.Time) {
		for _, x := range sent {
			if x == stage {
				return
			}
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if status == Open {
		consider(StageUnacknowledged, opened.Add(p.AckWithin))
	}
	consider(StageUnresolved, opened.Add(p.ResolveWithin))
	return next, !next.IsZero()
}

// Sessions counts failed sessions in a row per connector. A session fails
// when its card was refused or it delivered no energy; a session that
// delivered energy resets the count. Not safe for concurrent use.
type Sessions struct {
	Threshold int
	starts    map[int]int64  // transaction id → meter start (Wh)
	failed    map[string]int // connector key → failures in a row
}

// Outcome is what a session event means for its connector.
type Outcome int

// Outcomes.
const (
	Nothing   Outcome = iota
	Failing           // the threshold was reached now: open a work order
	Recovered         // a good session after failures: the connector works again
)

// Started records a session start; refused counts as a failure at once.
func (s *Sessions) Started(connector string, txID int, meterWh int64, authorized bool) Outcome {
	if s.starts == nil {
		s.starts, s.failed = map[int]int64{}, map[string]int{}
	}
	if !authorized {
		return s.fail(connector)
	}
	s.starts[txID] = meterWh
	return Nothing
}

// Stopped records a session end. A stop whose start was not seen (the
// process restarted) tells nothing.
func (s *Sessions) Stopped(connector string, txID int, meterWh int64) Outcome {
	start, ok := s.starts[txID]
	if !ok {
		return Nothing
	}
	delete(s.starts, txID)
	if meterWh-start <= 0 {
		return s.fail(connector)
	}
	before := s.failed[connector]
	delete(s.failed, connector)
	if s.Threshold > 0 && before >= s.Threshold {
		return Recovered
	}
	return Nothing
}

func (s *Sessions) fail(connector string) Outcome {
	s.failed[connector]++
	if s.Threshold > 0 && s.failed[connector] == s.Threshold {
		return Failing
	}
	return Nothing
}
