package platformbilling_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

type fixture struct {
	db        *store.DB
	projectID string
	meters    map[string]string // meter number → id
	acts      *platformbillingacts.Activities
	started   []platformbillingacts.Switch
}

func (f *fixture) StartSwitch(_ context.Context, s platformbillingacts.Switch) error {
	f.started = append(f.started, s)
	return nil
}

// newFixture: the demo with one gateway of 3 meters, M0001–M0003 switched
// to platform-side prepaid on the TOU tariff of the simulator's day.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: pg.NewDB(t), meters: map[string]string{}}
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 3, []int{15020}
	loaded, err := demo.Load(ctx, f.db, d)
	if err != nil {
		t.Fatal(err)
	}
	f.projectID = loaded.ProjectID
	rows, err := f.db.Query(ctx, `update meters set prepaid_mode='platform' returning meter_no, id::text`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var no, id string
		if err := rows.Scan(&no, &id); err != nil {
			t.Fatal(err)
		}
		f.meters[no] = id
	}
	rows.Close()
	tariffID, err := platformbillingacts.SaveTariff(ctx, f.db, f.projectID, "tou-2026", "provincial TOU", touTariff())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range f.meters {
		if err := platformbillingacts.AssignTariff(ctx, f.db, id, tariffID); err != nil {
			t.Fatal(err)
		}
	}
	f.acts = &platformbillingacts.Activities{DB: f.db, Switch: f}
	return f
}

