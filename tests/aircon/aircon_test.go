// Package aircon tests central air-conditioning billing (中央空调计费, M14)
// end to end: a simulated AC controller on a real Modbus TCP socket, a
// system registered through the API, the controller read by the workflow
// aircon/demo.<system>/<YYYY-MM> on a real Temporal server (the worker is a
// separate process reading the controller over TCP), the plant meter's
// month from PostgreSQL, each indoor unit's share booked once in the ledger.
package aircon

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/simulator"
	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
	airconwf "github.com/voltflow/voltflow/workflows/aircon"
	"github.com/voltflow/voltflow/workflows/names"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "aircon", harness.Options{Gateways: 1, MetersPerGW: 4, DispatchWindow: 5 * time.Second,
		UpdateTimeout: 3 * time.Second}, &stack)
}

// TestMonthBilledByValveTimeBooksOnce: M0004 measures the chiller plant
// (CT 2) of three indoor units, IU-1..IU-3 in the shops of M0001..M0003,
// unit ids 1..3 on the controller.
//
// October is billed first: its closing read (the controller's counters
// when the month is billed, stored for 1 Nov) is November's opening. Then
// the units run: all three for 450 min, IU-2 off for the next 150 min, IU-1
// off for the next 400 min, so run time grows by 600, 450 and 1000 min and
// valve-open time (duties 75 %, 80 %, 90 %) by 450, 360 and 900 min.
// November is billed by valve-open time: the plant reads 1000.00 kWh on
// 1 Nov and 1087.65 on 1 Dec: 87.65 × 2 = 175.30 kWh × 1.2000 = 210.36.
// 210.36 × 450/1710 = 55.3579 → 55.36, × 360/1710 = 44.2863 → 44.29,
// × 900/1710 = 110.7158 → 110.72; those sum to 210.37, so the cent over
// comes off the largest share: 55.36, 44.29, 110.71.
func TestMonthBilledByValveTimeBooksOnce(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	ctrl, err := simulator.NewAirconController("127.0.0.1:0", []simulator.IndoorUnit{
		{CapacityCentiKW: 560, ValveDuty: 750, Runtime: 100 * time.Minute, ValveOpen: 50 * time.Minute},
		{CapacityCentiKW: 710, ValveDuty: 800},
		{CapacityCentiKW: 280, ValveDuty: 900, Runtime: 2000 * time.Minute, ValveOpen: 100 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ctrl.Stop() }()

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
	// The plant meter's current transformer (a meter import's ct_ratio).
	if _, err := stack.DB.Exec(ctx, `update meters set ct_ratio = 2 where meter_no = 'M0004'`); err != nil {
		t.Fatal(err)
	}
	system := map[string]any{"code": "AC-1", "name": "1F central AC", "plantMeterNo": "M0004",
		"controllerAddress": ctrl.Addr(), "method": "runtime_capacity", "indoorUnits": []map[string]any{
			{"code": "IU-1", "unitId": units["M0001"], "controllerUnit": 1},
			{"code": "IU-2", "unitId": units["M0002"], "controllerUnit": 2},
			{"code": "IU-3", "unitId": units["M0003"], "controllerUnit": 3}}}
	cashier := stack.Login(t, "cashier", "cashier")
	if code, _, _ := cashier.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems", system); code != http.StatusForbidden {
		t.Fatalf("cashier POST system: %d, want 403", code)
	}
	// Refusals change nothing: an unknown rule, an unknown plant meter, an
	// indoor unit on a unit id the controller cannot have.
	for _, bad := range []struct {
		field string
		value any
		want  int
	}{
		{"method", "area", http.StatusUnprocessableEntity},
		{"plantMeterNo", "M9999", http.StatusNotFound},
		{"indoorUnits", []map[string]any{{"code": "IU-9", "unitId": units["M0001"], "controllerUnit": 0}}, http.StatusUnprocessableEntity},
	} {
		b := map[string]any{}
		for k, v := range system {
			b[k] = v
		}
		b[bad.field] = bad.value
		if code, body, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems", b); code != bad.want {
			t.Fatalf("POST system with %s %v: %d %s, want %d", bad.field, bad.value, code, body, bad.want)
		}
	}
	if code, b, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems", system); code != http.StatusCreated {
		t.Fatalf("POST system: %d %s", code, b)
	}
	// Later months are billed by the system's monthly Schedule.
	sched, err := stack.Temporal.ScheduleClient().GetHandle(ctx, airconwf.ScheduleID("demo", "AC-1")).Describe(ctx)
	if err != nil {
		t.Fatalf("monthly schedule: %v", err)
	}
	if a, ok := sched.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.Workflow != airconwf.Kind {
		t.Fatalf("monthly schedule's action %+v", sched.Schedule.Action)
	}
	if code, _, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems", system); code != http.StatusConflict {
		t.Fatalf("POST system again: %d, want 409", code)
	}
	var listed struct {
		Items []struct {
			Code, Method string
			IndoorUnits  []struct{ Code string }
		}
	}
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/aircon-systems", nil, &listed); code != http.StatusOK ||
		len(listed.Items) != 1 || len(listed.Items[0].IndoorUnits) != 3 {
		t.Fatalf("GET systems: %d %+v", code, listed)
	}

	// The plant meter's registers at the bounds, written as the sweep would.
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
	reading(time.Date(2026, 10, 1, 0, 0, 0, 0, cst), "1000.00")
	reading(time.Date(2026, 11, 1, 0, 0, 0, 0, cst), "1000.00")
	reading(time.Date(2026, 12, 1, 0, 0, 0, 0, cst), "1087.65")

	wait := func(id string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := stack.Temporal.GetWorkflow(wctx, id, "").Get(wctx, nil); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	bill := func(period string) string {
		t.Helper()
		var started struct{ WorkflowID string }
		if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems/AC-1/allocations",
			map[string]any{"period": period}, &started); code != http.StatusAccepted {
			t.Fatalf("POST allocation %s: %d", period, code)
		}
		return started.WorkflowID
	}
	// start starts a period's workflow as the API and the Schedule do, in
	// time: it reads the controller now for the bounds not read yet. (The
	// API refuses a month that ended unread: the test's months are past.)
	start := func(period string) string {
		t.Helper()
		var systemID string
		if err := stack.DB.QueryRow(ctx, `select id::text from aircon_systems where code = 'AC-1'`).Scan(&systemID); err != nil {
			t.Fatal(err)
		}
		p, err := commonareadom.ParsePeriod(period)
		if err != nil {
			t.Fatal(err)
		}
		from, to := p.Bounds(cst)
		id := airconwf.WorkflowID("demo", "AC-1", period)
		if _, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.MainQueue,
			TypedSearchAttributes: names.Attributes("demo", airconwf.Kind, "AC-1/"+period, airconwf.StatusWaiting)},
			airconwf.Kind, airconwf.Input{SystemID: systemID, ProjectCode: "demo", SystemCode: "AC-1", Period: period,
				From: from.UTC(), To: to.UTC()}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// A month long over whose bounds were never read is refused: the
	// controller read now would give another time's figures.
	for _, period := range []string{"2026-09", "2026-10"} {
		var problem struct{ Code, Detail string }
		code, b, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems/AC-1/allocations", map[string]any{"period": period})
		if err := json.Unmarshal(b, &problem); code != http.StatusUnprocessableEntity || err != nil || problem.Code != "aircon_bounds_not_read" {
			t.Fatalf("POST allocation of unread %s: %d %s, want 422 aircon_bounds_not_read", period, code, b)
		}
	}

	// October: nothing used (the plant did not move), nothing booked; its
	// closing read is November's opening.
	wait(start("2026-10"))

	ctrl.SetRunning(1, true)
	ctrl.SetRunning(2, true)
	ctrl.SetRunning(3, true)
	ctrl.Advance(450 * time.Minute)
	ctrl.SetRunning(2, false)
	ctrl.Advance(150 * time.Minute)
	ctrl.SetRunning(1, false)
	ctrl.Advance(400 * time.Minute)

	var sys struct{ Method string }
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/aircon-systems/AC-1/method",
		map[string]any{"method": "valve_time"}, &sys); code != http.StatusOK || sys.Method != "valve_time" {
		t.Fatalf("PUT method: %d %+v", code, sys)
	}

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
	id := start("2026-11")
	if id != "aircon/demo.AC-1/2026-11" {
		t.Fatalf("workflow id %q", id)
	}
	wait(id)
	want := map[string]string{"M0001": "55.36", "M0002": "44.29", "M0003": "110.71"}
	check := func(run string) {
		t.Helper()
		for no, w := range want {
			if got := before[no].Sub(wallet(no)); got.String() != w {
				t.Errorf("%s: wallet of %s down by %s, want %s", run, no, got, w)
			}
		}
		var n int
		if err := stack.DB.QueryRow(ctx, `select count(*) from journal_entries where kind = 'aircon'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%s: %d aircon entries (%v), want 3", run, n, err)
		}
	}
	check("first run")

	// The same period again: the API starts nothing new (the ID is taken),
	// and a second run of the workflow type itself reads and books nothing.
	if again := bill("2026-11"); again != id {
		t.Fatalf("second POST started %s", again)
	}
	rerun := id + "/rerun"
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst)
	var systemID string
	if err := stack.DB.QueryRow(ctx, `select id::text from aircon_systems where code = 'AC-1'`).Scan(&systemID); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: rerun, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", airconwf.Kind, "AC-1/2026-11", airconwf.StatusWaiting)},
		airconwf.Kind, airconwf.Input{SystemID: systemID, ProjectCode: "demo", SystemCode: "AC-1", Period: "2026-11",
			From: from.UTC(), To: to.UTC()}); err != nil {
		t.Fatal(err)
	}
	wait(rerun)
	check("second run")

	// Auditable: the plant's registers and every indoor unit's inputs,
	// weight and share.
	var shown struct {
		Method, PlantMeterNo, StartKwh, EndKwh, Kwh, Price, Total string
		Ratio                                                     int
		Shares                                                    []struct {
			IndoorUnitCode, MeterNo, Weight, Amount, CapacityKw string
			StartRuntimeMin, EndRuntimeMin                      int
			StartValveOpenMin, EndValveOpenMin                  int
			StartReadAt, EndReadAt                              time.Time
		}
	}
	code, b, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/aircon-systems/AC-1/allocations/2026-11", nil)
	if code != http.StatusOK {
		t.Fatalf("GET allocation: %d %s", code, b)
	}
	if err := json.Unmarshal(b, &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Method != "valve_time" || shown.PlantMeterNo != "M0004" || shown.StartKwh != "1000.00" || shown.EndKwh != "1087.65" ||
		shown.Ratio != 2 || shown.Kwh != "175.30" || shown.Price != "1.2000" || shown.Total != "210.36" || len(shown.Shares) != 3 {
		t.Fatalf("allocation %s", b)
	}
	inputs := map[string][6]int{ // start/end run time, start/end valve-open time, weight
		"IU-1": {100, 700, 50, 500, 450}, "IU-2": {0, 450, 0, 360, 360}, "IU-3": {2000, 3000, 100, 1000, 900}}
	for _, s := range shown.Shares {
		in := inputs[s.IndoorUnitCode]
		if s.Amount != want[s.MeterNo] || s.StartRuntimeMin != in[0] || s.EndRuntimeMin != in[1] ||
			s.StartValveOpenMin != in[2] || s.EndValveOpenMin != in[3] || s.Weight != strconv.Itoa(in[4]) ||
			!s.EndReadAt.After(s.StartReadAt) {
			t.Errorf("share %+v, want inputs %v and amount %s", s, in, want[s.MeterNo])
		}
	}
	if code, _, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/aircon-systems/AC-1/allocations",
		map[string]any{"period": "2026-13"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("POST a period 2026-13: %d, want 422", code)
	}
	if code, _, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/aircon-systems/AC-1/allocations/2026-09", nil); code != http.StatusNotFound {
		t.Fatalf("GET an unallocated period: %d, want 404", code)
	}
}
