// Package platformbilling tests platform-side prepaid (主站费控) end to end: a sweep
// workflow on a real Temporal server reads a simulated meter over Modbus
// TCP, billing prices the reading into the ledger in PostgreSQL, and a
// meter with no money left is switched off through a meter-command
// workflow until the simulator's relay is open — and on again after a
// recharge.
package platformbilling

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "billing", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 5 * time.Second,
		UpdateTimeout: 3 * time.Second}, &stack)
}

// runSweep starts a sweep of the demo project for slot at and waits for it.
func runSweep(t *testing.T, at time.Time) sweepwf.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: sweepwf.WorkflowID("demo", at),
		TaskQueue: names.MainQueue, TypedSearchAttributes: names.Attributes("demo", sweepwf.Kind, "demo", "reading")},
		sweepwf.Kind, sweepwf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", At: at})
	if err != nil {
		t.Fatal(err)
	}
	var res sweepwf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("sweep %s: %v", at, err)
	}
	return res
}

func relay(meter uint8) uint16 { return stack.Fleet.Gateway(0).Meter(meter).State().Relay }

func TestPlatformMeterIsCutOffAtZeroAndBackOnAfterRecharge(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	// M0002 becomes platform-side, billed at its price 1.2000 (no tariff
	// assigned), with nothing in its wallet.
	if _, err := stack.DB.Exec(ctx, `update meters set prepaid_mode='platform' where meter_no='M0002'`); err != nil {
		t.Fatal(err)
	}
	if relay(2) != profile.RelayClosed {
		t.Fatal("M0002 starts cut off")
	}
	at := time.Now().UTC().Truncate(time.Second)
	if res := runSweep(t, at); res.Read != 4 {
		t.Fatalf("sweep read %d meters, want 4", res.Read)
	}
	eventually.True(t, 20*time.Second, "M0002's relay opened by billing", func() (bool, string) {
		var status string
		_ = stack.DB.QueryRow(ctx, `select status from meter_commands where meter_no='M0002' and command='switch_off'`).Scan(&status)
		return relay(2) == profile.RelayOpen && status == "done", fmt.Sprintf("relay %d, command %q", relay(2), status)
	})
	// Only the platform-side meter: the others keep power.
	for _, m := range []uint8{1, 3, 4} {
		if relay(m) != profile.RelayClosed {
			t.Fatalf("meter-side unit %d cut off", m)
		}
	}

	// A recharge into the platform wallet; the next sweep switches it on.
	e := ledgerdom.Transfer("e2e-recharge-M0002", "recharge", "platform-side recharge",
		ledgerdom.Posting{Account: ledgerdom.MeterWallet("M0002"), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, money.MustParse("10.00"))
	if _, err := ledgerstore.Book(ctx, stack.DB, stack.ProjectID, e); err != nil {
		t.Fatal(err)
	}
	runSweep(t, at.Add(time.Minute))
	eventually.True(t, 20*time.Second, "M0002's relay closed after the recharge", func() (bool, string) {
		return relay(2) == profile.RelayClosed, fmt.Sprintf("relay %d", relay(2))
	})
	var n int
	if err := stack.DB.QueryRow(ctx, `select count(*) from meter_commands where meter_no='M0002' and created_by is null`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d billing commands (%v), want switch_off and switch_on", n, err)
	}
}
