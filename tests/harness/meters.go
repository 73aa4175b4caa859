package harness

import (
	"fmt"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"
)

// MeterRegisters reads a demo meter's remaining money (0x0100, i32, 0.01
// yuan) and purchase counter (0x0102) straight from its simulator over
// Modbus TCP — what the meter holds, not what the platform believes.
func (s *Stack) MeterRegisters(t testing.TB, meterNo string) (cents int64, counter uint16) {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	per := s.opts.MetersPerGW
	c, err := mb.NewClient(&mb.ClientConfiguration{URL: s.Fleet.Gateway((n - 1) / per).URL(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetUnitId(uint8((n-1)%per + 1)); err != nil {
		t.Fatal(err)
	}
	regs, err := c.ReadRegisters(0x0100, 3, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatalf("read %s: %v", meterNo, err)
	}
	return int64(int32(uint32(regs[0])<<16 | uint32(regs[1]))), regs[2]
}
