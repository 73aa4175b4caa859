// Package feecutoff drives the property-fee arrears cut-off (feeArrearsCutOff,
// issue 20 §6) on the real platform: PostgreSQL, the Temporal server, the
// worker process and a meter simulator on a real socket. A fee the wallet
// cannot pay switches the meter off through the meter-command workflow and
// records why (the fee hold); a recharge that leaves part of the arrears
// keeps it off; the one that pays them switches it back on.
package feecutoff

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	feewf "github.com/voltflow/voltflow/workflows/fee"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "feecutoff", harness.Options{Gateways: 1, MetersPerGW: 2, DispatchWindow: 20 * time.Second,
		UpdateTimeout: 30 * time.Second}, &stack)
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func wallet(t *testing.T, meterNo string) money.Amount {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, "meter-wallet:"+meterNo)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recharge sells amount to the meter through the API and waits until the
// meter took it.
func recharge(t *testing.T, c *harness.Client, meterNo, amount string) {
	t.Helper()
	var r struct{ ID, Status, Failure string }
	code, raw, _ := c.DoRaw(t, http.MethodPost, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":%q,"transactionNo":"fee-%d"}`,
		meterNo, amount, time.Now().UnixNano()))
	if code != http.StatusAccepted && code != http.StatusCreated {
		t.Fatalf("recharge %s: %d %s", amount, code, raw)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "recharge "+r.ID+" completed", func() (bool, string) {
		c.Do(t, http.MethodGet, "/api/v1/recharges/"+r.ID, nil, &r)
		return r.Status == "completed", r.Status + " " + r.Failure
	})
}

func relay(meterNo string) uint16 {
	n := 1
	_, _ = fmt.Sscanf(meterNo, "M%d", &n)
	return stack.Fleet.Gateway(0).Meter(uint8(n)).State().Relay
}

// TestFeeArrearsSwitchOffAndBackOn: M0001's wallet holds W; its rent of
// W + 25.00 leaves 25.00 in arrears, so the rule switches it off (a
// switch-off by no operator, the fee hold naming the fee). 10.00 leaves
// 15.00 owed: still off, no switch-on. 15.00 more pays it: the hold is
// released and one switch-on closes the relay.
func TestFeeArrearsSwitchOffAndBackOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	const meterNo = "M0001"
	if relay(meterNo) != profile.RelayClosed {
		t.Fatalf("%s starts with its relay open", meterNo)
	}
	var unit string
	if err := stack.DB.QueryRow(ctx, `select unit_id::text from meters where meter_no=$1 and project_id=$2`,
		meterNo, stack.ProjectID).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	before := wallet(t, meterNo)
	if before.IsNegative() {
		t.Fatalf("%s's wallet starts at %s", meterNo, before)
	}
	rent := before.Add(money.MustParse("25.00"))
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/fee-rules", map[string]any{"feeArrearsCutOff": true}, nil); code != http.StatusOK {
		t.Fatalf("fee rules: %d", code)
	}
	var sch struct{ ID string }
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/fee-schedules", map[string]any{"unitId": unit,
		"kind": "rent", "basis": "fixed", "amount": rent.String(), "dayOfMonth": 20}, &sch); code != http.StatusCreated {
		t.Fatalf("create fee schedule: %d", code)
	}
	day := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: feewf.WorkflowID("demo", day), TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", feewf.Kind, "demo", "started"),
	}, feewf.Kind, feewf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Day: day})
	if err != nil {
		t.Fatal(err)
	}
	var res feewf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Due != 1 || res.Booked != 1 || res.Arrears != 1 {
		t.Fatalf("fee run %+v", res)
	}
	var feeKey string
	var arrears money.Amount
	if err := stack.DB.QueryRow(ctx, `select ledger_key, arrears from fee_charges where schedule_id=$1 and cut_off`, sch.ID).
		Scan(&feeKey, &arrears); err != nil {
		t.Fatal(err)
	}
	if arrears.String() != "25.00" || wallet(t, meterNo).String() != "-25.00" {
		t.Fatalf("arrears %s, wallet %s; want 25.00 and -25.00", arrears, wallet(t, meterNo))
	}

	// Off, through a meter command billing-style (no operator), and why.
	eventually.True(t, time.Minute, meterNo+" switched off", func() (bool, string) {
		r := relay(meterNo)
		return r == profile.RelayOpen, fmt.Sprintf("relay %d", r)
	})
	// The command is marked done just after the meter answered.
	eventually.True(t, time.Minute, "the fee switch-off done", func() (bool, string) {
		n := count(t, `select count(*) from meter_commands where meter_no=$1 and command='switch_off' and created_by is null
			and idempotency_key=$2 and status='done'`, meterNo, "fee-cut-off/"+feeKey)
		return n == 1, fmt.Sprintf("%d done", n)
	})
	if n := count(t, `select count(*) from fee_cut_offs where meter_no=$1 and fee_key=$2 and released_at is null`, meterNo, feeKey); n != 1 {
		t.Fatalf("no open fee hold naming %s", feeKey)
	}

	listed := func() bool {
		t.Helper()
		var list struct {
			Items []struct {
				UnitID string `json:"unitId"`
				CutOff bool   `json:"cutOff"`
			} `json:"items"`
		}
		if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/fees?month=2026-05", nil, &list); code != http.StatusOK {
			t.Fatalf("fee list: %d", code)
		}
		for _, l := range list.Items {
			if l.UnitID == unit {
				return l.CutOff
			}
		}
		t.Fatalf("no fee list line of the unit")
		return false
	}
	if !listed() {
		t.Error("the fee list does not show the unit cut off")
	}

	// 10.00 of 25.00: still owed, still off.
	recharge(t, cashier, meterNo, "10.00")
	if w := wallet(t, meterNo); w.String() != "-15.00" {
		t.Errorf("wallet after 10.00: %s, want -15.00", w)
	}
	if n := count(t, `select count(*) from meter_commands where meter_no=$1 and command='switch_on' and idempotency_key=$2`,
		meterNo, "fee-cut-off/"+feeKey+"/switch_on"); n != 0 {
		t.Errorf("switched on with 15.00 owed (%d commands)", n)
	}
	if r := relay(meterNo); r != profile.RelayOpen {
		t.Errorf("relay %d with 15.00 owed, want open", r)
	}

	// 15.00 pays the arrears: released, one switch-on, relay closed.
	recharge(t, cashier, meterNo, "15.00")
	if w := wallet(t, meterNo); !w.IsZero() {
		t.Errorf("wallet after paying: %s, want 0.00", w)
	}
	eventually.True(t, time.Minute, meterNo+" switched back on", func() (bool, string) {
		r := relay(meterNo)
		return r == profile.RelayClosed, fmt.Sprintf("relay %d", r)
	})
	eventually.True(t, time.Minute, "the fee switch-on done", func() (bool, string) {
		n := count(t, `select count(*) from meter_commands where meter_no=$1 and command='switch_on' and created_by is null
			and idempotency_key=$2 and status='done'`, meterNo, "fee-cut-off/"+feeKey+"/switch_on")
		return n == 1, fmt.Sprintf("%d done", n)
	})
	if n := count(t, `select count(*) from fee_cut_offs where meter_no=$1 and released_at is not null`, meterNo); n != 1 {
		t.Errorf("the fee hold is not released")
	}
	if listed() {
		t.Error("the fee list shows the unit cut off after the release")
	}
}
