// Package platform tests sales (售电) to platform-side prepaid meters (主站费控)
// end to end: POST /api/v1/recharges credits the meter's wallet in the
// ledger (nothing is written into the meter, the platform holds the
// balance), switches on a meter billing cut off for arrears, and leaves off
// a meter an operator cut off.
package platform

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "platform", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 5 * time.Second,
		UpdateTimeout: 3 * time.Second}, &stack)
}

type accepted struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflowId"`
}

type rechargeView struct {
	ID           string `json:"id"`
	MeterNo      string `json:"meterNo"`
	Amount       string `json:"amount"`
	Status       string `json:"status"`
	MeterCounter *int   `json:"meterCounter"`
	Failure      string `json:"failure"`
}

func sim(unit uint8) *simulator.Meter { return stack.Fleet.Gateway(0).Meter(unit) }

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

func wallet(t *testing.T, meterNo string) string {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, ledgerdom.MeterWallet(meterNo))
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// commands lists a meter's commands as "command status by", oldest first
// (by: billing or operator).
func commands(t *testing.T, meterNo string) []string {
	t.Helper()
	rows, err := stack.DB.Query(context.Background(), `select command, status,
		case when created_by is null then 'billing' else 'operator' end
		from meter_commands where meter_no=$1 order by created_at, id`, meterNo)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, s, by string
		if err := rows.Scan(&c, &s, &by); err != nil {
			t.Fatal(err)
		}
		out = append(out, c+" "+s+" "+by)
	}
	return out
}

func waitRelay(t *testing.T, unit uint8, want uint16, what string) {
	t.Helper()
	eventually.True(t, 20*time.Second, what, func() (bool, string) {
		r := sim(unit).State().Relay
		return r == want, fmt.Sprintf("relay %d", r)
	})
}

func waitCommandsDone(t *testing.T, meterNo string, n int) {
	t.Helper()
	eventually.True(t, 20*time.Second, fmt.Sprintf("%d commands of %s done", n, meterNo), func() (bool, string) {
		var done int
		_ = stack.DB.QueryRow(context.Background(), `select count(*) from meter_commands where meter_no=$1 and status='done'`,
			meterNo).Scan(&done)
		return done == n, fmt.Sprint(commands(t, meterNo))
	})
}

func recharge(t *testing.T, c *harness.Client, meterNo, amount, txn string) rechargeView {
	t.Helper()
	var acc accepted
	if code := c.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": meterNo, "amount": amount,
		"transactionNo": txn}, &acc); code != http.StatusAccepted {
		t.Fatalf("recharge %s: HTTP %d", meterNo, code)
	}
	var v rechargeView
	eventually.True(t, 20*time.Second, "recharge of "+meterNo+" completed", func() (bool, string) {
		c.Do(t, "GET", "/api/v1/recharges/"+acc.ID, nil, &v)
		return v.Status == "completed", v.Status + " " + v.Failure
	})
	return v
}

