package fee_test

import (
	"context"
	"testing"
	"time"

	feedom "github.com/voltflow/voltflow/domain/fee"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// credit puts money into a meter's wallet (cash in), as a recharge does.
func credit(t *testing.T, db *store.DB, project, meterNo, key, amount string) {
	t.Helper()
	a := money.MustParse(amount)
	if _, err := ledgerstore.Book(context.Background(), db, project, ledgerdom.Entry{Key: key, Kind: "seed",
		Postings: []ledgerdom.Posting{
			{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset, Amount: a},
			{Account: ledgerdom.MeterWallet(meterNo), Kind: ledgerdom.Liability, Amount: a.Neg()},
		}}); err != nil {
		t.Fatal(err)
	}
}

// TestFeeHoldCutsOffAndReleasesOnce: with the cut-off rule, a fee in
// arrears records the fee hold and one switch-off (a second fee in arrears
// adds none); the hold is released, with one switch-on, only once the
// wallet owes nothing; billing's own hold or an operator's cut-off keeps
// the switch-on to them.
func TestFeeHoldCutsOffAndReleasesOnce(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	f := setup(t, db, 3) // wallets: MA 0.00, MB 100.00, MC 200.00
	exec(t, db, `update projects set fee_arrears_cut_off=true where id=$1`, f.project)
	schedule := func(kind feedom.Kind, amount string) string {
		s, err := feestore.CreateSchedule(ctx, db, feestore.Schedule{ProjectID: f.project, SiteID: f.site, Kind: kind,
			Basis: feedom.Fixed, Amount: money.MustParse(amount), DayOfMonth: 10}, "")
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	rent, mgmt := schedule(feedom.Rent, "150.00"), schedule(feedom.Management, "30.00")
	day := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	book := func(schedule string, unit int) feestore.Booked {
		t.Helper()
		b, err := feestore.Book(ctx, db, feestore.BookInput{ProjectID: f.project, ScheduleID: schedule, UnitID: f.units[unit], Day: day})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	release := func(meterNo string) *feestore.Switch {
		t.Helper()
		sw, err := feestore.Release(ctx, db, f.project, meterNo)
		if err != nil {
			t.Fatal(err)
		}
		return sw
	}

	// MA owes 150.00: cut off, one switch-off by no operator.
	a := book(rent, 0)
	if !a.CutOff || a.Switch == nil || a.Switch.Command != "switch_off" || a.Switch.MeterNo != "MA" || a.Switch.ProjectCode != "fees" {
		t.Fatalf("MA's rent: %+v switch %+v", a, a.Switch)
	}
	if again := book(rent, 0); again.Created || again.Switch == nil || again.Switch.CommandID != a.Switch.CommandID {
		t.Errorf("a retried booking answers %+v, want the pending switch-off %s", again.Switch, a.Switch.CommandID)
	}
	// A second fee in arrears: the hold is there, no second command.
	if m := book(mgmt, 0); !m.CutOff || m.Switch == nil || m.Switch.CommandID != a.Switch.CommandID {
		t.Errorf("MA's management fee: %+v", m.Switch)
	}
	if n := count(`select count(*) from meter_commands where meter_no='MA' and command='switch_off' and created_by is null
		and idempotency_key=$1`, "fee-cut-off/"+a.Key); n != 1 {
		t.Errorf("%d switch-offs of MA", n)
	}
	if n := count(`select count(*) from fee_cut_offs where meter_no='MA' and fee_key=$1 and released_at is null`, a.Key); n != 1 {
		t.Errorf("MA's fee hold: %d open rows", n)
	}
	listed := func(unitName string) bool {
		t.Helper()
		lines, err := feestore.List(ctx, db, f.project, "2026-04")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if l.UnitName == unitName {
				return l.CutOff
			}
		}
		t.Fatalf("no fee list line of %s", unitName)
		return false
	}
	if !listed("UA") {
		t.Error("the fee list does not show UA cut off")
	}
	// MB pays 150.00 of its 100.00 and 30.00 more: both in arrears once the
	// rent is booked; MC pays both.
	if b := book(mgmt, 1); b.CutOff || b.Switch != nil {
		t.Errorf("MB's management fee (covered): %+v", b)
	}
	if c := book(rent, 2); c.CutOff || c.Switch != nil {
		t.Errorf("MC's rent (covered): %+v", c)
	}

	// MA owes 180.00: 100.00 is not enough, 80.00 more is.
	exec(t, db, `update meter_commands set status='done' where idempotency_key=$1`, "fee-cut-off/"+a.Key)
	credit(t, db, f.project, "MA", "pay:1", "100.00")
	if sw := release("MA"); sw != nil {
		t.Errorf("released while 80.00 is owed: %+v", sw)
	}
	credit(t, db, f.project, "MA", "pay:2", "80.00")
	on := release("MA")
	if on == nil || on.Command != "switch_on" || on.MeterNo != "MA" {
		t.Fatalf("switch-on after paying: %+v", on)
	}
	if again := release("MA"); again == nil || again.CommandID != on.CommandID {
		t.Errorf("a retried release answers %+v, want the pending switch-on %s", again, on.CommandID)
	}
	exec(t, db, `update meter_commands set status='done' where id=$1`, on.CommandID)
	if again := release("MA"); again != nil {
		t.Errorf("a release after the switch-on ran: %+v", again)
	}
	if n := count(`select count(*) from fee_cut_offs where meter_no='MA' and released_at is not null`); n != 1 {
		t.Errorf("MA's hold not released")
	}
	if listed("UA") {
		t.Error("the fee list shows UA cut off after the release")
	}

	// MB: the rent leaves 50.00 owed (100.00 − 30.00 − 150.00 = −80.00;
	// arrears are what the wallet lacked for this fee, 80.00).
	b := book(rent, 1)
	if !b.CutOff || b.Switch == nil || b.Arrears.String() != "80.00" {
		t.Fatalf("MB's rent: %+v", b)
	}
	// Billing holds MB too: the fee release ends the fee hold only.
	exec(t, db, `insert into meter_billing(meter_id, last_read_at, last_taken_at, last_energy_kwh, last_sharp_kwh, last_peak_kwh,
		last_flat_kwh, last_valley_kwh, cut_off) select id, now(), now(), 0, 0, 0, 0, 0, true from meters where meter_no='MB'`)
	credit(t, db, f.project, "MB", "pay:3", "80.00")
	if sw := release("MB"); sw != nil {
		t.Errorf("switch-on while billing holds the meter: %+v", sw)
	}
	if n := count(`select count(*) from fee_cut_offs where meter_no='MB' and released_at is not null`); n != 1 {
		t.Errorf("MB's fee hold not released")
	}
	held, err := heldNow(ctx, db, "MB")
	if err != nil || held {
		t.Errorf("MB still held by fees: %v %v", held, err)
	}

	// MC: cut off for fees, then an operator switches it off too: the
	// operator's cut-off stands after the fee is paid.
	if c := book(mgmt, 2); c.CutOff { // 200.00 − 150.00 − 30.00 = 20.00: covered
		t.Fatalf("MC's management fee: %+v", c)
	}
	capacity := schedule(feedom.Capacity, "100.00")
	if c := book(capacity, 2); !c.CutOff || c.Switch == nil { // 20.00 − 100.00
		t.Fatalf("MC's capacity fee: %+v", c)
	}
	exec(t, db, `insert into operators(id, username, display_name, password_hash) values(gen_random_uuid(), 'op', 'Op', '')`)
	exec(t, db, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status, workflow_id, created_by, created_at)
		select gen_random_uuid(), project_id, id, meter_no, 'switch_off', '{}', 'done', 'meter-command/manual', (select id from operators
		where username='op'), now() + interval '1 second' from meters where meter_no='MC'`)
	credit(t, db, f.project, "MC", "pay:4", "80.00")
	if sw := release("MC"); sw != nil {
		t.Errorf("switch-on of a meter an operator cut off: %+v", sw)
	}
	if held, err := heldNow(ctx, db, "MC"); err != nil || held {
		t.Errorf("MC still held by fees: %v %v", held, err)
	}
}

func heldNow(ctx context.Context, db *store.DB, meterNo string) (bool, error) {
	var held bool
	err := db.QueryRow(ctx, `select exists(select 1 from fee_cut_offs where meter_no=$1 and released_at is null)`, meterNo).Scan(&held)
	return held, err
}
