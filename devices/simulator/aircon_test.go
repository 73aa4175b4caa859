package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
)

// TestAirconControllerOverTCP reads indoor units through the platform's own
// Modbus client, as the billing activity does, after a simulated day.
func TestAirconControllerOverTCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := NewAirconController("127.0.0.1:0", []IndoorUnit{
		{CapacityCentiKW: 560, Running: true},
		{CapacityCentiKW: 710, Running: true, ValveDuty: 750, Runtime: 90 * time.Second},
		{CapacityCentiKW: 280},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	c.Advance(10 * time.Hour)
	p, err := profile.Load(profile.RefAirconV1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := modbus.New(modbus.Config{URL: c.URL(), Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	tests := []struct {
		unit                              uint8
		runtime, valve, capacity, running int64
	}{
		{1, 600, 600, 560, 1},
		{2, 601, 450, 710, 1}, // 1.5 min before: the register truncates to whole minutes
		{3, 0, 0, 280, 0},
	}
	for _, tt := range tests {
		s, err := g.ReadMeter(ctx, tt.unit)
		if err != nil {
			t.Fatalf("unit %d: %v", tt.unit, err)
		}
		v := s.Values
		if v[profile.AirconRuntime] != tt.runtime || v[profile.AirconValveOpen] != tt.valve ||
			v[profile.AirconCapacity] != tt.capacity || v[profile.AirconRunning] != tt.running {
			t.Errorf("unit %d: %v, want runtime %d valve %d capacity %d running %d", tt.unit, v,
				tt.runtime, tt.valve, tt.capacity, tt.running)
		}
	}
	// switch_off over Modbus stops the run-time counter.
	if err := g.SwitchOff(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	if u := c.Unit(1); u.Running || u.Runtime != 10*time.Hour {
		t.Errorf("after switch_off: %+v", u)
	}
	if _, err := g.ReadMeter(ctx, 9); err == nil {
		t.Error("unit 9 answered; the controller has 3 indoor units")
	}
}
