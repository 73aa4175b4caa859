// Package settlement tests the month-end settlement day (月底结算日) end to
// end: the project's settlementDay set through the API and its Schedule,
// October and November 2026 of a hand-made ledger settled by the workflow
// month-settlement/demo/<YYYY-MM> on a real Temporal server, the report as
// JSON and xlsx, a rerun that changes nothing, a late entry that falls into
// the next month, and the Schedule's own run.
package settlement

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
	"go.temporal.io/sdk/client"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/names"
	settlementwf "github.com/voltflow/voltflow/workflows/settlement"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "settlement", harness.Options{Gateways: 1, MetersPerGW: 2, DispatchWindow: 5 * time.Second,
		UpdateTimeout: 3 * time.Second}, &stack)
}

// bookAt books amount flowing from source to dest (a recharge flows from
// cash into a wallet) as if created at at: months that have ended cannot
// be booked through the API (the ledger stamps entries with now()).
func bookAt(t *testing.T, key, kind string, at time.Time, source, dest ledgerdom.Posting, amount string) {
	t.Helper()
	ctx := context.Background()
	e := ledgerdom.Transfer(key, kind, "", dest, source, money.MustParse(amount))
	err := store.InTx(ctx, stack.DB, func(tx pgx.Tx) error {
		id := uuid.NewString()
		if _, err := tx.Exec(ctx, `insert into journal_entries(id, project_id, key, kind, created_at) values($1,$2,$3,$4,$5)`,
			id, stack.ProjectID, key, kind, at); err != nil {
			return err
		}
		for _, p := range e.Postings {
			var acc string
			if err := tx.QueryRow(ctx, `insert into ledger_accounts(id, project_id, code, kind) values($1,$2,$3,$4)
				on conflict (project_id, code) do update set code=excluded.code returning id`,
				uuid.NewString(), stack.ProjectID, p.Account, string(p.Kind)).Scan(&acc); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `insert into postings(entry_id, account_id, amount) values($1,$2,$3)`, id, acc, p.Amount); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `update ledger_accounts set balance = balance + $2 where id=$1`, acc, p.Amount); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("book %s: %v", key, err)
	}
}

func cst(m time.Month, d, h int) time.Time {
	return time.Date(2026, m, d, h, 0, 0, 0, settlementdom.China)
}

type settled struct {
	Month, SettlementDay string
	From, To, SettledAt  time.Time
	Accounts             int
	Rows                 []struct {
		Account                                                      string
		Opening, Recharged, Refunded, Consumed, Fees, Other, Closing string
	}
}

