package platformbilling_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	feedom "github.com/voltflow/voltflow/domain/fee"
	"github.com/voltflow/voltflow/domain/money"
	feestore "github.com/voltflow/voltflow/store/fee"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
)

// TestFeeHoldAndBillingDoNotFight: platform-side M0001 is held off both by
// billing (its arrears cut-off) and by a property fee of wallet + 30.00
// (the fee hold), with an overdraft allowance of 50.00. A 10.00 credit
// (wallet −20.00) covers billing's rule (−20.00 + 50.00 > 0) but not the
// fee arrears: billing's hold ends without a switch-on. 20.00 more (wallet
// 0.00) pays the fee: the fee release sends the one switch-on.
func TestFeeHoldAndBillingDoNotFight(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	meterID := f.meters["M0001"]
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.db.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var unit string
	if err := f.db.QueryRow(ctx, `select unit_id::text from meters where id=$1`, meterID).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	exec(`update projects set fee_arrears_cut_off=true where id=$1`, f.projectID)
	rent := money.MustParse(f.wallet(t, "M0001")).Add(money.MustParse("30.00"))
	s, err := feestore.CreateSchedule(ctx, f.db, feestore.Schedule{ProjectID: f.projectID, UnitID: unit, Kind: feedom.Rent,
		Basis: feedom.Fixed, Amount: rent, DayOfMonth: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := feestore.Book(ctx, f.db, feestore.BookInput{ProjectID: f.projectID, ScheduleID: s.ID, UnitID: unit,
		Day: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || !b.CutOff || b.Switch == nil || b.Switch.MeterNo != "M0001" {
		t.Fatalf("the fee: %+v %v", b, err)
	}
	exec(`update meter_commands set status='done' where id=$1`, b.Switch.CommandID)
	exec(`insert into meter_billing(meter_id, last_read_at, last_taken_at, last_energy_kwh, last_sharp_kwh, last_peak_kwh,
		last_flat_kwh, last_valley_kwh, cut_off) values($1, now(), now(), 0, 0, 0, 0, 0, true)`, meterID)
	allowance := money.MustParse("50.00")
	if err := platformbillingstore.SetMeterOverdraft(ctx, f.db, f.projectID, meterID, &allowance); err != nil {
		t.Fatal(err)
	}
	credit := func(amount string) {
		t.Helper()
		out, err := f.acts.CreditRecharge(ctx, platformbillingstore.CreditInput{RechargeID: uuid.NewString(), ProjectID: f.projectID,
			MeterID: meterID, MeterNo: "M0001", Amount: money.MustParse(amount)})
		if err != nil {
			t.Fatal(err)
		}
		if out.SwitchOn != nil {
			t.Errorf("billing switched on after %s: %+v", amount, out.SwitchOn)
		}
	}
	state := func() (billingCutOff, feeHeld bool) {
		t.Helper()
		if err := f.db.QueryRow(ctx, `select (select cut_off from meter_billing where meter_id=$1),
			exists(select 1 from fee_cut_offs where meter_id=$1 and released_at is null)`, meterID).Scan(&billingCutOff, &feeHeld); err != nil {
			t.Fatal(err)
		}
		return
	}

	credit("10.00")
	if w := f.wallet(t, "M0001"); w != "-20.00" {
		t.Fatalf("wallet %s, want -20.00", w)
	}
	if billing, fee := state(); billing || !fee || len(f.started) != 0 {
		t.Errorf("after 10.00: billing holds %v, fee holds %v, started %v; want only the fee hold, nothing started",
			billing, fee, switches(f.started))
	}

	credit("20.00")
	if billing, fee := state(); billing || fee {
		t.Errorf("after paying: billing holds %v, fee holds %v", billing, fee)
	}
	if got := switches(f.started); len(got) != 1 || got[0] != "M0001 switch_on" {
		t.Fatalf("started %v, want one switch-on of M0001", got)
	}
	var n int
	if err := f.db.QueryRow(ctx, `select count(*) from meter_commands where meter_id=$1 and command='switch_on'`, meterID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d switch-on commands (%v), want 1", n, err)
	}
}

// TestSweepBillingLeavesAFeeHoldOff: M0003 (empty wallet) is switched off
// by billing at its first reading; a fee hold is then put on it too. After
// a recharge the next reading ends billing's hold without a switch-on (the
// fee hold is open); the fee release then sends the switch-on.
func TestSweepBillingLeavesAFeeHoldOff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	meterID := f.meters["M0003"]
	r := reading{meter: "M0003", energy: "5.00", sharp: "0", peak: "0", flat: "0", valley: "0"}
	if res := f.bill(t, cst(9, 0), r); len(res.SwitchOff) != 1 {
		t.Fatalf("first reading of an empty wallet: %+v", res)
	}
	if _, err := f.db.Exec(ctx, `insert into fee_cut_offs(meter_id, project_id, meter_no, fee_key) values($1,$2,'M0003','fee:test')`,
		meterID, f.projectID); err != nil {
		t.Fatal(err)
	}
	f.recharge(t, "M0003", "r-fee", "10.00")
	if res := f.bill(t, cst(9, 30), r); len(res.SwitchOn)+len(res.SwitchOff) != 0 {
		t.Fatalf("billing switched %v %v under a fee hold", switches(res.SwitchOn), switches(res.SwitchOff))
	}
	var cutOff bool
	if err := f.db.QueryRow(ctx, `select cut_off from meter_billing where meter_id=$1`, meterID).Scan(&cutOff); err != nil || cutOff {
		t.Fatalf("billing still holds M0003: %v %v", cutOff, err)
	}
	if res := f.bill(t, cst(10, 0), r); len(res.SwitchOn)+len(res.SwitchOff) != 0 {
		t.Fatalf("billing switched %v %v at the next reading", switches(res.SwitchOn), switches(res.SwitchOff))
	}
	sw, err := feestore.Release(ctx, f.db, f.projectID, "M0003")
	if err != nil || sw == nil || sw.Command != "switch_on" {
		t.Fatalf("fee release: %+v %v", sw, err)
	}
}
