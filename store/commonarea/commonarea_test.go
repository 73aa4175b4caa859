package commonarea

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// Fixture is the demo project with 4 meters, each in its own unit (Shop
// M000n); M0004 is the common-area meter shared by the other three units.
type fixture struct {
	db        *store.DB
	projectID string
	units     map[string]string // meter no → unit id
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = o.GatewayPorts[:2], 2, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, projectID: p.ProjectID, units: map[string]string{}}
	rows, err := db.Query(ctx, `select meter_no, unit_id::text from meters where project_id = $1`, p.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var no, unit string
		if err := rows.Scan(&no, &unit); err != nil {
			t.Fatal(err)
		}
		f.units[no] = unit
	}
	return f
}

// reading writes a reading row of the meter (as the sweep would), its
// month partition created first.
func (f fixture) reading(t *testing.T, meterNo string, at time.Time, kwh string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.Exec(ctx, `select readings_partition($1::timestamptz)`, at); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh,
			flat_kwh, valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		select id, $2, $2, $3, 0, 0, 0, 0, 220, 1, 0.2, 0, 0, 1, 0, 0 from meters where meter_no = $1`,
		meterNo, at, kwh); err != nil {
		t.Fatal(err)
	}
}

func wallet(t *testing.T, f fixture, meterNo string) money.Amount {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), f.db, f.projectID, ledgerdom.MeterWallet(meterNo))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAllocateAMonthByArea: M0004 reads 1000.00 kWh at 1 Nov 2026 00:00
// and 1345.68 at 1 Dec 00:00 (Asia/Shanghai): 345.68 kWh × 1.2000 =
// 414.816 → 414.82 yuan, shared by area 25/25/50 m²: 103.705 each for the
// first two → 103.71, 207.41 for the third; the shares sum to 414.83, so
// the cent over comes off the largest share: 103.71 + 103.71 + 207.40.
func TestAllocateAMonthByArea(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cst, err := time.LoadLocation(Location)
	if err != nil {
		t.Fatal(err)
	}
	for no, area := range map[string]string{"M0001": "25", "M0002": "25", "M0003": "50"} {
		if err := SetUnitArea(ctx, f.db, f.projectID, f.units[no], decimal.RequireFromString(area)); err != nil {
			t.Fatal(err)
		}
	}
	if err := SetRules(ctx, f.db, f.projectID, []Rule{{MeterNo: "M0004", Method: commonareadom.ByArea,
		Units: []RuleUnit{{UnitID: f.units["M0001"]}, {UnitID: f.units["M0002"]}, {UnitID: f.units["M0003"]}}}}); err != nil {
		t.Fatal(err)
	}
	// A month of readings: the day before (outside), the start, the month, the end, after.
	f.reading(t, "M0004", time.Date(2026, 10, 31, 23, 0, 0, 0, cst), "990.00")
	f.reading(t, "M0004", time.Date(2026, 11, 1, 0, 0, 0, 0, cst), "1000.00")
	for d := 2; d <= 30; d++ {
		f.reading(t, "M0004", time.Date(2026, 11, d, 0, 0, 0, 0, cst), decimal.NewFromInt(int64(1000+(d-1)*11)).StringFixed(2))
	}
	f.reading(t, "M0004", time.Date(2026, 12, 1, 0, 0, 0, 0, cst), "1345.68")
	f.reading(t, "M0004", time.Date(2026, 12, 1, 1, 0, 0, 0, cst), "1350.00")

	before := map[string]money.Amount{}
	for _, no := range []string{"M0001", "M0002", "M0003"} {
		before[no] = wallet(t, f, no)
	}
	res, err := Allocate(ctx, f.db, AllocateInput{ProjectID: f.projectID, Period: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Meters != 1 || res.Booked != 3 || res.Amount.String() != "414.82" {
		t.Fatalf("first run %+v, want 1 meter, 3 shares booked, 414.82", res)
	}
	want := map[string]string{"M0001": "103.71", "M0002": "103.71", "M0003": "207.40"}
	check := func(run string) {
		t.Helper()
		for no, w := range want {
			if got := before[no].Sub(wallet(t, f, no)); got.String() != w {
				t.Errorf("%s: wallet of %s down by %s, want %s", run, no, got, w)
			}
		}
		if err := ledgerstore.CheckInvariant(ctx, f.db); err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		var n int
		if err := f.db.QueryRow(ctx, `select count(*) from journal_entries where kind = $1`, EntryKind).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%s: %d common-area entries (%v), want 3", run, n, err)
		}
	}
	check("first run")

	// The same period again books nothing new.
	res, err = Allocate(ctx, f.db, AllocateInput{ProjectID: f.projectID, Period: "2026-11"})
	if err != nil || res.Booked != 0 || !res.Amount.IsZero() {
		t.Fatalf("second run %+v, %v: want nothing booked", res, err)
	}
	check("second run")

	got, err := Allocations(ctx, f.db, f.projectID, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MeterNo != "M0004" || got[0].KWh.StringFixed(2) != "345.68" ||
		got[0].StartKWh.StringFixed(2) != "1000.00" || got[0].EndKWh.StringFixed(2) != "1345.68" ||
		got[0].Total.String() != "414.82" || got[0].Method != commonareadom.ByArea || len(got[0].Shares) != 3 {
		t.Fatalf("allocations %+v", got)
	}
	for _, s := range got[0].Shares {
		if s.Amount.String() != want[s.MeterNo] {
			t.Errorf("shown share of %s = %s, want %s", s.MeterNo, s.Amount, want[s.MeterNo])
		}
	}

	// A period without readings at its bounds is refused, nothing booked.
	if _, err := Allocate(ctx, f.db, AllocateInput{ProjectID: f.projectID, Period: "2026-08"}); !errors.Is(err, ErrNoReading) {
		t.Fatalf("period without readings: %v, want ErrNoReading", err)
	}
	rules, err := Rules(ctx, f.db, f.projectID)
	if err != nil || len(rules) != 1 || len(rules[0].Units) != 3 {
		t.Fatalf("rules %+v, %v", rules, err)
	}
}

func TestSubMeters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := SetSubMeters(ctx, f.db, f.projectID, "M0001", []string{"M0003", "M0002"}, true); err != nil {
		t.Fatal(err)
	}
	if got, merged, err := SubMeters(ctx, f.db, f.projectID, "M0001"); err != nil || len(got) != 2 || got[0] != "M0002" || !merged {
		t.Fatalf("sub meters %v, %v, %v", got, merged, err)
	}
	if err := SetSubMeters(ctx, f.db, f.projectID, "M0001", []string{"M0001"}, false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("own sub meter: %v", err)
	}
	// M0002 under M0001 cannot be M0001's master (a cycle).
	if err := SetSubMeters(ctx, f.db, f.projectID, "M0002", []string{"M0001"}, false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("cycle: %v", err)
	}
	if err := SetSubMeters(ctx, f.db, f.projectID, "M0001", []string{"X9"}, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown meter: %v", err)
	}
	// A refused change leaves the relation as it was.
	if got, _, _ := SubMeters(ctx, f.db, f.projectID, "M0001"); len(got) != 2 {
		t.Fatalf("sub meters after refusals %v", got)
	}
}

// TestAllocateByConsumptionAndRatio: in November the shops' meters use
// 120, 80 and 50 kWh (M0003 with CT 2: 25 on its register); M0004 uses
// 102.88 kWh × 1.2000 = 123.456 → 123.46. By consumption (250 kWh):
// 59.2608 → 59.26, 39.5072 → 39.51, 24.692 → 24.69 (sum 123.46, nothing
// left over). Changed to ratio 1/1/1 and allocated for December (100.00
// kWh → 120.00): 40.00 each.
func TestAllocateByConsumptionAndRatio(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cst, err := time.LoadLocation(Location)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `update meters set ct_ratio = 2 where meter_no = 'M0003'`); err != nil {
		t.Fatal(err)
	}
	nov, dec, jan := time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst),
		time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
	for no, kwh := range map[string][3]string{"M0001": {"10.00", "130.00", "130.00"}, "M0002": {"5.00", "85.00", "85.00"},
		"M0003": {"100.00", "125.00", "125.00"}, "M0004": {"500.00", "602.88", "702.88"}} {
		f.reading(t, no, nov.Add(5*time.Minute), kwh[0]) // the first reading after the bound counts
		f.reading(t, no, dec, kwh[1])
		f.reading(t, no, jan, kwh[2])
	}
	units := []RuleUnit{{UnitID: f.units["M0001"], Ratio: decimal.NewFromInt(1)},
		{UnitID: f.units["M0002"], Ratio: decimal.NewFromInt(1)}, {UnitID: f.units["M0003"], Ratio: decimal.NewFromInt(1)}}
	if err := SetRules(ctx, f.db, f.projectID, []Rule{{MeterNo: "M0004", Method: commonareadom.ByConsumption, Units: units}}); err != nil {
		t.Fatal(err)
	}
	shares := func(period string) map[string]string {
		t.Helper()
		if _, err := Allocate(ctx, f.db, AllocateInput{ProjectID: f.projectID, Period: period}); err != nil {
			t.Fatal(err)
		}
		got, err := Allocations(ctx, f.db, f.projectID, period)
		if err != nil || len(got) != 1 {
			t.Fatalf("allocations %+v, %v", got, err)
		}
		out := map[string]string{"total": got[0].Total.String()}
		for _, s := range got[0].Shares {
			out[s.MeterNo] = s.Amount.String()
		}
		return out
	}
	got := shares("2026-11")
	for k, w := range map[string]string{"total": "123.46", "M0001": "59.26", "M0002": "39.51", "M0003": "24.69"} {
		if got[k] != w {
			t.Errorf("November by consumption: %s = %s, want %s", k, got[k], w)
		}
	}
	if err := SetRules(ctx, f.db, f.projectID, []Rule{{MeterNo: "M0004", Method: commonareadom.ByRatio, Units: units}}); err != nil {
		t.Fatal(err)
	}
	got = shares("2026-12")
	for k, w := range map[string]string{"total": "120.00", "M0001": "40.00", "M0002": "40.00", "M0003": "40.00"} {
		if got[k] != w {
			t.Errorf("December by ratio: %s = %s, want %s", k, got[k], w)
		}
	}
	// November stays as it was booked under its rule.
	if got := shares("2026-11"); got["M0001"] != "59.26" {
		t.Errorf("November changed to %v", got)
	}
	if err := ledgerstore.CheckInvariant(ctx, f.db); err != nil {
		t.Fatal(err)
	}
}
