// Package meterprices downloads tariffs into meter-side prepaid meters'
// price blocks (issue 20 §4, M7) through the HTTP API on the real platform
// — PostgreSQL, Temporal, the worker process and meter simulators on real
// TCP sockets — and checks, by hand-computed figures, that the simulated
// meters deduct by them.
package meterprices

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	_ = os.Setenv("VOLTFLOW_SWEEP_INTERVAL", "24h")
	harness.Main(m, "meterprices", harness.Options{Gateways: 1, MetersPerGW: 5, DispatchWindow: 20 * time.Second,
		UpdateTimeout: 30 * time.Second}, &stack)
}

// blocks gives meters the profile with the setting blocks (the simulators
// implement it; the demo imports its meters as ref-prepaid-v1).
func blocks(t *testing.T, meterNos ...string) {
	t.Helper()
	if _, err := stack.DB.Exec(context.Background(), `update meters set profile='ref-prepaid-blocks-v1' where meter_no = any($1)`, meterNos); err != nil {
		t.Fatal(err)
	}
}

type download struct {
	MeterNo  string `json:"meterNo"`
	Tariff   string `json:"tariff"`
	Download struct {
		CommandID  string `json:"commandId"`
		WorkflowID string `json:"workflowId"`
	} `json:"download"`
}

type command struct {
	Command string           `json:"command"`
	Status  string           `json:"status"`
	Args    map[string]int64 `json:"args"`
	Failure string           `json:"failure"`
	Request json.RawMessage  `json:"request"`
}

// assign PUTs the tariff and waits for its set_tariff command to be done.
func assign(t *testing.T, admin *harness.Client, meterNo, code string) command {
	t.Helper()
	var d download
	if c := admin.Do(t, http.MethodPut, "/api/v1/meters/"+meterNo+"/tariff", map[string]string{"tariff": code}, &d); c != http.StatusOK {
		t.Fatalf("assign %s to %s: %d", code, meterNo, c)
	}
	if d.Download.CommandID == "" || d.Download.WorkflowID != "meter-command/"+d.Download.CommandID {
		t.Fatalf("no download in %+v", d)
	}
	var c command
	eventually.True(t, time.Minute, "set_tariff done", func() (bool, string) {
		c = command{}
		admin.Do(t, http.MethodGet, "/api/v1/meter-commands/"+d.Download.CommandID, nil, &c)
		return c.Status == "done", c.Status + " " + c.Failure
	})
	if c.Command != "set_tariff" {
		t.Fatalf("command %+v", c)
	}
	return c
}

// run starts the fleet's clock at the next whole hour with no load, then
// draws watts on meterNo for d.
func run(t *testing.T, meterNo string, watts int64, d time.Duration) {
	t.Helper()
	m := meter(t, meterNo)
	now := stack.Fleet.Now()
	stack.Fleet.Advance(now.Truncate(time.Hour).Add(time.Hour).Sub(now))
	m.SetLoad(watts)
	stack.Fleet.Advance(d)
	m.SetLoad(0)
}

func meter(t *testing.T, meterNo string) interface{ SetLoad(int64) } {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	return stack.Fleet.Gateway(0).Meter(uint8(n))
}

