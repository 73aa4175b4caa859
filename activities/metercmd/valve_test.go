package metercmd

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"

	metersacts "github.com/voltflow/voltflow/activities/meters"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
)

// TestValveCommandsStopAndRestoreFlow: a water and a gas meter (simulated,
// over Modbus TCP) draw 1.2 m³/h; valve_close through the meter-command
// activity stops the flow and the volume (m³) with it, valve_open brings it
// back.
func TestValveCommandsStopAndRestoreFlow(t *testing.T) {
	for _, c := range []struct {
		profile, kind string
		perHour       int64 // volume register after an hour, in the profile's unit
	}{
		{"ref-water-valve-v1", "water", 1200}, // 0.001 m³
		{"ref-gas-valve-v1", "gas", 120},      // 0.01 m³
	} {
		t.Run(c.kind, func(t *testing.T) {
			ctx := context.Background()
			db, project, _ := fixture(t)
			fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Meters: 1, Profile: c.profile,
				Meter: simulator.MeterConfig{Flow: 1200}})
			if err != nil {
				t.Fatal(err)
			}
			if err := fleet.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fleet.Stop() })
			gwAddr := fleet.Gateway(0).Addr()
			gwID, meterID := uuid.NewString(), uuid.NewString()
			if _, err := db.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address) values($1,$2,'GW-V','modbus-tcp',$3)`,
				gwID, project, gwAddr); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, kind, prepaid_mode, price)
				values($1,$2,'V0001',$3,1,$4,$5,'platform',3.5)`, meterID, project, gwID, c.profile, c.kind); err != nil {
				t.Fatal(err)
			}
			gws := &metersacts.Gateways{Timeout: time.Second}
			t.Cleanup(gws.Close)
			read := func() (flow, volume int64) {
				t.Helper()
				gw, err := gws.Get(gwAddr, c.profile)
				if err != nil {
					t.Fatal(err)
				}
				s, err := gw.ReadMeter(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				return s.Values[profile.Flow], s.Values[profile.Volume]
			}
			devices := &Devices{DB: db, Gateways: gws, ConfirmDelay: 10 * time.Millisecond}
			send := func(cmd string) Response {
				t.Helper()
				var s testsuite.WorkflowTestSuite
				env := s.NewTestActivityEnvironment()
				env.RegisterActivity(devices)
				v, err := env.ExecuteActivity(devices.SendMeterCommand, SendInput{CommandID: uuid.NewString(), MeterID: meterID, Command: cmd})
				if err != nil {
					t.Fatalf("%s: %v", cmd, err)
				}
				var r Response
				if err := v.Get(&r); err != nil {
					t.Fatal(err)
				}
				return r
			}

			fleet.Advance(time.Hour)
			if flow, vol := read(); flow != 1200 || vol != c.perHour {
				t.Fatalf("valve open: flow %d, volume %d; want 1200 (1.2 m³/h) and %d", flow, vol, c.perHour)
			}
			send("valve_close")
			if s := fleet.Gateway(0).Meter(1).State(); s.Valve != profile.ValveClosed || s.Flow != 0 {
				t.Fatalf("simulator after valve_close: valve %d flow %d", s.Valve, s.Flow)
			}
			fleet.Advance(time.Hour)
			if flow, vol := read(); flow != 0 || vol != c.perHour {
				t.Fatalf("valve closed for an hour: flow %d, volume %d; want 0 and still %d", flow, vol, c.perHour)
			}
			send("valve_open")
			fleet.Advance(time.Hour)
			if flow, vol := read(); flow != 1200 || vol != 2*c.perHour {
				t.Fatalf("valve open again: flow %d, volume %d; want 1200 and %d", flow, vol, 2*c.perHour)
			}
			// An electricity meter has no valve: the command fails, it is not faked.
			var elec string
			if err := db.QueryRow(ctx, `select id from meters where meter_no='M0001'`).Scan(&elec); err != nil {
				t.Fatal(err)
			}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(devices)
			if _, err := env.ExecuteActivity(devices.SendMeterCommand, SendInput{CommandID: uuid.NewString(), MeterID: elec, Command: "valve_close"}); err == nil {
				t.Fatal("valve_close on a ref-prepaid-v1 meter succeeded")
			}
		})
	}
}
