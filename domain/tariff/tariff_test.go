package tariff

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func dp(s string) *decimal.Decimal {
	v := d(s)
	return &v
}
func price(s string) money.Price {
	p, err := money.ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

// touTariff is the simulator's provincial day (devices/simulator.DefaultTOU)
// in China Standard Time: valley 00–07, flat 07–08, peak 08–11, flat 11–18,
// peak 18–19, sharp 19–21, peak 21–23, valley 23–24.
func touTariff() Tariff {
	return Tariff{Kind: TOU,
		Prices: map[Period]money.Price{Sharp: price("1.3579"), Peak: price("1.0123"), Flat: price("0.6057"), Valley: price("0.3011")},
		Schedule: []Segment{{0, Valley}, {420, Flat}, {480, Peak}, {660, Flat}, {1080, Peak}, {1140, Sharp},
			{1260, Peak}, {1380, Valley}}}
}

// cst is a local wall-clock time on 2026-11-23 in UTC+8.
func cst(hour, minute int) time.Time {
	return time.Date(2026, 11, 23, hour, minute, 0, 0, time.FixedZone("CST", 8*3600))
}

func TestPriceInterval(t *testing.T) {
	tiers := Tariff{Kind: Tiered, Steps: []Step{{UpToKWh: dp("200"), Price: price("0.5800")},
		{UpToKWh: dp("400"), Price: price("0.6300")}, {Price: price("0.8800")}}}
	tests := []struct {
		name  string
		t     Tariff
		in    Interval
		lines []string // "period-or-step kwh exact"
		exact string
	}{
		{
			// 0.37 kWh × CT 40 = 14.8 kWh; 14.8 × 1.2345 = 18.2706.
			name: "single rate with CT ratio", t: Tariff{Kind: Single, Price: price("1.2345")},
			in:    Interval{From: cst(9, 0), To: cst(9, 30), Energy: d("0.37"), Ratio: 40},
			lines: []string{" 14.8 18.2706"}, exact: "18.2706",
		},
		{
			// 10:30–11:30 crosses peak→flat at 11:00, 30 min each: 3.00 kWh
			// → 1.50 peak + 1.50 flat. 1.5 × 1.0123 = 1.51845; 1.5 × 0.6057
			// = 0.90855; total 2.42700.
			name: "TOU split by time across 11:00", t: touTariff(),
			in:    Interval{From: cst(10, 30), To: cst(11, 30), Energy: d("3.00")},
			lines: []string{"peak 1.5 1.51845", "flat 1.5 0.90855"}, exact: "2.427",
		},
		{
			// 10:40–11:30: 20 min peak, 30 min flat of 50; 1.00 kWh → 0.40 +
			// 0.60. 0.4 × 1.0123 = 0.40492; 0.6 × 0.6057 = 0.36342; 0.76834.
			name: "TOU uneven split", t: touTariff(),
			in:    Interval{From: cst(10, 40), To: cst(11, 30), Energy: d("1.00")},
			lines: []string{"peak 0.4 0.40492", "flat 0.6 0.36342"}, exact: "0.76834",
		},
		{
			// 10:50–11:20, 0.01 kWh: peak 1/3 → 0.00, flat 2/3 → 0.01 (the
			// parts always sum to the whole). 0.01 × 0.6057 = 0.006057.
			name: "TOU split keeps the whole", t: touTariff(),
			in:    Interval{From: cst(10, 50), To: cst(11, 20), Energy: d("0.01")},
			lines: []string{"flat 0.01 0.006057"}, exact: "0.006057",
		},
		{
			// 22:30–00:30 next day: 30 min peak, 90 min valley of 120; 2.00
			// kWh → 0.50 peak + 1.50 valley. 0.5 × 1.0123 = 0.50615; 1.5 ×
			// 0.3011 = 0.45165; 0.9578.
			name: "TOU across midnight", t: touTariff(),
			in:    Interval{From: cst(22, 30), To: cst(24, 30), Energy: d("2.00")},
			lines: []string{"peak 0.5 0.50615", "valley 1.5 0.45165"}, exact: "0.9578",
		},
		{
			// TOU registers win over time: peak 1.23 + flat 0.77 kWh, PT×CT 2
			// → 2.46 × 1.0123 = 2.490258; 1.54 × 0.6057 = 0.932778; 3.423036.
			name: "TOU from registers with ratio", t: touTariff(),
			in: Interval{From: cst(10, 30), To: cst(11, 30), Energy: d("2.00"), Ratio: 2,
				ByPeriod: map[Period]decimal.Decimal{Peak: d("1.23"), Flat: d("0.77"), Sharp: d("0"), Valley: d("0")}},
			lines: []string{"peak 2.46 2.490258", "flat 1.54 0.932778"}, exact: "3.423036",
		},
		{
			// Month at 190 kWh, 30 more: 10 at 0.58 = 5.80, 20 at 0.63 = 12.60; 18.40.
			name: "tiered across one step", t: tiers,
			in:    Interval{Energy: d("30"), MonthKWh: d("190")},
			lines: []string{"1 10 5.8", "2 20 12.6"}, exact: "18.4",
		},
		{
			// 190 + 110 × CT 2 = 220 kWh: 10 × 0.58 = 5.80, 200 × 0.63 =
			// 126.00, 10 × 0.88 = 8.80; 140.60.
			name: "tiered across all steps", t: tiers,
			in:    Interval{Energy: d("110"), MonthKWh: d("190"), Ratio: 2},
			lines: []string{"1 10 5.8", "2 200 126", "3 10 8.8"}, exact: "140.6",
		},
		{
			name: "tiered above the last threshold", t: tiers,
			in:    Interval{Energy: d("1.5"), MonthKWh: d("500")},
			lines: []string{"3 1.5 1.32"}, exact: "1.32",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PriceInterval(tt.t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range got.Lines {
				label := string(l.Period)
				if l.Step > 0 {
					label = decimal.NewFromInt(int64(l.Step)).String()
				}
				lines = append(lines, label+" "+l.KWh.String()+" "+l.Exact.String())
			}
			if len(lines) != len(tt.lines) {
				t.Fatalf("lines %q, want %q", lines, tt.lines)
			}
			for i := range lines {
				if lines[i] != tt.lines[i] {
					t.Fatalf("lines %q, want %q", lines, tt.lines)
				}
			}
			if !got.Exact.Equal(d(tt.exact)) {
				t.Fatalf("exact %s, want %s", got.Exact, tt.exact)
			}
		})
	}
}

func TestPriceIntervalRefuses(t *testing.T) {
	if _, err := PriceInterval(Tariff{Kind: Single, Price: price("1")}, Interval{Energy: d("-0.01")}); !errors.Is(err, ErrNegative) {
		t.Fatalf("backwards energy: %v", err)
	}
	bad := touTariff()
	bad.Schedule[0].StartMinute = 5
	if _, err := PriceInterval(bad, Interval{Energy: d("1")}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("schedule not from midnight: %v", err)
	}
	noPrice := touTariff()
	delete(noPrice.Prices, Sharp)
	if err := noPrice.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("period without price: %v", err)
	}
	if err := (Tariff{Kind: Tiered, Steps: []Step{{UpToKWh: dp("10"), Price: price("1")}}}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tiers without an open last step: %v", err)
	}
}