// TestTOUTariffDownloadedAndDeducted: TOU-DEMO (sharp 1.50, peak 1.20,
// flat 0.80, valley 0.40; valley 23–08, flat 08–10 and 21–23, peak
// 10–18, sharp 18–21) goes into M0001 as set_tariff, and a whole day at
// 2 kW costs, by hand, 18 kWh × 0.40 + 8 × 0.80 + 16 × 1.20 + 6 × 1.50 =
// 7.20 + 6.40 + 19.20 + 9.00 = 41.80 — not 48 kWh × 1.20 = 57.60 at the
// single price. The meter next to it, left on its single price, takes
// 57.60 for the same day.
func TestTOUTariffDownloadedAndDeducted(t *testing.T) {
	blocks(t, "M0001", "M0002")
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	if c := cashier.Do(t, http.MethodPut, "/api/v1/meters/M0001/tariff", map[string]string{"tariff": "TOU-DEMO"}, nil); c != http.StatusForbidden {
		t.Fatalf("cashier assigns a tariff: %d, want 403", c)
	}
	c := assign(t, admin, "M0001", "TOU-DEMO")
	if c.Args["tariff_mode"] != 1 || c.Args["price_sharp"] != 15000 || c.Args["price_valley"] != 4000 || c.Args["tou_hour_18"] != 0 {
		t.Fatalf("set_tariff args %v", c.Args)
	}
	t.Logf("set_tariff request: %s", c.Request)

	before1, _ := stack.MeterRegisters(t, "M0001")
	before2, _ := stack.MeterRegisters(t, "M0002")
	// 50.00 would run out on M0002 within the day at the single price:
	// recharge both first so neither trips.
	for _, m := range []string{"M0001", "M0002"} {
		var r struct{ ID, Status string }
		if code := cashier.Do(t, http.MethodPost, "/api/v1/recharges", map[string]string{"meterNo": m, "amount": "100.00",
			"transactionNo": "mp-" + m + fmt.Sprint(time.Now().UnixNano())}, &r); code != http.StatusAccepted {
			t.Fatalf("recharge %s: %d", m, code)
		}
		eventually.True(t, time.Minute, m+" recharged", func() (bool, string) {
			cashier.Do(t, http.MethodGet, "/api/v1/recharges/"+r.ID, nil, &r)
			return r.Status == "completed", r.Status
		})
	}
	run2 := meter(t, "M0002")
	now := stack.Fleet.Now()
	stack.Fleet.Advance(now.Truncate(time.Hour).Add(time.Hour).Sub(now))
	meter(t, "M0001").SetLoad(2000)
	run2.SetLoad(2000)
	stack.Fleet.Advance(24 * time.Hour)
	meter(t, "M0001").SetLoad(0)
	run2.SetLoad(0)

	after1, _ := stack.MeterRegisters(t, "M0001")
	after2, _ := stack.MeterRegisters(t, "M0002")
	if d := before1 + 10000 - after1; d != 4180 {
		t.Errorf("M0001 (TOU block) deducted %d cents over the day, want 4180", d)
	}
	if d := before2 + 10000 - after2; d != 5760 {
		t.Errorf("M0002 (single price) deducted %d cents over the day, want 5760", d)
	}
	t.Logf("a day at 2 kW: TOU block %d cents, single price %d cents", before1+10000-after1, before2+10000-after2)
}

// TestTieredTariffDownloadedAndDeducted: a tiered tariff (up to 10 kWh a
// month at 0.50, up to 20 at 0.80, beyond at 1.00) into M0003; 15 h at
// 2 kW = 30 kWh costs 5.00 + 8.00 + 10.00 = 23.00 of its 50.00, leaving
// 27.00 — unless the 15 h span a month's start, which the test avoids.
func TestTieredTariffDownloadedAndDeducted(t *testing.T) {
	blocks(t, "M0003")
	admin := stack.Login(t, "admin", "admin")
	if code, raw, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/tariffs", map[string]any{"code": "TIER-MP", "name": "阶梯",
		"tariff": map[string]any{"kind": "tiered", "steps": []map[string]any{{"upToKwh": "10", "price": "0.5000"},
			{"upToKwh": "20", "price": "0.8000"}, {"price": "1.0000"}}}}); code != http.StatusCreated {
		t.Fatalf("create tiered tariff: %d %s", code, raw)
	}
	c := assign(t, admin, "M0003", "TIER-MP")
	if c.Args["tariff_mode"] != 2 || c.Args["tier1_kwh"] != 1000 || c.Args["tier2_kwh"] != 2000 || c.Args["tier3_price"] != 10000 {
		t.Fatalf("set_tariff args %v", c.Args)
	}
	now := stack.Fleet.Now()
	if end := now.Add(17 * time.Hour); end.Month() != now.Month() {
		t.Skipf("15 h from %v cross a month's start", now)
	}
	before, _ := stack.MeterRegisters(t, "M0003")
	run(t, "M0003", 2000, 15*time.Hour)
	after, _ := stack.MeterRegisters(t, "M0003")
	if d := before - after; d != 2300 {
		t.Errorf("M0003 (tiered block) deducted %d cents for 30 kWh, want 2300", d)
	}
}

