package replacement

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

type replacement struct {
	ID               string  `json:"id"`
	Status           string  `json:"status"`
	WorkflowID       string  `json:"workflowId"`
	OldMeterNo       string  `json:"oldMeterNo"`
	NewMeterNo       string  `json:"newMeterNo"`
	FinalRemaining   *string `json:"finalRemaining"`
	FinalCounterKwh  *string `json:"finalCounterKwh"`
	ManualReading    bool    `json:"manualReading"`
	ManualReason     string  `json:"manualReason"`
	SwitchedOff      bool    `json:"switchedOff"`
	Moved            *string `json:"moved"`
	NewRemaining     *string `json:"newRemaining"`
	NewPurchaseCount *int    `json:"newPurchaseCount"`
	Failure          string  `json:"failure"`
}

type problem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// newFleet starts a simulator of its own with meters (units 1..n), each
// holding 50.00 as a meter fresh from the factory might; the test imports
// them into the demo project as new meters.
func newFleet(t *testing.T, meters int) *simulator.Fleet {
	t.Helper()
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 1, Meters: meters,
		Meter: simulator.MeterConfig{Remaining: 5000, UnitPrice: 12000, Alarm1: 2000, Alarm2: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	return fleet
}

// importMeters imports meters (number → unit address) on the fleet's
// gateway into the demo project.
func importMeters(t *testing.T, admin *harness.Client, fleet *simulator.Fleet, gateway string, meters [][2]string) {
	t.Helper()
	csv := "meter_no,gateway,gateway_address,protocol,unit_address,profile,price\n"
	for i, m := range meters {
		addr, proto := "", ""
		if i == 0 {
			addr, proto = fleet.Gateway(0).Addr(), "modbus-tcp"
		}
		csv += m[0] + "," + gateway + "," + addr + "," + proto + "," + m[1] + ",ref-prepaid-v1,1.2\n"
	}
	if code, body, _ := admin.DoHeaders(t, "POST", "/api/v1/projects/demo/meter-imports", csv,
		map[string]string{"Content-Type": "text/csv"}); code != http.StatusCreated {
		t.Fatalf("meter import: status %d: %s", code, body)
	}
}

func replace(t *testing.T, c *harness.Client, body any, want int) (replacement, problem) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, "POST", "/api/v1/projects/demo/meter-replacements", body)
	var r replacement
	var p problem
	_ = json.Unmarshal(raw, &r)
	_ = json.Unmarshal(raw, &p)
	if code != want {
		t.Fatalf("replace %v: status %d, want %d: %s", body, code, want, raw)
	}
	return r, p
}

func waitReplacement(t *testing.T, c *harness.Client, id, want string, within time.Duration) replacement {
	t.Helper()
	var r replacement
	eventually.True(t, within, "replacement "+id+" "+want, func() (bool, string) {
		r = replacement{}
		c.Do(t, "GET", "/api/v1/meter-replacements/"+id, nil, &r)
		return r.Status == want, r.Status + " " + r.Failure
	})
	return r
}

func wallet(t *testing.T, meterNo string) money.Amount {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, "meter-wallet:"+meterNo)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func place(t *testing.T, meterNo string) (status, account, unit string) {
	t.Helper()
	if err := stack.DB.QueryRow(context.Background(), `select status, coalesce(account_id::text,''), coalesce(unit_id::text,'')
		from meters where meter_no=$1`, meterNo).Scan(&status, &account, &unit); err != nil {
		t.Fatal(err)
	}
	return status, account, unit
}

func cents(s string) int64 { return money.MustParse(s).Cents() }