// TestSettlementDayClosesEachWalletsMonthOnce. Hand-computed, settlement
// day "last" (China time):
//
//	wallet S0001: 20 Sep +100.00 sale; Oct: +50.00 sale, −30.00 consumption, −20.00 refund, −15.00 property fee,
//	  +5.00 allowance → opening 100.00, closing 90.00. November: a −10.00 consumption stamped 30 Oct but
//	  booked after October was settled → opening 90.00, consumed 10.00, closing 80.00.
//	wallet C-S2: 15 Oct +200.00 card top-up, 31 Oct 23:59:59 −40.00 consumption → 0.00 / 160.00; November:
//	  1 Nov 00:00 −1.00, +60.00 sale, −7.50 common-area → 160.00 + 60.00 − 1.00 − 7.50 = 211.50.
func TestSettlementDayClosesEachWalletsMonthOnce(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")

	// The setting and its Schedule.
	put := func(day any) (int, []byte) {
		code, b, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/projects/demo/settings", map[string]any{
			"autoApproveUpTo": "500.00", "alarm1": "20.00", "alarm2": "10.00", "settlementDay": day})
		return code, b
	}
	if code, b := put("29"); code != http.StatusUnprocessableEntity {
		t.Fatalf("settlementDay 29: %d %s", code, b)
	}
	if code, b := put("15"); code != http.StatusOK {
		t.Fatalf("settlementDay 15: %d %s", code, b)
	}
	var got struct{ SettlementDay *string }
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/settings", nil, &got); code != http.StatusOK ||
		got.SettlementDay == nil || *got.SettlementDay != "15" {
		t.Fatalf("GET settings: %d %v", code, got.SettlementDay)
	}
	sched := stack.Temporal.ScheduleClient().GetHandle(ctx, settlementwf.ScheduleID("demo"))
	desc, err := sched.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cal := desc.Schedule.Spec.Calendars; len(cal) != 1 || cal[0].DayOfMonth[0].Start != 16 || desc.Schedule.Spec.TimeZoneName != "Asia/Shanghai" {
		t.Fatalf("schedule calendars for day 15: %+v", cal)
	}
	if code, b := put("last"); code != http.StatusOK {
		t.Fatalf("settlementDay last: %d %s", code, b)
	}
	if desc, err = sched.Describe(ctx); err != nil || desc.Schedule.Spec.Calendars[0].DayOfMonth[0].Start != 1 {
		t.Fatalf("schedule for last: %+v, %v", desc, err)
	}

	w1 := ledgerdom.Posting{Account: ledgerdom.MeterWallet("S0001"), Kind: ledgerdom.Liability}
	w2 := ledgerdom.Posting{Account: ledgerdom.CustomerWallet("C-S2"), Kind: ledgerdom.Liability}
	cash := ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}
	income := ledgerdom.Posting{Account: ledgerdom.ConsumptionIncome, Kind: ledgerdom.Income}
	payable := ledgerdom.Posting{Account: ledgerdom.PendingRefundCode, Kind: ledgerdom.Liability}
	fees := ledgerdom.Posting{Account: "fee-income", Kind: ledgerdom.Income}
	grant := ledgerdom.Posting{Account: "allowance", Kind: ledgerdom.Expense}
	bookAt(t, "t/1", "recharge-delivered", cst(9, 20, 10), cash, w1, "100.00")
	bookAt(t, "t/2", "recharge-delivered", cst(10, 5, 10), cash, w1, "50.00")
	bookAt(t, "t/3", "consumption", cst(10, 10, 10), w1, income, "30.00")
	bookAt(t, "t/4", "refund", cst(10, 20, 10), w1, payable, "20.00")
	bookAt(t, "t/5", "property_fee", cst(10, 25, 10), w1, fees, "15.00")
	bookAt(t, "t/6", "allowance", cst(10, 28, 10), grant, w1, "5.00")
	bookAt(t, "t/7", "card-topup", cst(10, 15, 10), cash, w2, "200.00")
	bookAt(t, "t/8", "consumption", time.Date(2026, 10, 31, 23, 59, 59, 0, settlementdom.China), w2, income, "40.00")
	bookAt(t, "t/9", "consumption", cst(11, 1, 0), w2, income, "1.00")

	start := func(month string) string {
		var started struct{ WorkflowID string }
		if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/month-settlements", map[string]any{"month": month}, &started); code != http.StatusAccepted {
			t.Fatalf("POST month-settlements %s: %d", month, code)
		}
		return started.WorkflowID
	}
	wait := func(id string) settlementwf.Result {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var out settlementwf.Result
		if err := stack.Temporal.GetWorkflow(wctx, id, "").Get(wctx, &out); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return out
	}
	report := func(month string) settled {
		t.Helper()
		code, b, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/month-settlements/"+month, nil)
		if code != http.StatusOK {
			t.Fatalf("GET settlement %s: %d %s", month, code, b)
		}
		var s settled
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(s settled, want map[string]string) {
		t.Helper()
		seen := 0
		for _, r := range s.Rows {
			w, ok := want[r.Account]
			if !ok {
				continue // the demo's own wallets, booked now
			}
			seen++
			if got := r.Opening + " " + r.Recharged + " " + r.Refunded + " " + r.Consumed + " " + r.Fees + " " + r.Other + " " +
				r.Closing; got != w {
				t.Errorf("%s %s = %q, want %q", s.Month, r.Account, got, w)
			}
		}
		if seen != len(want) {
			t.Errorf("%s: %d of %d wallets in the report", s.Month, seen, len(want))
		}
	}
	// opening recharged refunded consumed fees other closing
	october := map[string]string{
		"meter-wallet:S0001":   "100.00 50.00 20.00 30.00 15.00 5.00 90.00",
		"customer-wallet:C-S2": "0.00 200.00 0.00 40.00 0.00 0.00 160.00",
	}

	if code, _, _ := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/month-settlements/2026-10", nil); code != http.StatusNotFound {
		t.Fatalf("unsettled month: %d, want 404", code)
	}
	id := start("2026-10")
	if id != "month-settlement/demo/2026-10" {
		t.Fatalf("workflow id %q", id)
	}
	if res := wait(id); !res.Created || res.Month != "2026-10" {
		t.Fatalf("first settlement %+v", res)
	}
	oct := report("2026-10")
	if !oct.From.Equal(cst(10, 1, 0)) || !oct.To.Equal(cst(11, 1, 0)) || oct.SettlementDay != "last" {
		t.Fatalf("october %+v", oct)
	}
	check(oct, october)

	// Twice: the API starts nothing new, and another run of the type
	// (its ID not the month's: it settles through the month's own ID,
	// which is taken) books nothing.
	if again := start("2026-10"); again != id {
		t.Fatalf("second POST started %s", again)
	}
	rerun := "month-settlement/demo-rerun"
	if _, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: rerun, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", settlementwf.Kind, "2026-10", settlementwf.StatusScheduled)},
		settlementwf.Kind, settlementwf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Month: "2026-10"}); err != nil {
		t.Fatal(err)
	}
	if res := wait(rerun); res.Created || !res.SettledAt.Equal(oct.SettledAt) {
		t.Fatalf("rerun %+v: want October as settled first", res)
	}
	// Committed after October closed though stamped 30 October.
	bookAt(t, "t/10", "consumption", cst(10, 30, 10), w1, income, "10.00")
	check(report("2026-10"), october)

	// November carries it.
	bookAt(t, "t/11", "recharge-delivered", cst(11, 3, 10), cash, w2, "60.00")
	bookAt(t, "t/12", "common-area", cst(11, 12, 10), w2, fees, "7.50")
	if res := wait(start("2026-11")); !res.Created {
		t.Fatalf("november %+v", res)
	}
	nov := report("2026-11")
	check(nov, map[string]string{
		"meter-wallet:S0001":   "90.00 0.00 0.00 10.00 0.00 0.00 80.00",
		"customer-wallet:C-S2": "160.00 60.00 0.00 1.00 7.50 0.00 211.50",
	})
	// Every wallet's November opens with its October close.
	closing := map[string]string{}
	for _, r := range report("2026-10").Rows {
		closing[r.Account] = r.Closing
	}
	for _, r := range nov.Rows {
		if c, ok := closing[r.Account]; ok && c != r.Opening {
			t.Errorf("%s: November opens %s, October closed %s", r.Account, r.Opening, c)
		}
	}

	// The workbook holds the same figures.
	code, b, ctype := admin.DoRaw(t, http.MethodGet, "/api/v1/projects/demo/month-settlements/2026-11?format=xlsx", nil)
	if code != http.StatusOK || ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx: %d %s", code, ctype)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) == 8 && r[0] == "customer-wallet:C-S2" {
			found = true
			if r[1] != "160" || r[2] != "60" || r[4] != "1" || r[5] != "7.5" || r[7] != "211.5" {
				t.Errorf("xlsx row %v", r)
			}
		}
	}
	if !found || len(rows) != len(nov.Rows)+1 {
		t.Fatalf("xlsx: %d rows, %d settled; C-S2 found %v", len(rows), len(nov.Rows), found)
	}

	// The month not closed yet is refused; the Schedule's own run (fired
	// now, day "last") settles the month due, November, which it finds
	// settled: nothing changes.
	if code, b, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/month-settlements",
		map[string]any{"month": time.Now().In(settlementdom.China).Format("2006-01")}); code != http.StatusUnprocessableEntity {
		t.Fatalf("the current month: %d %s, want 422", code, b)
	}
	if err := sched.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var runID string
	eventually.True(t, 20*time.Second, "the Schedule's run", func() (bool, string) {
		d, err := sched.Describe(ctx)
		if err != nil || len(d.Info.RecentActions) == 0 {
			return false, "no action yet"
		}
		runID = d.Info.RecentActions[0].StartWorkflowResult.WorkflowID
		return true, runID
	})
	if res := wait(runID); res.Month != "2026-11" || res.Created || !res.SettledAt.Equal(nov.SettledAt) {
		t.Fatalf("scheduled run %s: %+v", runID, res)
	}
	var n int
	if err := stack.DB.QueryRow(ctx, `select count(*) from month_settlements where project_id=$1`, stack.ProjectID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d settled months (%v), want 2", n, err)
	}
}
