package platformbilling

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// TestOverdraftRunsBelowZeroToTheAllowance: an emergency overdraft
// (应急透支) of 3.60 set through the API lets a platform-side meter with an
// empty wallet keep its power while the wallet runs below zero; billing
// switches it off when the wallet reaches -3.60, and it goes no further.
func TestOverdraftRunsBelowZeroToTheAllowance(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	const meterNo, unit = "M0003", 3
	if _, err := stack.DB.Exec(ctx, `update meters set prepaid_mode='platform' where meter_no=$1`, meterNo); err != nil {
		t.Fatal(err)
	}
	// Set before the meter was ever billed: no billing state exists yet.
	admin := stack.Login(t, "admin", "admin")
	if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/meters/"+meterNo+"/overdraft", map[string]any{"amount": "3.60"}); code != http.StatusOK {
		t.Fatalf("PUT overdraft: %d %s", code, b)
	}
	wallet := func(t *testing.T) string {
		t.Helper()
		b, err := ledgerstore.Balance(ctx, stack.DB, stack.ProjectID, ledgerdom.MeterWallet(meterNo))
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	switchOffs := func(t *testing.T) int {
		t.Helper()
		var n int
		if err := stack.DB.QueryRow(ctx, `select count(*) from meter_commands where meter_no=$1 and command='switch_off'`,
			meterNo).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sim := stack.Fleet.Gateway(0).Meter(unit)
	// 12 kW at the meter's price 1.2000: 1 kWh and 1.20 every 5 minutes.
	sim.SetLoad(12000)
	t.Cleanup(func() { sim.SetLoad(0) })

	// Slots apart from the other test's, so no sweep id is reused.
	at := time.Now().UTC().Truncate(time.Second).Add(10 * time.Minute)
	runSweep(t, at) // the baseline reading: 0.00 + 3.60 > 0, it stays on
	if relay(unit) != profile.RelayClosed || switchOffs(t) != 0 {
		t.Fatalf("an empty wallet with an overdraft was cut off (relay %d)", relay(unit))
	}

	stack.Fleet.Advance(10 * time.Minute)
	runSweep(t, at.Add(time.Minute))
	if w := wallet(t); w != "-2.40" || switchOffs(t) != 0 || relay(unit) != profile.RelayClosed {
		t.Fatalf("wallet %s, %d switch-offs, relay %d; want -2.40 and still on (below zero, within the allowance)",
			w, switchOffs(t), relay(unit))
	}

	stack.Fleet.Advance(5 * time.Minute)
	runSweep(t, at.Add(2*time.Minute))
	if w := wallet(t); w != "-3.60" {
		t.Fatalf("wallet %s, want -3.60 (the allowance)", w)
	}
	eventually.True(t, 20*time.Second, meterNo+"'s relay opened at the allowance", func() (bool, string) {
		var status string
		_ = stack.DB.QueryRow(ctx, `select status from meter_commands where meter_no=$1 and command='switch_off'`, meterNo).Scan(&status)
		return relay(unit) == profile.RelayOpen && status == "done", fmt.Sprintf("relay %d, command %q", relay(unit), status)
	})

	// Switched off, it draws nothing more: the wallet stays at the allowance.
	stack.Fleet.Advance(30 * time.Minute)
	runSweep(t, at.Add(3*time.Minute))
	if w := wallet(t); w != "-3.60" || switchOffs(t) != 1 {
		t.Fatalf("after the cut-off: wallet %s, %d switch-offs; want -3.60 and one", w, switchOffs(t))
	}
}
