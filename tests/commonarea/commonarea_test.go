// Package commonarea tests common-area (公摊) allocation end to end: rules
// and unit areas set through the API, a month of the common-area meter's
// readings written to PostgreSQL, the month allocated by the workflow
// common-area/demo/<YYYY-MM> on a real Temporal server, each unit's share
// booked once in the ledger.
package commonarea

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	commonareawf "github.com/voltflow/voltflow/workflows/commonarea"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "commonarea", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 5 * time.Second,
		UpdateTimeout: 3 * time.Second}, &stack)
}

// TestMonthAllocatedByAreaBooksOnce: M0004 is the common-area meter of the
// shops of M0001..M0003 (25, 25 and 50 m²). It reads 1000.00 kWh at
// 1 Nov 2026 00:00 and 1345.68 at 1 Dec 00:00 (Asia/Shanghai): 345.68 kWh ×
// 1.2000 = 414.816 → 414.82. By area: 414.82 × 25/100 = 103.705 → 103.71
// twice, × 50/100 = 207.41; those sum to 414.83, so the cent over comes off
// the largest share: 103.71, 103.71, 207.40.
func TestMonthAllocatedByAreaBooksOnce(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	cst, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	rows, err := stack.DB.Query(ctx, `select meter_no, unit_id::text from meters where meter_no in ('M0001','M0002','M0003')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var no, unit string
		if err := rows.Scan(&no, &unit); err != nil {
			t.Fatal(err)
		}
		units[no] = unit
	}
	rows.Close()
	for no, area := range map[string]string{"M0001": "25", "M0002": "25.00", "M0003": "50"} {
		if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/units/"+units[no]+"/area",
			map[string]any{"area": area}); code != http.StatusOK {
			t.Fatalf("PUT area: %d %s", code, b)
		}
	}
	rule := map[string]any{"rules": []map[string]any{{"meterNo": "M0004", "method": "area", "units": []map[string]any{
		{"unitId": units["M0001"]}, {"unitId": units["M0002"]}, {"unitId": units["M0003"]}}}}}
	if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/common-area-rules", rule); code != http.StatusOK {
		t.Fatalf("PUT rules: %d %s", code, b)
	}
	if code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/meters/M0004/sub-meters",
		map[string]any{"meters": []string{"M0003"}}); code != http.StatusOK {
		t.Fatalf("PUT sub-meters: %d %s", code, b)
	}
	// A cashier may not change the rules.
	cashier := stack.Login(t, "cashier", "cashier")
	if code, _, _ := cashier.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/common-area-rules", rule); code != http.StatusForbidden {
		t.Fatalf("cashier PUT rules: %d, want 403", code)
	}

	// A month of M0004's readings, written as the sweep would.
	reading := func(at time.Time, kwh string) {
		if _, err := stack.DB.Exec(ctx, `select readings_partition($1::timestamptz)`, at); err != nil {
			t.Fatal(err)
		}
		if _, err := stack.DB.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh,
				peak_kwh, flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode,
				status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 0, 0, 1, 0, 0 from meters where meter_no = 'M0004'`,
			at, kwh); err != nil {
			t.Fatal(err)
		}
	}
	reading(time.Date(2026, 10, 31, 23, 0, 0, 0, cst), "990.00")
	for d := 1; d <= 30; d++ {
		reading(time.Date(2026, 11, d, 0, 0, 0, 0, cst), fmt.Sprintf("%d.00", 1000+(d-1)*11))
	}
	reading(time.Date(2026, 12, 1, 0, 0, 0, 0, cst), "1345.68")

	wallet := func(meterNo string) money.Amount {
		b, err := ledgerstore.Balance(ctx, stack.DB, stack.ProjectID, ledgerdom.MeterWallet(meterNo))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := map[string]money.Amount{}
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		before[no] = wallet(no)
	}
	allocate := func() string {
		var started struct{ WorkflowID string }
		if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/common-area-allocations",
			map[string]any{"period": "2026-11"}, &started); code != http.StatusAccepted {
			t.Fatalf("POST allocation: %d", code)
		}
		return started.WorkflowID
	}
	id := allocate()
	if id != "common-area/demo/2026-11" {
		t.Fatalf("workflow id %q", id)
	}
	wait := func(id string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := stack.Temporal.GetWorkflow(wctx, id, "").Get(wctx, nil); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	wait(id)
	want := map[string]string{"M0001": "103.71", "M0002": "103.71", "M0003": "207.40"}
	check := func(run string) {
		t.Helper()
		for no, w := range want {
			if got := before[no].Sub(wallet(no)); got.String() != w {
				t.Errorf("%s: wallet of %s down by %s, want %s", run, no, got, w)
			}
		}
		var n int
		if err := stack.DB.QueryRow(ctx, `select count(*) from journal_entries where kind = 'common-area'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%s: %d common-area entries (%v), want 3", run, n, err)
		}
	}
	check("first run")

	// The same period again: the API starts nothing new (the ID is taken),
	// and a second run of the workflow type itself books nothing new.
	if again := allocate(); again != id {
		t.Fatalf("second POST started %s", again)
	}
	rerun := id + "/rerun"
	if _, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: rerun, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", commonareawf.Kind, "2026-11", commonareawf.StatusWaiting)},
		commonareawf.Kind, commonareawf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Period: "2026-11"}); err != nil {
		t.Fatal(err)
	}
	wait(rerun)
	check("second run")

	// The figures are shown.
	var shown struct {
		Allocations []struct {
			MeterNo, Method, Total, Kwh string
			Shares                      []struct{ MeterNo, Amount string }
		}
	}
	code, b, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/common-area-allocations/2026-11", nil)
	if code != http.StatusOK {
		t.Fatalf("GET allocations: %d %s", code, b)
	}
	if err := json.Unmarshal(b, &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Allocations) != 1 || shown.Allocations[0].Total != "414.82" || shown.Allocations[0].Method != "area" ||
		len(shown.Allocations[0].Shares) != 3 {
		t.Fatalf("allocations %s", b)
	}
	for _, s := range shown.Allocations[0].Shares {
		if s.Amount != want[s.MeterNo] {
			t.Errorf("shown share of %s = %s, want %s", s.MeterNo, s.Amount, want[s.MeterNo])
		}
	}
}
