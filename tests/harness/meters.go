package harness

import (
	"context"
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
	defer func() { _ = c.Close() }()
	if err := c.SetUnitId(uint8((n-1)%per + 1)); err != nil {
		t.Fatal(err)
	}
	regs, err := c.ReadRegisters(0x0100, 3, mb.HOLDING_REGISTER)
	if err != nil {
		t.Fatalf("read %s: %v", meterNo, err)
	}
	return int64(int32(uint32(regs[0])<<16 | uint32(regs[1]))), regs[2]
}

// UnsoldMeter is the first of the meters nobody has sold to yet (no
// recharge, so an empty wallet and an open account), whatever earlier runs
// of the package left (go test -count=2). A test that needs an empty wallet
// names a few candidates.
func (s *Stack) UnsoldMeter(t testing.TB, meterNos ...string) string {
	t.Helper()
	var m string
	if err := s.DB.QueryRow(context.Background(), `select meter_no from meters where meter_no = any($1)
		and not exists (select 1 from recharges r where r.meter_no = meters.meter_no) order by meter_no limit 1`, meterNos).Scan(&m); err != nil {
		t.Fatalf("no unsold meter among %v: %v", meterNos, err)
	}
	return m
}