// TestReplaceDemoMeterMovesItsBalanceExactly replaces a demo meter that
// had a sale with a newly imported one: the new meter holds exactly the old
// one's final remaining (its own factory balance cleared), its purchase
// counter took the move, it takes the old one's account and unit, the old
// one is switched off and retired (a sale to it is refused), and the
// ledger moves the wallet.
func TestReplaceDemoMeterMovesItsBalanceExactly(t *testing.T) {
	stack.CheckLedger(t)
	run := fmt.Sprint(time.Now().UnixNano() % 1e9)
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	fleet := newFleet(t, 1)
	newNo := "N" + run
	importMeters(t, admin, fleet, "GWN"+run, [][2]string{{newNo, "1"}})

	oldNo := stack.UnsoldMeter(t, "M0040", "M0041", "M0042", "M0043")
	var sale struct{ ID, Status string }
	if code := cashier.Do(t, "POST", "/api/v1/recharges",
		fmt.Sprintf(`{"meterNo":%q,"amount":"12.34","transactionNo":"S%s"}`, oldNo, run), &sale); code != http.StatusAccepted {
		t.Fatalf("sale to %s: %d", oldNo, code)
	}
	eventually.True(t, 30*time.Second, "sale completes", func() (bool, string) {
		cashier.Do(t, "GET", "/api/v1/recharges/"+sale.ID, nil, &sale)
		return sale.Status == "completed", sale.Status
	})
	oldCents, _ := stack.MeterRegisters(t, oldNo)
	_, oldAccount, oldUnit := place(t, oldNo)
	oldWallet := wallet(t, oldNo)

	// Refusals change nothing: unknown meter, the same meter twice, no role.
	tx := "R" + run
	body := map[string]any{"oldMeterNo": oldNo, "newMeterNo": newNo, "transactionNo": tx}
	if _, p := replace(t, admin, map[string]any{"oldMeterNo": oldNo, "newMeterNo": "NOPE" + run, "transactionNo": tx}, http.StatusNotFound); p.Code != "not_found" {
		t.Fatalf("unknown new meter: %+v", p)
	}
	if _, p := replace(t, admin, map[string]any{"oldMeterNo": oldNo, "newMeterNo": oldNo, "transactionNo": tx}, http.StatusUnprocessableEntity); p.Code != "replacement_mismatch" {
		t.Fatalf("same meter: %+v", p)
	}
	if _, p := replace(t, cashier, body, http.StatusForbidden); p.Code != "forbidden" {
		t.Fatalf("cashier: %+v", p)
	}
	if n := count(t, `select count(*) from meter_replacements where transaction_no=$1`, tx); n != 0 {
		t.Fatalf("%d replacements written by refused requests", n)
	}

	r, _ := replace(t, admin, body, http.StatusAccepted)
	if r.WorkflowID != "meter-replacement/"+r.ID {
		t.Fatalf("accepted %+v", r)
	}
	again, _ := replace(t, admin, body, http.StatusAccepted)
	if again.ID != r.ID {
		t.Fatalf("same transactionNo and body gave %s, first %s", again.ID, r.ID)
	}
	if _, p := replace(t, admin, map[string]any{"oldMeterNo": oldNo, "newMeterNo": newNo, "transactionNo": tx,
		"manualReading": map[string]string{"remaining": "1.00", "counterKwh": "1.00", "reason": "x"}}, http.StatusConflict); p.Code != "idempotency_key_reused" {
		t.Fatalf("same transactionNo, other body: %+v", p)
	}

	done := waitReplacement(t, admin, r.ID, "completed", 60*time.Second)
	want := money.FromCents(oldCents).String()
	if done.FinalRemaining == nil || *done.FinalRemaining != want || done.Moved == nil || *done.Moved != want ||
		done.ManualReading || !done.SwitchedOff || done.FinalCounterKwh == nil {
		t.Fatalf("completed %+v; want final remaining and moved %s, read from the meter, switched off", done, want)
	}
	sim := fleet.Gateway(0).Meter(1).State()
	if sim.Remaining != oldCents {
		t.Fatalf("new meter holds %d cents, the old one's final remaining was %d", sim.Remaining, oldCents)
	}
	if done.NewRemaining == nil || cents(*done.NewRemaining) != oldCents || done.NewPurchaseCount == nil ||
		*done.NewPurchaseCount != int(sim.PurchaseCount) || sim.PurchaseCount != 1 {
		t.Fatalf("new meter state %+v recorded, simulator shows %d cents counter %d", done, sim.Remaining, sim.PurchaseCount)
	}
	gw, unit := (mustMeterIndex(t, oldNo)-1)/32, uint8((mustMeterIndex(t, oldNo)-1)%32+1)
	old := stack.Fleet.Gateway(gw).Meter(unit).State()
	if old.Relay != 1 || cents(*done.FinalCounterKwh) != old.Energy {
		t.Fatalf("old meter relay %d energy %d; recorded counter %s", old.Relay, old.Energy, *done.FinalCounterKwh)
	}
	status, account, unitID := place(t, newNo)
	if status != "active" || account != oldAccount || unitID != oldUnit {
		t.Fatalf("new meter %s in account %q unit %q, the old one was in %q %q", status, account, unitID, oldAccount, oldUnit)
	}
	if status, account, _ := place(t, oldNo); status != "retired" || account != "" {
		t.Fatalf("old meter %s in account %q, want retired and out of it", status, account)
	}
	if w := wallet(t, oldNo); !w.IsZero() {
		t.Fatalf("old wallet holds %s after the move (held %s)", w, oldWallet)
	}
	if w := wallet(t, newNo); w.String() != want {
		t.Fatalf("new wallet holds %s, want %s", w, want)
	}
	if err := ledgerstore.CheckInvariant(context.Background(), stack.DB); err != nil {
		t.Fatal(err)
	}

	// The old meter sells no more; the new one does, on its own counter.
	code, raw, _ := cashier.DoRaw(t, "POST", "/api/v1/recharges", fmt.Sprintf(`{"meterNo":%q,"amount":"1.00","transactionNo":"X%s"}`, oldNo, run))
	var p problem
	_ = json.Unmarshal(raw, &p)
	if code != http.StatusConflict || p.Code != "meter_retired" {
		t.Fatalf("sale to the retired meter: %d %s", code, raw)
	}
	if code := cashier.Do(t, "POST", "/api/v1/recharges",
		fmt.Sprintf(`{"meterNo":%q,"amount":"1.00","transactionNo":"Y%s"}`, newNo, run), &sale); code != http.StatusAccepted {
		t.Fatalf("sale to the new meter: %d", code)
	}
	eventually.True(t, 30*time.Second, "sale to the new meter completes", func() (bool, string) {
		cashier.Do(t, "GET", "/api/v1/recharges/"+sale.ID, nil, &sale)
		return sale.Status == "completed", sale.Status
	})
	if s := fleet.Gateway(0).Meter(1).State(); s.Remaining != oldCents+100 || s.PurchaseCount != 2 {
		t.Fatalf("new meter after a sale of 1.00: %d cents counter %d", s.Remaining, s.PurchaseCount)
	}
	// A retired meter cannot be replaced again.
	if _, p := replace(t, admin, map[string]any{"oldMeterNo": oldNo, "newMeterNo": newNo, "transactionNo": "Z" + run},
		http.StatusConflict); p.Code != "meter_retired" {
		t.Fatalf("replace a retired meter: %+v", p)
	}
}

