// Package allowance drives the monthly allowance (月补电量, issue 20 §4)
// through the HTTP API on the real platform — PostgreSQL, the Temporal
// server, the worker process and meter simulators on real sockets — with
// figures computed by hand: what each meter's register and wallet gain,
// what the allowance account pays, and that a month run twice grants once.
package allowance

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	allowancewf "github.com/voltflow/voltflow/workflows/allowance"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	// No sweep during the test: billing a platform-side meter's readings
	// would move its wallet by more than the allowance.
	_ = os.Setenv("VOLTFLOW_SWEEP_INTERVAL", "24h")
	harness.Main(m, "allowance", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 20 * time.Second,
		UpdateTimeout: 30 * time.Second}, &stack)
}

func cents(t *testing.T, account string) int64 {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, account)
	if err != nil {
		t.Fatal(err)
	}
	return b.Cents()
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

type setting struct {
	Basis    string `json:"basis"`
	Quantity string `json:"quantity"`
}

type meterAllowance struct {
	MeterNo   string   `json:"meterNo"`
	Allowance *setting `json:"allowance"`
	Effective *setting `json:"effective"`
	Source    string   `json:"source"`
	Amount    *string  `json:"amount"`
}

type grant struct {
	MeterNo    string `json:"meterNo"`
	Period     string `json:"period"`
	Basis      string `json:"basis"`
	Amount     string `json:"amount"`
	RechargeID string `json:"rechargeId"`
	Status     string `json:"status"`
}

