package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
)

// TestThreePhaseMeterServesElectricalParameters: unit 2 of a single-phase
// bus is a ref-3phase-v1 meter (CT 50) drawing 10 kW at 220.0 V, PF 0.900.
// By hand (devices/profile/ref-3phase-v1.md): phases 40/35/25 % → 4000,
// 3500, 2500 W at 220.0, 221.0, 219.0 V; I = P/(U·PF) → 20.20, 17.59,
// 12.68 A (0.01 A registers); Q = P·tan φ, tan φ = √0.19/0.9 → 1937, 1695,
// 1211 var, total 4843; maximum demand 10 kW since the first advance.
func TestThreePhaseMeterServesElectricalParameters(t *testing.T) {
	start := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	f := startFleet(t, Config{Meters: 2, Start: start, MeterProfiles: map[uint8]string{2: profile.RefThreePhaseV1},
		Meter: MeterConfig{Remaining: 100000, UnitPrice: 10000, Load: 10000, Voltage: 2200, PowerFactor: 900, CTRatio: 50}})
	f.Advance(15 * time.Minute)

	read := func(prof string, unit uint8) modbus.MeterResult {
		t.Helper()
		p, err := profile.Load(prof)
		if err != nil {
			t.Fatal(err)
		}
		c, err := modbus.New(modbus.Config{URL: f.Gateway(0).URL(), Profile: p, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		return c.ReadMeters(context.Background(), []uint8{unit})[0]
	}
	r := read(profile.RefThreePhaseV1, 2)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Params == nil {
		t.Fatal("no parameters read")
	}
	want := map[int]int64{
		modbus.ParamUa: 2200, modbus.ParamUb: 2210, modbus.ParamUc: 2190,
		modbus.ParamIa: 20200, modbus.ParamIb: 17590, modbus.ParamIc: 12680,
		modbus.ParamPa: 4000, modbus.ParamPb: 3500, modbus.ParamPc: 2500, modbus.ParamP: 10000,
		modbus.ParamQa: 1937, modbus.ParamQb: 1695, modbus.ParamQc: 1211, modbus.ParamQ: 4843,
		modbus.ParamPFa: 900, modbus.ParamPFb: 900, modbus.ParamPFc: 900, modbus.ParamPF: 900,
		modbus.ParamCT: 50, modbus.ParamPT: 1, modbus.ParamMaxDemand: 10000, modbus.ParamMaxDemandAt: start.Unix(),
	}
	for i, w := range want {
		if v, ok := r.Params.Get(i); !ok || v != w {
			t.Errorf("parameter %d = %d (%v), want %d", i, v, ok, w)
		}
	}
	if r.Power != 10000 || r.Energy != 250 {
		t.Errorf("power %d, energy %d: want 10 kW and 2.50 kWh after 15 min", r.Power, r.Energy)
	}
	// The single-phase meter beside it: no parameters, and no 0x0300 block.
	if one := read(profile.RefPrepaidV1, 1); one.Err != nil || one.Params != nil {
		t.Fatalf("single-phase read: %+v", one)
	}
	if one := read(profile.RefThreePhaseV1, 1); one.Err == nil {
		t.Fatal("a single-phase meter answered the three-phase block")
	}
}