// TestTOUFollowedOnAMeterWithoutBlock: M0004 is ref-prepaid-v1 (no price
// block). A tiered tariff cannot be kept by rewriting its unit price
// (422); TOU-DEMO is: meter-price/M0004 writes the price of the current
// China-time period into 0x010B as a set_unit_price command and waits for
// the next boundary; removing the tariff and signalling ends it.
func TestTOUFollowedOnAMeterWithoutBlock(t *testing.T) {
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	if code, raw, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/projects/demo/tariffs", map[string]any{"code": "TIER-NB", "name": "阶梯",
		"tariff": map[string]any{"kind": "tiered", "steps": []map[string]any{{"upToKwh": "10", "price": "0.5000"}, {"price": "1.0000"}}}}); code != http.StatusCreated {
		t.Fatalf("create tiered tariff: %d %s", code, raw)
	}
	if code, raw, _ := admin.DoRaw(t, http.MethodPut, "/api/v1/meters/M0004/tariff", map[string]string{"tariff": "TIER-NB"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("tiered to a meter without the block: %d %s, want 422", code, raw)
	}
	var out struct {
		Follow struct{ WorkflowID string } `json:"follow"`
	}
	if code := admin.Do(t, http.MethodPut, "/api/v1/meters/M0004/tariff", map[string]string{"tariff": "TOU-DEMO"}, &out); code != http.StatusOK ||
		out.Follow.WorkflowID != "meter-price/M0004" {
		t.Fatalf("TOU-DEMO to M0004: %d %+v", code, out)
	}
	// The price of the China-time hour under TOU-DEMO (read again each
	// try: a run across a boundary sees the workflow write the next one).
	price := func() (uint32, int) {
		h := time.Now().In(time.FixedZone("CST", 8*3600)).Hour()
		switch {
		case h >= 8 && h < 10, h >= 21 && h < 23:
			return 8000, h
		case h >= 10 && h < 18:
			return 12000, h
		case h >= 18 && h < 21:
			return 15000, h
		}
		return 4000, h
	}
	eventually.True(t, time.Minute, "M0004's unit price is the hour's period price", func() (bool, string) {
		var n int
		_ = stack.DB.QueryRow(ctx, `select count(*) from meter_commands where meter_no='M0004' and command='set_unit_price' and status='done'`).Scan(&n)
		regs := registers(t, "M0004", 0x010B, 2)
		want, h := price()
		got := uint32(regs[0])<<16 | uint32(regs[1])
		return n >= 1 && got == want, fmt.Sprintf("%d commands done, price %d at China hour %d, want %d", n, got, h, want)
	})
	want, h := price()
	t.Logf("M0004 unit price %d at China hour %d", want, h)
	if _, err := stack.DB.Exec(ctx, `delete from meter_tariffs where meter_id=(select id from meters where meter_no='M0004')`); err != nil {
		t.Fatal(err)
	}
	if err := stack.Temporal.SignalWorkflow(ctx, "meter-price/M0004", "", "tariff-changed", nil); err != nil {
		t.Fatal(err)
	}
	var res struct{ Stopped string }
	if err := stack.Temporal.GetWorkflow(ctx, "meter-price/M0004", "").Get(ctx, &res); err != nil || res.Stopped == "" {
		t.Fatalf("meter-price/M0004 ended %+v (%v)", res, err)
	}
}
