package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/voltflow/voltflow/internal/eventually"
)

// TestHoardingCapRefusesSaleAndChangesNothing sets the demo project's
// hoarding cap (囤积金额上限) 100.00 above what a meter holds: a sale of
// 60.00 completes, 40.01 more is refused with its code and changes nothing
// (no recharge, no workflow, no ledger entry, the meter untouched), and
// 40.00 — up to the cap exactly — is accepted.
func TestHoardingCapRefusesSaleAndChangesNothing(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	meterNo := stack.UnsoldMeter(t, "M0021", "M0022", "M0023") // its workflows are counted below
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	settings := func(t *testing.T, hoardingCap any) {
		t.Helper()
		body := map[string]any{"autoApproveUpTo": "500.00", "hoardingCap": hoardingCap, "alarm1": "0.00", "alarm2": "0.00"}
		if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/settings", body); code != http.StatusOK {
			t.Fatalf("PUT settings hoardingCap %v: %d %s", hoardingCap, code, b)
		}
	}
	t.Cleanup(func() { settings(t, nil) })
	held, _ := meterRegisters(t, meterNo)
	settings(t, fmt.Sprintf("%d.%02d", (held+10000)/100, (held+10000)%100))

	first := create(t, cashier, meterNo, "60.00", txNo(t))
	waitStatus(t, cashier, first.ID, "completed", 30*time.Second)

	count := func(sql string) (n int) {
		t.Helper()
		if err := stack.DB.QueryRow(ctx, sql, meterNo).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const recharges, entries = `select count(*) from recharges where meter_no=$1`, `select count(*) from journal_entries where $1 <> ''`
	rechargesBefore, entriesBefore := count(recharges), count(entries)
	cents, counter := meterRegisters(t, meterNo)
	tx := txNo(t)
	code, raw, ctype := cashier.DoRaw(t, "POST", "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"40.01","transactionNo":%q}`, meterNo, tx))
	var p problem
	_ = json.Unmarshal(raw, &p)
	if code != http.StatusUnprocessableEntity || ctype != "application/problem+json" || p.Code != "hoarding_cap_exceeded" {
		t.Fatalf("sale above the cap: %d %s %s", code, ctype, raw)
	}
	if n := count(recharges); n != rechargesBefore {
		t.Errorf("%d recharges written by the refused sale", n-rechargesBefore)
	}
	if n := count(entries); n != entriesBefore {
		t.Errorf("%d ledger entries written by the refused sale", n-entriesBefore)
	}
	if c, k := meterRegisters(t, meterNo); c != cents || k != counter {
		t.Errorf("meter %d cents, counter %d after the refused sale; was %d, %d", c, k, cents, counter)
	}
	last := create(t, cashier, meterNo, "40.00", txNo(t))
	waitStatus(t, cashier, last.ID, "completed", 30*time.Second)

	// No workflow for the refused sale: the meter's recharges in Temporal
	// are the two accepted ones (the refused one came before the last).
	query := fmt.Sprintf(`VoltflowProject="demo" AND VoltflowKind="recharge" AND VoltflowSubject=%q`, meterNo)
	var ids []string
	eventually.True(t, 30*time.Second, "visibility lists the last sale", func() (bool, string) {
		resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return false, err.Error()
		}
		ids = ids[:0]
		for _, e := range resp.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		return slices.Contains(ids, last.WorkflowID), fmt.Sprint(ids)
	})
	if len(ids) != 2 || !slices.Contains(ids, first.WorkflowID) {
		t.Fatalf("recharge workflows of %s: %v, want %s and %s", meterNo, ids, first.WorkflowID, last.WorkflowID)
	}
}