// TestUnreadableMeterTakesTheManualReading replaces meters at unit
// addresses the simulator does not answer: with the operator's reading in
// the request, and without (the replacement waits in awaiting_reading for
// POST .../manual-reading). Both complete with the reading recorded as
// manual, and the new meter holds it exactly.
func TestUnreadableMeterTakesTheManualReading(t *testing.T) {
	stack.CheckLedger(t)
	run := fmt.Sprint(time.Now().UnixNano() % 1e9)
	admin := stack.Login(t, "admin", "admin")
	fleet := newFleet(t, 2)
	deadA, deadB, newA, newB := "DA"+run, "DB"+run, "NA"+run, "NB"+run
	importMeters(t, admin, fleet, "GWD"+run, [][2]string{{newA, "1"}, {newB, "2"}, {deadA, "9"}, {deadB, "10"}})

	r, _ := replace(t, admin, map[string]any{"oldMeterNo": deadA, "newMeterNo": newA, "transactionNo": "MA" + run,
		"manualReading": map[string]string{"remaining": "23.45", "counterKwh": "678.90", "reason": "read off the display on site"}},
		http.StatusAccepted)
	done := waitReplacement(t, admin, r.ID, "completed", 90*time.Second)
	if !done.ManualReading || done.ManualReason != "read off the display on site" || done.SwitchedOff ||
		*done.FinalRemaining != "23.45" || *done.FinalCounterKwh != "678.90" || *done.Moved != "23.45" {
		t.Fatalf("completed %+v; want the manual reading recorded as manual", done)
	}
	if s := fleet.Gateway(0).Meter(1).State(); s.Remaining != 2345 || s.PurchaseCount != 1 {
		t.Fatalf("new meter holds %d cents counter %d, want 2345 and 1", s.Remaining, s.PurchaseCount)
	}
	if status, _, _ := place(t, deadA); status != "retired" {
		t.Fatalf("unreadable old meter %s, want retired", status)
	}

	r, _ = replace(t, admin, map[string]any{"oldMeterNo": deadB, "newMeterNo": newB, "transactionNo": "MB" + run}, http.StatusAccepted)
	waitReplacement(t, admin, r.ID, "awaiting_reading", 90*time.Second)
	var got replacement
	if code := admin.Do(t, "POST", "/api/v1/meter-replacements/"+r.ID+"/manual-reading",
		map[string]string{"remaining": "7.00", "counterKwh": "12.00", "reason": "meter dead"}, &got); code != http.StatusOK {
		t.Fatalf("manual reading: %d", code)
	}
	done = waitReplacement(t, admin, r.ID, "completed", 60*time.Second)
	if !done.ManualReading || *done.FinalRemaining != "7.00" || *done.Moved != "7.00" {
		t.Fatalf("completed %+v", done)
	}
	if s := fleet.Gateway(0).Meter(2).State(); s.Remaining != 700 {
		t.Fatalf("new meter holds %d cents, want 700", s.Remaining)
	}
	if code := admin.Do(t, "POST", "/api/v1/meter-replacements/"+r.ID+"/manual-reading",
		map[string]string{"remaining": "7.00", "counterKwh": "12.00", "reason": "again"}, nil); code != http.StatusConflict {
		t.Fatalf("manual reading of a completed replacement: %d, want 409", code)
	}
	if w := wallet(t, newB); w.String() != "7.00" {
		t.Fatalf("new wallet %s, want 7.00", w)
	}
}

func count(t *testing.T, sql string, args ...any) (n int) {
	t.Helper()
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustMeterIndex(t *testing.T, meterNo string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}