// TestMonthlyAllowance sets 10.00 kWh a month for the project and own
// allowances for three of its four meters, all priced 1.2000 yuan/kWh:
//
//	M0001 meter-side, CT 1 × PT 1, the project's 10 kWh: 10 × 1 × 1.2000 = 12.00
//	M0002 meter-side, CT 5 × PT 2, own 3.33 kWh:         3.33 × 10 × 1.2000 = 39.96
//	M0003 meter-side, own 0.00 (none):                   nothing
//	M0004 platform-side, own 25.50 yuan:                 25.50
//
// The allowance account pays 12.00 + 39.96 + 25.50 = 77.46. Meter-side
// meters take their allowance through the purchase counter (+1 each), the
// platform-side one in its wallet. The month run again — by hand under its
// ID, and as a Schedule's run would, under another — grants nothing more.
func TestMonthlyAllowance(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	for _, q := range []string{
		`update meters set ct_ratio=5, pt_ratio=2 where meter_no='M0002'`,
		`update meters set prepaid_mode='platform' where meter_no='M0004'`,
	} {
		if _, err := stack.DB.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// Validation and roles.
	for _, body := range []map[string]any{
		{"basis": "yuan", "quantity": "1.00"},
		{"basis": "kwh", "quantity": "-1.00"},
		{"basis": "kwh", "quantity": "1.005"},
	} {
		if code, raw, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/allowance", body); code != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d %s, want 422", body, code, raw)
		}
	}
	if code := cashier.Do(t, http.MethodPut, "/api/v1/projects/demo/allowance", setting{"kwh", "10.00"}, nil); code != http.StatusForbidden {
		t.Errorf("cashier sets the allowance: %d, want 403", code)
	}

	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/allowance", setting{"kwh", "10.00"}, nil); code != http.StatusOK {
		t.Fatalf("project allowance: %d", code)
	}
	for m, s := range map[string]setting{"M0002": {"kwh", "3.33"}, "M0003": {"money", "0.00"}, "M0004": {"money", "25.50"}} {
		if code := admin.Do(t, http.MethodPut, "/api/v1/meters/"+m+"/allowance", s, nil); code != http.StatusOK {
			t.Fatalf("allowance of %s: %d", m, code)
		}
	}
	for m, want := range map[string]string{"M0001": "project 12.00", "M0002": "meter 39.96", "M0003": "meter 0.00", "M0004": "meter 25.50"} {
		var got meterAllowance
		if code := cashier.Do(t, http.MethodGet, "/api/v1/meters/"+m+"/allowance", nil, &got); code != http.StatusOK {
			t.Fatalf("GET allowance of %s: %d", m, code)
		}
		amount := "-"
		if got.Amount != nil {
			amount = *got.Amount
		}
		if s := got.Source + " " + amount; s != want {
			t.Errorf("%s: %s, want %s (%+v)", m, s, want, got)
		}
	}
	// The project's monthly Schedule came with its first setting.
	desc, err := stack.Temporal.ScheduleClient().GetHandle(ctx, allowancewf.ScheduleID("demo")).Describe(ctx)
	if err != nil {
		t.Fatalf("allowance schedule: %v", err)
	}
	t.Logf("schedule %s, next run %v", allowancewf.ScheduleID("demo"), desc.Info.NextActionTimes)

	before := map[string][2]int64{}
	for _, m := range []string{"M0001", "M0002", "M0003"} {
		c, n := stack.MeterRegisters(t, m)
		before[m] = [2]int64{c, int64(n)}
	}
	wallet4, paid := cents(t, ledgerdom.MeterWallet("M0004")), cents(t, ledgerdom.AllowanceAccount)

	const month = "2026-12"
	var run struct {
		WorkflowID string `json:"workflowId"`
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/allowance-runs", map[string]any{"month": month}, &run); code != http.StatusAccepted {
		t.Fatalf("start run: %d", code)
	}
	if want := "monthly-allowance/demo/" + month; run.WorkflowID != want {
		t.Fatalf("run %s, want %s", run.WorkflowID, want)
	}
	var res allowancewf.Result
	if err := stack.Temporal.GetWorkflow(ctx, run.WorkflowID, "").Get(ctx, &res); err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Due != 3 || res.Granted != 3 || res.Started != 3 {
		t.Fatalf("result %+v: want 3 due, granted and started", res)
	}
	var grants struct{ Items []grant }
	eventually.True(t, time.Minute, "every allowance recharge completed", func() (bool, string) {
		grants.Items = nil
		admin.Do(t, http.MethodGet, "/api/v1/projects/demo/allowance-grants?month="+month, nil, &grants)
		done := 0
		for _, g := range grants.Items {
			if g.Status == "completed" {
				done++
			}
		}
		return len(grants.Items) == 3 && done == 3, fmt.Sprintf("%+v", grants.Items)
	})
	got := ""
	for _, g := range grants.Items {
		got += g.MeterNo + " " + g.Basis + " " + g.Amount + "; "
	}
	if want := "M0001 kwh 12.00; M0002 kwh 39.96; M0004 money 25.50; "; got != want {
		t.Fatalf("grants %s, want %s", got, want)
	}
	for m, add := range map[string]int64{"M0001": 1200, "M0002": 3996, "M0003": 0} {
		c, n := stack.MeterRegisters(t, m)
		wantN := before[m][1]
		if add > 0 {
			wantN++
		}
		if c-before[m][0] != add || int64(n) != wantN {
			t.Errorf("%s: remaining %d→%d, counter %d→%d; want +%d, counter %d", m, before[m][0], c, before[m][1], n, add, wantN)
		}
	}
	if d := cents(t, ledgerdom.MeterWallet("M0004")) - wallet4; d != 2550 {
		t.Errorf("platform-side wallet of M0004 +%d, want +2550", d)
	}
	if d := cents(t, ledgerdom.AllowanceAccount) - paid; d != 7746 {
		t.Errorf("allowance account paid %d, want 7746", d)
	}
	var rec struct {
		Kind, Amount, KWh, Price string
		Ratio                    int
	}
	admin.Do(t, http.MethodGet, "/api/v1/recharges/"+grants.Items[1].RechargeID, nil, &rec)
	if rec.Kind != "allowance" || rec.Amount != "39.96" || rec.KWh != "3.33" || rec.Price != "1.2000" || rec.Ratio != 10 {
		t.Errorf("M0002's allowance recharge %+v; want allowance 39.96 = 3.33 kWh × 10 × 1.2000", rec)
	}

	// The same month again: by hand (the run's ID: not started twice) and
	// as another run of the month (as the Schedule's would be).
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/allowance-runs", map[string]any{"month": month}, &run); code != http.StatusAccepted {
		t.Fatalf("start run again: %d", code)
	}
	again, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: allowancewf.Kind + "/demo-rerun-" + month,
		TaskQueue: names.MainQueue, TypedSearchAttributes: names.Attributes("demo", allowancewf.Kind, "demo", "started")},
		allowancewf.Kind, allowancewf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Period: month})
	if err != nil {
		t.Fatal(err)
	}
	var res2 allowancewf.Result
	if err := again.Get(ctx, &res2); err != nil {
		t.Fatal(err)
	}
	if res2.Due != 0 || res2.Granted != 0 || res2.Started != 0 {
		t.Fatalf("second run %+v: want nothing due, granted or started", res2)
	}
	if n := count(t, `select count(*) from recharges where kind='allowance'`); n != 3 {
		t.Errorf("%d allowance recharges, want 3", n)
	}
	if n := count(t, `select count(*) from journal_entries where kind='recharge-allowance'`); n != 3 {
		t.Errorf("%d allowance ledger entries, want 3", n)
	}
	if d := cents(t, ledgerdom.AllowanceAccount) - paid; d != 7746 {
		t.Errorf("after the rerun the allowance account paid %d, want 7746", d)
	}
}
