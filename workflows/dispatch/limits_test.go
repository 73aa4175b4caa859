package dispatch

import (
	"testing"

	dispatchacts "github.com/voltflow/voltflow/activities/dispatch"
)

// The limits in force after a re-plan never sum above the plan's: a small
// decrease is sent, a small increase may wait.
func TestLimitCommandsKeepTheSiteLimit(t *testing.T) {
	keys := []string{"a", "b", "c"}
	targets := map[string]dispatchacts.Target{}
	for _, k := range keys {
		targets[k] = dispatchacts.Target{ChargePointID: k}
	}
	sum := func(m map[string]float64) (s float64) {
		for _, v := range m {
			s += v
		}
		return s
	}
	for _, c := range []struct {
		name            string
		applied, want   map[string]float64
		belowOnly       bool
		lowered, raised int
		over            bool // the limits in force sum above the plan
	}{
		{"small decreases beside a large rise", map[string]float64{"a": 133.4, "b": 133.3, "c": 133.3},
			map[string]float64{"a": 133.0, "b": 133.0, "c": 134.0}, true, 2, 1, false},
		{"the same before the fix: 0.7 kW over", map[string]float64{"a": 133.4, "b": 133.3, "c": 133.3},
			map[string]float64{"a": 133.0, "b": 133.0, "c": 134.0}, false, 0, 1, true},
		{"a small rise waits", map[string]float64{"a": 100, "b": 100, "c": 100},
			map[string]float64{"a": 100.3, "b": 100, "c": 100}, true, 0, 0, false},
		{"large moves and a new connector", map[string]float64{"a": 200, "b": 100},
			map[string]float64{"a": 100, "b": 150, "c": 50}, true, 2, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			lower, raise := limitCommands(keys, c.want, c.applied, targets, c.belowOnly)
			if len(lower) != c.lowered || len(raise) != c.raised {
				t.Fatalf("lowered %d raised %d, want %d and %d", len(lower), len(raise), c.lowered, c.raised)
			}
			inForce := map[string]float64{}
			for k, v := range c.applied {
				inForce[k] = v
			}
			for _, cmd := range append(lower, raise...) {
				inForce[cmd.Target.ChargePointID] = cmd.PowerKW
			}
			if over := sum(inForce) > sum(c.want)+1e-9; over != c.over {
				t.Fatalf("limits in force %v sum %.1f kW against the plan's %.1f", inForce, sum(inForce), sum(c.want))
			}
		})
	}
}
