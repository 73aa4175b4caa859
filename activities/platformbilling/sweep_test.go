package platformbilling_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	metercmdacts "github.com/voltflow/voltflow/activities/metercmd"
	metersacts "github.com/voltflow/voltflow/activities/meters"
	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	sweepacts "github.com/voltflow/voltflow/activities/sweep"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// deviceSwitcher sends billing's commands straight through the meter
// command device activity (what the meter-command workflow runs), so the
// test sees the simulator's relay move without a Temporal server.
type deviceSwitcher struct {
	devices *metercmdacts.Devices
	sent    []string
}

func (s *deviceSwitcher) StartSwitch(_ context.Context, sw platformbillingacts.Switch) error {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(s.devices)
	if _, err := env.ExecuteActivity(s.devices.SendMeterCommand, metercmdacts.SendInput{
		CommandID: sw.CommandID, MeterID: sw.MeterID, Command: sw.Command}); err != nil {
		return err
	}
	s.sent = append(s.sent, sw.MeterNo+" "+sw.Command)
	return nil
}

// TestSweepBillsPlatformMeters runs the real sweep activity over a
// simulated meter on a real socket, with billing as its hook: a 3 kW load
// from 10:30 to 11:30 (China time) crosses the 11:00 peak→flat boundary in
// the simulator's TOU registers and is charged exactly; when the wallet is
// gone the meter is switched off and its relay opens.
func TestSweepBillsPlatformMeters(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	// The simulated meter keeps no money of its own (price 0, never trips):
	// the platform does the billing.
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Meters: 2, Start: cst(10, 30),
		Meter: simulator.MeterConfig{Remaining: 100_000, UnitPrice: 0, Load: 3000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	addr := fleet.Gateway(0).Addr()
	var port int
	if _, err := fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port); err != nil {
		t.Fatal(err)
	}
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 2, []int{port}
	loaded, err := demo.Load(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	var meterID, gatewayID string
	if err := db.QueryRow(ctx, `update meters set prepaid_mode='platform' where meter_no='M0001'
		returning id::text, gateway_id::text`).Scan(&meterID, &gatewayID); err != nil {
		t.Fatal(err)
	}
	tariffID, err := platformbillingacts.SaveTariff(ctx, db, loaded.ProjectID, "tou", "", touTariff())
	if err != nil {
		t.Fatal(err)
	}
	if err := platformbillingacts.AssignTariff(ctx, db, meterID, tariffID); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, projectID: loaded.ProjectID}
	f.recharge(t, "M0001", "r1", "5.00")

	gws := &metersacts.Gateways{Timeout: time.Second}
	t.Cleanup(gws.Close)
	sw := &deviceSwitcher{devices: &metercmdacts.Devices{DB: db, Gateways: gws, ConfirmDelay: 10 * time.Millisecond}}
	acts := &sweepacts.Activities{DB: db, Gateways: gws, Clock: clock.Func(fleet.Now),
		Billing: &platformbillingacts.Activities{DB: db, Switch: sw}}
	var suite testsuite.WorkflowTestSuite
	run := func() {
		t.Helper()
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(acts)
		if _, err := env.ExecuteActivity(acts.SweepBatch, sweepacts.BatchInput{ProjectID: loaded.ProjectID,
			At: fleet.Now().UTC(), GatewayIDs: []string{gatewayID}}); err != nil {
			t.Fatal(err)
		}
	}

	run() // 10:30 baseline
	fleet.Advance(time.Hour)
	// 10:30 → 11:30 at 3 kW: the meter counted 1.50 kWh peak (10:30–11:00)
	// and 1.50 kWh flat (11:00–11:30). 1.5 × 1.0123 + 1.5 × 0.6057 =
	// 1.51845 + 0.90855 = 2.42700 → 2.43 (carry -0.003).
	run()
	if w := f.wallet(t, "M0001"); w != "2.57" {
		t.Fatalf("wallet %s after 10:30–11:30, want 2.57", w)
	}
	// M0002 is meter-side prepaid: the sweep read it, billing left it alone.
	if f.wallet(t, "M0002") != "0.00" {
		t.Fatalf("meter-side M0002 billed: %s", f.wallet(t, "M0002"))
	}
	// 11:30 → 12:15, 2.25 kWh flat: 1.362825 - 0.003 = 1.359825 → 1.36; 1.21 left.
	fleet.Advance(45 * time.Minute)
	run()
	if w := f.wallet(t, "M0001"); w != "1.21" || len(sw.sent) != 0 {
		t.Fatalf("wallet %s, sent %v; want 1.21 and nothing", w, sw.sent)
	}
	// 12:15 → 13:15, 3.00 kWh flat: 1.8171 - 0.000175 = 1.816925 → 1.82;
	// the wallet is -0.61: switched off, and the simulator's relay opens.
	fleet.Advance(time.Hour)
	run()
	if w := f.wallet(t, "M0001"); w != "-0.61" || len(sw.sent) != 1 || sw.sent[0] != "M0001 switch_off" {
		t.Fatalf("wallet %s, sent %v; want -0.61 and a switch-off", w, sw.sent)
	}
	if s := fleet.Gateway(0).Meter(1).State(); s.Relay != profile.RelayOpen {
		t.Fatalf("relay %d after billing's switch-off", s.Relay)
	}
	var status string
	if err := db.QueryRow(ctx, `select status from meter_commands where meter_id=$1`, meterID).Scan(&status); err != nil || status != "dispatching" {
		// The device activity marks it dispatching; the workflow records done.
		t.Fatalf("command status %q %v", status, err)
	}
	if err := ledgerstore.CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}
}