func TestSettle(t *testing.T) {
	tests := []struct{ carry, exact, amount, next string }{
		{"0", "2.427", "2.43", "-0.003"},        // rounded up, 0.3 cent charged early
		{"-0.003", "0.0019", "0.00", "-0.0011"}, // not yet a cent
		{"-0.005", "0", "0.00", "-0.005"},       // never a negative charge
		{"0.004", "0.001", "0.01", "-0.005"},    // half a cent rounds up
		{"0.0049", "0.76834", "0.77", "0.00324"},
	}
	for _, tt := range tests {
		c := Settle(d(tt.carry), d(tt.exact))
		if c.Amount.String() != tt.amount || !c.Carry.Equal(d(tt.next)) {
			t.Errorf("Settle(%s, %s) = %s carry %s; want %s carry %s", tt.carry, tt.exact, c.Amount, c.Carry, tt.amount, tt.next)
		}
	}
}

// TestChangeWalletNeverDrifts: over many small intervals the amounts
// charged add up to the exact total rounded once, for a single price
// (price × total energy) and for TOU across many boundaries.
func TestChangeWalletNeverDrifts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	single := Tariff{Kind: Single, Price: price("1.2345")}
	tou := touTariff()
	carryS, carryT := decimal.Zero, decimal.Zero
	chargedS, chargedT := money.Zero, money.Zero
	energy, exactT := decimal.Zero, decimal.Zero
	at := cst(0, 0)
	for range 5000 {
		e := decimal.New(r.Int64N(99)+1, -2) // 0.01 … 0.99 kWh
		next := at.Add(time.Duration(r.IntN(50)+1) * time.Minute)
		ps, err := PriceInterval(single, Interval{From: at, To: next, Energy: e})
		if err != nil {
			t.Fatal(err)
		}
		pt, err := PriceInterval(tou, Interval{From: at, To: next, Energy: e})
		if err != nil {
			t.Fatal(err)
		}
		cs, ct := Settle(carryS, ps.Exact), Settle(carryT, pt.Exact)
		carryS, carryT = cs.Carry, ct.Carry
		chargedS, chargedT = chargedS.Add(cs.Amount), chargedT.Add(ct.Amount)
		energy, exactT = energy.Add(e), exactT.Add(pt.Exact)
		at = next
	}
	if want := single.Price.Cost(energy); !chargedS.Equal(want) {
		t.Fatalf("single: charged %s over %s kWh, price × total rounded once = %s", chargedS, energy, want)
	}
	if want := money.Round(exactT); !chargedT.Equal(want) {
		t.Fatalf("tou: charged %s, exact total rounded once = %s", chargedT, want)
	}
	// The check above would pass trivially if every interval rounded to 0;
	// per-interval rounding without the wallet drifts, which is the point.
	if chargedS.IsZero() {
		t.Fatal("nothing charged")
	}
}

func TestTariffJSON(t *testing.T) {
	var tt Tariff
	if err := json.Unmarshal([]byte(`{"kind":"tiered","steps":[{"upToKwh":"200","price":"0.5800"},{"price":0.88}]}`), &tt); err != nil {
		t.Fatal(err)
	}
	if tt.Validate() != nil || tt.Steps[1].Price.String() != "0.8800" || !tt.Steps[0].UpToKWh.Equal(d("200")) {
		t.Fatalf("decoded %+v", tt)
	}
	if err := json.Unmarshal([]byte(`{"kind":"single","price":"1.23456"}`), &tt); !errors.Is(err, money.ErrPrecision) {
		t.Fatalf("5-place price accepted: %v", err)
	}
}

func TestMonthInZone(t *testing.T) {
	// 2026-11-30T17:00Z is already 1 December in China.
	if m := (Tariff{}).Month(time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)); m != "2026-12" {
		t.Fatalf("month %s", m)
	}
}
