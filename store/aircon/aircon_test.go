package aircon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	aircondom "github.com/voltflow/voltflow/domain/aircon"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func counters(rt, vt int64, kw string) aircondom.Counters {
	return aircondom.Counters{RuntimeMin: rt, ValveOpenMin: vt, CapacityKW: decimal.RequireFromString(kw), Running: true}
}

// TestAllocateOnce: M0004 measures the plant of three indoor units, in the
// units of M0001, M0002 and M0003. 123.45 kWh × CT 2 = 246.90 kWh × 1.2000
// = 296.28. By valve-open time (500, 480, 900 min): 78.7979 → 78.80,
// 75.6460 → 75.65, 141.8362 → 141.84 sum to 296.29; the cent over comes off
// the largest: 78.80, 75.65, 141.83.
func TestAllocateOnce(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = o.GatewayPorts[:1], 4, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	rows, err := db.Query(ctx, `select meter_no, unit_id::text from meters where project_id = $1`, p.ProjectID)
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
	if _, err := db.Exec(ctx, `update meters set ct_ratio = 2 where meter_no = 'M0004'`); err != nil {
		t.Fatal(err)
	}
	sys, err := CreateSystem(ctx, db, p.ProjectID, System{Code: "AC-1", PlantMeterNo: "M0004", ControllerAddress: "127.0.0.1:1",
		Method: aircondom.ByValveTime, IndoorUnits: []IndoorUnit{
			{Code: "IU-1", UnitID: units["M0001"], ControllerUnit: 1},
			{Code: "IU-2", UnitID: units["M0002"], ControllerUnit: 2},
			{Code: "IU-3", UnitID: units["M0003"], ControllerUnit: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateSystem(ctx, db, p.ProjectID, sys); !errors.Is(err, ErrConflict) {
		t.Fatalf("second system AC-1: %v, want conflict", err)
	}
	cst, _ := time.LoadLocation(Location)
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst)
	in := AllocateInput{SystemID: sys.ID, Period: "2026-11"}
	if _, err := Allocate(ctx, db, in); !errors.Is(err, ErrNoReading) {
		t.Fatalf("allocate without readings: %v, want ErrNoReading", err)
	}
	for at, kwh := range map[time.Time]string{from: "1000.00", to: "1123.45"} {
		if _, err := db.Exec(ctx, `select readings_partition($1::timestamptz)`, at); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh,
				flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 0, 0, 1, 0, 0 from meters where meter_no = 'M0004'`, at, kwh); err != nil {
			t.Fatal(err)
		}
	}
	iu := sys.IndoorUnits
	save := func(bound time.Time, c ...aircondom.Counters) bool {
		var rs []UnitReading
		for i := range c {
			rs = append(rs, UnitReading{IndoorUnitID: iu[i].ID, Counters: c[i]})
		}
		stored, err := SaveReading(ctx, db, sys.ID, bound, bound.Add(time.Minute), rs)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	if c, have, err := ControllerOf(ctx, db, sys.ID, from); err != nil || have || len(c.Units) != 3 || c.Profile != DefaultProfile {
		t.Fatalf("controller before reading: %+v %v %v", c, have, err)
	}
	save(from, counters(100, 50, "5.60"), counters(0, 0, "7.10"), counters(2000, 100, "2.80"))
	if _, have, err := ControllerOf(ctx, db, sys.ID, from); err != nil || !have {
		t.Fatalf("controller after reading: %v %v", have, err)
	}
	if _, err := Allocate(ctx, db, in); !errors.Is(err, ErrNoReading) {
		t.Fatalf("allocate without the closing reading: %v, want ErrNoReading", err)
	}
	save(to, counters(700, 550, "5.60"), counters(450, 480, "7.10"), counters(3000, 1000, "2.80"))
	if save(to, counters(9, 9, "1"), counters(9, 9, "1"), counters(9, 9, "1")) {
		t.Fatal("a second read of a bound replaced the first")
	}
	before := map[string]money.Amount{}
	wallet := func(no string) money.Amount {
		b, err := ledgerstore.Balance(ctx, db, p.ProjectID, ledgerdom.MeterWallet(no))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		before[no] = wallet(no)
	}
	want := map[string]string{"M0001": "78.80", "M0002": "75.65", "M0003": "141.83"}
	for run := range 2 {
		res, err := Allocate(ctx, db, in)
		if err != nil {
			t.Fatal(err)
		}
		if wantBooked := 3 - 3*run; res.Booked != wantBooked {
			t.Fatalf("run %d booked %d, want %d", run, res.Booked, wantBooked)
		}
		for no, w := range want {
			if got := before[no].Sub(wallet(no)); got.String() != w {
				t.Errorf("run %d: %s paid %s, want %s", run, no, got, w)
			}
		}
	}
	a, ok, err := AllocationOf(ctx, db, p.ProjectID, "AC-1", "2026-11")
	if err != nil || !ok {
		t.Fatalf("allocation: %v %v", ok, err)
	}
	if a.Total.String() != "296.28" || a.KWh != "246.90" || a.Price != "1.2000" || a.Ratio != 2 || len(a.Shares) != 3 ||
		a.Shares[2].Weight.String() != "900" || a.Shares[2].StartRuntime != 2000 || a.Shares[2].Amount.String() != "141.83" {
		t.Fatalf("allocation %+v", a)
	}
	if err := ledgerstore.CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}
}
