package simulator

import (
	"errors"
	"testing"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
)

func TestDeadMeterIsSilentUntilRevived(t *testing.T) {
	f := startFleet(t, Config{Meters: 2, Meter: MeterConfig{Remaining: 1000}})
	c := rawClient(t, f.Gateway(0).URL())
	dead := f.Gateway(0).Meter(1)
	dead.SetDead(true)
	if !dead.Dead() {
		t.Fatal("Dead() = false after SetDead(true)")
	}

	_ = c.SetUnitId(1)
	if _, err := c.ReadRegisters(0x0100, 3, mb.HOLDING_REGISTER); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Fatalf("read of a dead meter: %v, want exception 0x0B", err)
	}
	if err := c.WriteRegisters(0x0057, []uint16{1, 1}); !errors.Is(err, mb.ErrGWTargetFailedToRespond) {
		t.Fatalf("switch-off of a dead meter: %v, want exception 0x0B", err)
	}
	if s := dead.State(); s.SwitchedOff || s.Relay != profile.RelayClosed {
		t.Fatalf("a dead meter took a write: %+v", s)
	}
	// Its neighbour on the same bus still answers.
	_ = c.SetUnitId(2)
	if _, err := c.ReadRegisters(0x0100, 3, mb.HOLDING_REGISTER); err != nil {
		t.Fatalf("neighbour of a dead meter: %v", err)
	}

	dead.SetDead(false)
	_ = c.SetUnitId(1)
	if err := c.WriteRegisters(0x0057, []uint16{1, 1}); err != nil {
		t.Fatalf("switch-off after revival: %v", err)
	}
	if s := dead.State(); s.Relay != profile.RelayOpen {
		t.Fatalf("revived meter did not switch off: %+v", s)
	}
}