func price(s string) money.Price {
	p, err := money.ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

// touTariff: valley 00–07, flat 07–08, peak 08–11, flat 11–18, peak 18–19,
// sharp 19–21, peak 21–23, valley 23–24 (UTC+8); peak 1.0123, flat 0.6057.
func touTariff() tariff.Tariff {
	return tariff.Tariff{Kind: tariff.TOU,
		Prices: map[tariff.Period]money.Price{tariff.Sharp: price("1.3579"), tariff.Peak: price("1.0123"),
			tariff.Flat: price("0.6057"), tariff.Valley: price("0.3011")},
		Schedule: []tariff.Segment{{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 420, Period: tariff.Flat},
			{StartMinute: 480, Period: tariff.Peak}, {StartMinute: 660, Period: tariff.Flat},
			{StartMinute: 1080, Period: tariff.Peak}, {StartMinute: 1140, Period: tariff.Sharp},
			{StartMinute: 1260, Period: tariff.Peak}, {StartMinute: 1380, Period: tariff.Valley}}}
}

// cst is a wall-clock time on 2026-11-23 in China.
func cst(hour, minute int) time.Time {
	return time.Date(2026, 11, 23, hour, minute, 0, 0, time.FixedZone("CST", 8*3600))
}

// reading is a stored reading: energy and the 4 TOU registers in kWh.
type reading struct {
	meter             string
	energy            string
	sharp, peak, flat string
	valley            string
	mode              int
}

func (f *fixture) write(t *testing.T, at time.Time, rs ...reading) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.Exec(ctx, `select readings_partition($1)`, at); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		if _, err := f.db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh,
			flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			values($1,$2,$2,$3,$4,$5,$6,$7,230,1,0.2,0,0,0,$8,0)`, f.meters[r.meter], at, r.energy,
			r.sharp, r.peak, r.flat, r.valley, r.mode); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.meters[r.meter])
	}
	return ids
}

func (f *fixture) bill(t *testing.T, at time.Time, rs ...reading) platformbillingacts.BillResult {
	t.Helper()
	ids := f.write(t, at, rs...)
	res, err := f.acts.BillReadings(context.Background(), platformbillingacts.BillInput{At: at, MeterIDs: ids})
	if err != nil {
		t.Fatalf("bill at %s: %v", at, err)
	}
	return res
}

func (f *fixture) recharge(t *testing.T, meterNo, key, amount string) {
	t.Helper()
	e := ledgerdom.Transfer(key, "recharge", "test recharge",
		ledgerdom.Posting{Account: ledgerdom.MeterWallet(meterNo), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, money.MustParse(amount))
	if _, err := ledgerstore.Book(context.Background(), f.db, f.projectID, e); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) wallet(t *testing.T, meterNo string) string {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), f.db, f.projectID, ledgerdom.MeterWallet(meterNo))
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func switches(ss []platformbillingacts.Switch) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.MeterNo+" "+s.Command)
	}
	return out
}

// TestTOUBoundaryChargedExactly follows one meter with TOU registers
// (M0001) and one without (M0002, split by time) across the 11:00 peak→flat
// boundary, through the change wallet, the overdraft allowance, switch-off
// at zero and switch-on after a recharge.
func TestTOUBoundaryChargedExactly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.recharge(t, "M0001", "r1", "5.00")
	f.recharge(t, "M0002", "r2", "5.00")

	// 10:30 baseline: nothing charged, both have money.
	res := f.bill(t, cst(10, 30),
		reading{meter: "M0001", energy: "100.00", sharp: "0", peak: "60.00", flat: "40.00", valley: "0"},
		reading{meter: "M0002", energy: "100.00", sharp: "0", peak: "0", flat: "0", valley: "0"})
	if res.Meters != 2 || res.Charged != 0 || len(res.SwitchOff) != 0 {
		t.Fatalf("baseline: %+v", res)
	}

	// 10:30 → 11:30, 3.00 kWh across 11:00. M0001's registers: peak +1.50,
	// flat +1.50; M0002 has none, so the hour is split by time, 30 min
	// each: also 1.50 + 1.50. 1.50 × 1.0123 = 1.51845; 1.50 × 0.6057 =
	// 0.90855; exact 2.42700 → charged 2.43, change wallet -0.003.
	res = f.bill(t, cst(11, 30),
		reading{meter: "M0001", energy: "103.00", sharp: "0", peak: "61.50", flat: "41.50", valley: "0"},
		reading{meter: "M0002", energy: "103.00", sharp: "0", peak: "0", flat: "0", valley: "0"})
	if res.Charged != 2 || res.Amount.String() != "4.86" {
		t.Fatalf("11:30: %+v, want 2 charges of 2.43", res)
	}
	for _, m := range []string{"M0001", "M0002"} {
		if w := f.wallet(t, m); w != "2.57" {
			t.Fatalf("%s wallet %s after 2.43, want 2.57", m, w)
		}
	}
	var lines string
	if err := f.db.QueryRow(ctx, `select string_agg(l->>'period' || ' ' || (l->>'kwh') || ' ' || (l->>'exact'), ', ')
		from meter_charges c, jsonb_array_elements(c.lines) l where c.meter_id=$1 and c.read_at=$2`,
		f.meters["M0002"], cst(11, 30)).Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if lines != "peak 1.5 1.51845, flat 1.5 0.90855" {
		t.Fatalf("M0002 lines %q", lines)
	}

	// 11:30 → 12:00, flat +3.00: 3 × 0.6057 = 1.8171; -0.003 + 1.8171 =
	// 1.8141 → 1.81, carry 0.0041. Wallet 2.57 - 1.81 = 0.76.
	f.bill(t, cst(12, 0), reading{meter: "M0001", energy: "106.00", sharp: "0", peak: "61.50", flat: "44.50", valley: "0"})
	if w := f.wallet(t, "M0001"); w != "0.76" {
		t.Fatalf("wallet %s, want 0.76", w)
	}

	// An emergency overdraft of 0.50 keeps it on below zero.
	allowance := money.MustParse("0.50")
	if err := platformbillingstore.SetMeterOverdraft(ctx, f.db, f.projectID, f.meters["M0001"], &allowance); err != nil {
		t.Fatal(err)
	}
	// 12:00 → 12:30, flat +2.00: 2 × 0.6057 = 1.2114; 0.0041 + 1.2114 =
	// 1.2155 → 1.22, carry -0.0045. Wallet -0.46; with overdraft 0.04 > 0.
	res = f.bill(t, cst(12, 30), reading{meter: "M0001", energy: "108.00", sharp: "0", peak: "61.50", flat: "46.50", valley: "0"})
	if w := f.wallet(t, "M0001"); w != "-0.46" || len(res.SwitchOff) != 0 {
		t.Fatalf("wallet %s, switch-offs %v; want -0.46 and none (overdraft)", w, switches(res.SwitchOff))
	}

	// 12:30 → 13:00, flat +0.10: 0.1 × 0.6057 = 0.06057; -0.0045 + 0.06057
	// = 0.05607 → 0.06. Wallet -0.52, with overdraft -0.02 ≤ 0: switch off.
	at := cst(13, 0)
	res = f.bill(t, at, reading{meter: "M0001", energy: "108.10", sharp: "0", peak: "61.50", flat: "46.60", valley: "0"})
	if got := switches(res.SwitchOff); len(got) != 1 || got[0] != "M0001 switch_off" || res.SwitchOff[0].Balance.String() != "-0.52" {
		t.Fatalf("switch-offs %v (%+v), want M0001 at -0.52", got, res.SwitchOff)
	}
	// Everything M0001 was charged is the exact total rounded once:
	// 2.427 + 1.8171 + 1.2114 + 0.06057 = 5.51607 → 5.52 = 5.00 + 0.52.
	var charged money.Amount
	if err := f.db.QueryRow(ctx, `select sum(amount) from meter_charges where meter_id=$1`, f.meters["M0001"]).Scan(&charged); err != nil {
		t.Fatal(err)
	}
	if charged.String() != "5.52" {
		t.Fatalf("charged %s in all, want 5.52", charged)
	}

	// The same readings again (a retried sweep write): nothing booked or switched twice.
	again, err := f.acts.BillReadings(ctx, platformbillingacts.BillInput{At: at, MeterIDs: []string{f.meters["M0001"]}})
	if err != nil || again.Charged != 0 || len(again.SwitchOff) != 0 {
		t.Fatalf("replay: %+v %v", again, err)
	}
	// The command is logged like an operator's, without an operator.
	cmd, err := metercmdstore.GetCommand(ctx, f.db, []string{f.projectID}, res.SwitchOff[0].CommandID)
	if err != nil || cmd.Command != "switch_off" || cmd.Status != "pending" || cmd.CreatedBy != "" ||
		cmd.WorkflowID != "meter-command/"+cmd.ID {
		t.Fatalf("command %+v %v", cmd, err)
	}
	if len(f.started) != 1 || f.started[0].CommandID != cmd.ID {
		t.Fatalf("started %+v", f.started)
	}

	// Cut off, nothing used: no further switch-off.
	res = f.bill(t, cst(13, 30), reading{meter: "M0001", energy: "108.10", sharp: "0", peak: "61.50", flat: "46.60", valley: "0"})
	if len(res.SwitchOff)+len(res.SwitchOn) != 0 || res.Charged != 0 {
		t.Fatalf("while cut off: %+v", res)
	}
	// A recharge brings it back above zero: the next reading switches it on.
	f.recharge(t, "M0001", "r3", "10.00")
	res = f.bill(t, cst(14, 0), reading{meter: "M0001", energy: "108.10", sharp: "0", peak: "61.50", flat: "46.60", valley: "0"})
	if got := switches(res.SwitchOn); len(got) != 1 || got[0] != "M0001 switch_on" || f.wallet(t, "M0001") != "9.48" {
		t.Fatalf("after recharge: switch-ons %v wallet %s", got, f.wallet(t, "M0001"))
	}
	if err := ledgerstore.CheckInvariant(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	var income money.Amount
	if err := f.db.QueryRow(ctx, `select -balance from ledger_accounts where code=$1`, platformbillingacts.ConsumptionIncome).Scan(&income); err != nil {
		t.Fatal(err)
	}
	// M0001 5.52 + M0002 2.43.
	if income.String() != "7.95" {
		t.Fatalf("consumption income %s, want 7.95", income)
	}
}

// TestProtectModeIsNeverSwitchedOff: a meter in protect mode (保电) with no
// money is not reported; once protect is released it is.
func TestProtectModeIsNeverSwitchedOff(t *testing.T) {
	f := newFixture(t)
	res := f.bill(t, cst(9, 0), reading{meter: "M0003", energy: "5.00", sharp: "0", peak: "0", flat: "0", valley: "0", mode: 1})
	if res.Meters != 1 || len(res.SwitchOff) != 0 {
		t.Fatalf("protected: %+v", res)
	}
	res = f.bill(t, cst(9, 30), reading{meter: "M0003", energy: "5.50", sharp: "0", peak: "0", flat: "0", valley: "0", mode: 0})
	// 0.50 kWh of peak: 0.5 × 1.0123 = 0.50615 → 0.51; wallet -0.51.
	if got := switches(res.SwitchOff); len(got) != 1 || f.wallet(t, "M0003") != "-0.51" {
		t.Fatalf("released: switch-offs %v wallet %s", got, f.wallet(t, "M0003"))
	}
	if err := ledgerstore.CheckInvariant(context.Background(), f.db); err != nil {
		t.Fatal(err)
	}
}

// TestMeterSidePrepaidIsNotBilled: a reading of a meter-side meter books nothing.
func TestMeterSidePrepaidIsNotBilled(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.Exec(context.Background(), `update meters set prepaid_mode='meter' where meter_no='M0003'`); err != nil {
		t.Fatal(err)
	}
	f.bill(t, cst(9, 0), reading{meter: "M0003", energy: "5.00", sharp: "0", peak: "0", flat: "0", valley: "0"})
	res := f.bill(t, cst(9, 30), reading{meter: "M0003", energy: "9.00", sharp: "0", peak: "0", flat: "0", valley: "0"})
	if res.Meters != 0 || res.Charged != 0 || f.wallet(t, "M0003") != "0.00" {
		t.Fatalf("meter-side meter billed: %+v", res)
	}
}

// TestTieredMonthToDate: tiered steps follow the month's energy after the
// CT ratio, and a new month (China time) starts again at the first step.
func TestTieredMonthToDate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	up := func(s string) *decimal.Decimal { v := decimal.RequireFromString(s); return &v }
	id, err := platformbillingacts.SaveTariff(ctx, f.db, f.projectID, "tiers", "阶梯", tariff.Tariff{Kind: tariff.Tiered,
		Steps: []tariff.Step{{UpToKWh: up("200"), Price: price("0.5800")}, {UpToKWh: up("400"), Price: price("0.6300")},
			{Price: price("0.8800")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := platformbillingacts.AssignTariff(ctx, f.db, f.meters["M0001"], id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `update meters set ct_ratio=2 where meter_no='M0001'`); err != nil {
		t.Fatal(err)
	}
	f.recharge(t, "M0001", "r1", "200.00")
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.FixedZone("CST", 8*3600)) }
	r := func(energy string) reading {
		return reading{meter: "M0001", energy: energy, sharp: "0", peak: "0", flat: "0", valley: "0"}
	}
	f.bill(t, day(30, 10), r("0"))
	// 95.00 × CT 2 = 190 kWh, all in step 1: 190 × 0.58 = 110.20.
	f.bill(t, day(30, 12), r("95.00"))
	// 15.00 × 2 = 30 kWh from 190: 10 × 0.58 + 20 × 0.63 = 5.80 + 12.60 = 18.40.
	f.bill(t, day(30, 14), r("110.00"))
	// 1 December 01:00 China time: a new month, 5.00 × 2 = 10 kWh at step 1: 5.80.
	f.bill(t, day(31, 1), r("115.00"))
	// 200.00 - 110.20 - 18.40 - 5.80 = 65.60.
	if w := f.wallet(t, "M0001"); w != "65.60" {
		t.Fatalf("wallet %s, want 65.60", w)
	}
	var month string
	var kwh decimal.Decimal
	if err := f.db.QueryRow(ctx, `select month, month_kwh from meter_billing where meter_id=$1`, f.meters["M0001"]).Scan(&month, &kwh); err != nil {
		t.Fatal(err)
	}
	if month != "2026-12" || !kwh.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("month %s to date %s kWh, want 2026-12 and 10", month, kwh)
	}
	if err := ledgerstore.CheckInvariant(ctx, f.db); err != nil {
		t.Fatal(err)
	}
}