func TestSaleToPlatformMeter(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	c := stack.Login(t, "admin", "admin")
	// M0003 and M0004 are platform-side, billed at their price 1.2000
	// yuan/kWh, with empty wallets. The simulators keep their own 50.00 and
	// purchase counters, which a platform-side sale must not touch.
	if _, err := stack.DB.Exec(ctx, `update meters set prepaid_mode='platform' where meter_no in ('M0003','M0004')`); err != nil {
		t.Fatal(err)
	}
	before3, before4 := sim(3).State(), sim(4).State()

	// The first sweep is the baseline: nothing consumed, wallets 0.00 ≤ 0,
	// both are cut off for arrears.
	at := time.Now().UTC().Truncate(time.Second)
	if res := runSweep(t, at); res.Read != 4 {
		t.Fatalf("sweep read %d meters, want 4", res.Read)
	}
	waitRelay(t, 3, profile.RelayOpen, "M0003 cut off for arrears")
	waitRelay(t, 4, profile.RelayOpen, "M0004 cut off for arrears")
	waitCommandsDone(t, "M0003", 1)
	waitCommandsDone(t, "M0004", 1)

	// An operator also switches M0004 off: its last cut-off is manual now.
	var acc accepted
	if code := c.Do(t, "POST", "/api/v1/meters/M0004/commands", map[string]string{"command": "switch_off"}, &acc); code != http.StatusAccepted {
		t.Fatalf("switch_off M0004: HTTP %d", code)
	}
	waitCommandsDone(t, "M0004", 2)

	// Sales of 10.00 each (under the 500.00 approval threshold).
	r3 := recharge(t, c, "M0003", "10.00", "PLAT-0003-1")
	r4 := recharge(t, c, "M0004", "10.00", "PLAT-0004-1")
	if r3.MeterCounter != nil || r4.MeterCounter != nil {
		t.Fatalf("platform-side sales show meter counters %v %v", r3.MeterCounter, r4.MeterCounter)
	}
	// 0.00 + 10.00 each.
	if w3, w4 := wallet(t, "M0003"), wallet(t, "M0004"); w3 != "10.00" || w4 != "10.00" {
		t.Fatalf("wallets M0003 %s, M0004 %s; want 10.00 each", w3, w4)
	}
	if b, err := ledgerstore.Balance(ctx, stack.DB, stack.ProjectID, ledgerdom.PendingDeliveryCode); err != nil || !b.IsZero() {
		t.Fatalf("pending delivery %s (%v), want 0.00", b, err)
	}

	// M0003 was cut off by billing: the sale switched it on, by a command
	// recorded under the recharge's key.
	waitRelay(t, 3, profile.RelayClosed, "M0003 switched on by the sale")
	waitCommandsDone(t, "M0003", 2)
	var key string
	if err := stack.DB.QueryRow(ctx, `select idempotency_key from meter_commands where meter_no='M0003' and command='switch_on'
		and created_by is null`).Scan(&key); err != nil || key != "recharge/"+r3.ID+"/switch_on" {
		t.Fatalf("switch-on key %q (%v)", key, err)
	}
	// M0004 was cut off by an operator: it stays off.
	if got := commands(t, "M0004"); len(got) != 2 || got[1] != "switch_off done operator" {
		t.Fatalf("M0004 commands %v, want billing's and the operator's switch-off only", got)
	}
	// Nothing was written into the meters: counters and money as before.
	for _, m := range []struct {
		unit   uint8
		before simulator.State
	}{{3, before3}, {4, before4}} {
		s := sim(m.unit).State()
		if s.PurchaseCount != m.before.PurchaseCount || s.Remaining != m.before.Remaining {
			t.Fatalf("unit %d: counter %d→%d, remaining %d→%d; a platform-side sale wrote into the meter",
				m.unit, m.before.PurchaseCount, s.PurchaseCount, m.before.Remaining, s.Remaining)
		}
	}

	// M0003 draws 2 kW for 30 minutes: 1.00 kWh × 1.2000 = 1.20, wallet
	// 10.00 − 1.20 = 8.80. M0004 (relay open) consumes nothing, and billing
	// does not switch it on either: its cut-off is the operator's.
	sim(3).SetLoad(2000)
	stack.Fleet.Advance(30 * time.Minute)
	sim(3).SetLoad(0)
	runSweep(t, at.Add(time.Minute))
	if w3, w4 := wallet(t, "M0003"), wallet(t, "M0004"); w3 != "8.80" || w4 != "10.00" {
		t.Fatalf("after the sweep wallets M0003 %s, M0004 %s; want 8.80 and 10.00", w3, w4)
	}
	if got := commands(t, "M0004"); len(got) != 2 {
		t.Fatalf("M0004 commands after the sweep %v", got)
	}
	if sim(4).State().Relay != profile.RelayOpen {
		t.Fatal("M0004 switched on although an operator cut it off")
	}

	// The same sale again is the same recharge: nothing more is credited.
	var again accepted
	if code := c.Do(t, "POST", "/api/v1/recharges", map[string]string{"meterNo": "M0003", "amount": "10.00",
		"transactionNo": "PLAT-0003-1"}, &again); code != http.StatusAccepted || again.ID != r3.ID {
		t.Fatalf("replayed sale: HTTP %d id %s, want 202 %s", code, again.ID, r3.ID)
	}
	if w := wallet(t, "M0003"); w != "8.80" {
		t.Fatalf("wallet after replay %s, want 8.80", w)
	}

	// The operator switches M0004 on; a recharge to a meter that is on
	// issues no command.
	if code := c.Do(t, "POST", "/api/v1/meters/M0004/commands", map[string]string{"command": "switch_on"}, &acc); code != http.StatusAccepted {
		t.Fatalf("switch_on M0004: HTTP %d", code)
	}
	waitRelay(t, 4, profile.RelayClosed, "M0004 switched on by the operator")
	recharge(t, c, "M0003", "5.00", "PLAT-0003-2")
	if w := wallet(t, "M0003"); w != "13.80" {
		t.Fatalf("wallet %s, want 8.80 + 5.00 = 13.80", w)
	}
	if got := commands(t, "M0003"); len(got) != 2 {
		t.Fatalf("M0003 commands %v, want switch_off and switch_on only", got)
	}
}
