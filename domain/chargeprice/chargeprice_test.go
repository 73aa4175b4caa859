package chargeprice

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/tariff"
)

var cst = time.FixedZone("CST", 8*3600)

func at(hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hhmm, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func samples(pairs ...any) []Sample {
	var out []Sample
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Sample{At: at(pairs[i].(string)), Wh: int64(pairs[i+1].(int))})
	}
	return out
}

func TestPrice(t *testing.T) {
	v := DemoVersion()
	group20 := Discount{ID: "g20", Kind: ServicePercent, Percent: decimal.NewFromInt(20), GroupIDs: []string{"fleet"}}
	total10 := Discount{ID: "t10", Kind: TotalPercent, Percent: decimal.NewFromInt(10)}
	otherStation := Discount{ID: "s50", Kind: TotalPercent, Percent: decimal.NewFromInt(50), StationIDs: []string{"other"}}
	tests := []struct {
		name      string
		s         Session
		total     string
		kwh       string
		lines     map[tariff.Period]string // kWh per period
		discount  string
		backwards bool
		zero      bool
	}{
		// 10 kWh 平 (0.70+0.50) + 20 kWh 峰 (1.00+0.60) = 27.00 + 17.00; 20 % off 17.00 = 3.40.
		{name: "flat to peak with group discount", s: Session{StationID: "st", Groups: []string{"fleet"},
			Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000), Discounts: []Discount{group20}},
			total: "40.60", kwh: "30.000", lines: map[tariff.Period]string{tariff.Flat: "10.000", tariff.Peak: "20.000"}, discount: "3.40"},
		// one interval straddles 11:00: 12 kWh over 20 min, 10 min each side → 6 + 6.
		// 6×1.20 + 6×1.60 = 7.20 + 9.60.
		{name: "sample interval straddles the boundary", s: Session{StationID: "st",
			Samples: samples("10:50", 0, "11:10", 12000)},
			total: "16.80", kwh: "12.000", lines: map[tariff.Period]string{tariff.Flat: "6.000", tariff.Peak: "6.000"}, discount: "0.00"},
		// not in the group: no discount.
		{name: "group not matching", s: Session{StationID: "st", Groups: []string{"walk-in"},
			Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000), Discounts: []Discount{group20}},
			total: "44.00", kwh: "30.000", discount: "0.00"},
		// both apply: 10 % of 44.00 = 4.40 beats 20 % of 17.00 = 3.40; the station-bound one is elsewhere.
		{name: "largest discount wins, station range respected", s: Session{StationID: "st", Groups: []string{"fleet"},
			Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000), Discounts: []Discount{group20, total10, otherStation}},
			total: "39.60", kwh: "30.000", discount: "4.40"},
		// package: the first 5 kWh (平) service fee waived, 2.50; service due 14.50, 20 % off 2.90.
		{name: "monthly package then discount", s: Session{StationID: "st", EquipmentID: "E1", Groups: []string{"fleet"},
			Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000), Discounts: []Discount{group20},
			Package: &Package{ID: "p", EquipmentIDs: []string{"E1"}, RemainingKWh: decimal.NewFromInt(5)}},
			total: "38.60", kwh: "30.000", discount: "2.90"},
		{name: "package of other terminal ignored", s: Session{StationID: "st", EquipmentID: "E2",
			Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000),
			Package: &Package{ID: "p", EquipmentIDs: []string{"E1"}, RemainingKWh: decimal.NewFromInt(5)}},
			total: "44.00", kwh: "30.000", discount: "0.00"},
		// meter going back: 11:00→11:10 is dropped; 11:10→11:20 is 11 kWh 峰: 10×1.20 + 11×1.60 = 12.00 + 17.60.
		{name: "meter backwards flagged", s: Session{StationID: "st",
			Samples: samples("10:50", 0, "11:00", 10000, "11:10", 9000, "11:20", 20000)},
			total: "29.60", kwh: "21.000", backwards: true, discount: "0.00"},
		// rounded once: three intervals of 7 Wh 谷 at 0.70 = 0.0049 each; 0.0147 → 0.01 (per interval: 0.00).
		{name: "rounded once", s: Session{StationID: "st",
			Samples: samples("03:00", 0, "03:01", 7, "03:02", 14, "03:03", 21)},
			total: "0.01", kwh: "0.021", discount: "0.00"},
		// 19:00 尖 for 1 kWh at 2.00 and 21:00 峰.
		{name: "sharp", s: Session{StationID: "st", Samples: samples("20:30", 0, "21:30", 2000)},
			total: "3.60", kwh: "2.000", lines: map[tariff.Period]string{tariff.Sharp: "1.000", tariff.Peak: "1.000"}, discount: "0.00"},
		{name: "zero energy", s: Session{StationID: "st", Samples: samples("10:00", 500, "10:30", 500)},
			total: "0.00", kwh: "0.000", zero: true, discount: "0.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Price(v, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total.String() != tc.total || p.KWh != tc.kwh || p.DiscountAmount.String() != tc.discount {
				t.Fatalf("total %s kwh %s discount %s, want %s %s %s", p.Total, p.KWh, p.DiscountAmount, tc.total, tc.kwh, tc.discount)
			}
			if p.Backwards != tc.backwards || p.ZeroEnergy() != tc.zero {
				t.Fatalf("backwards %v zero %v", p.Backwards, p.ZeroEnergy())
			}
			for per, kwh := range tc.lines {
				found := false
				for _, l := range p.Lines {
					if l.Period == per {
						found = l.KWh == kwh
					}
				}
				if !found {
					t.Fatalf("period %s: lines %+v, want %s kWh", per, p.Lines, kwh)
				}
			}
		})
	}
}

func TestVersionAt(t *testing.T) {
	v1 := DemoVersion()
	switchAt := at("11:00")
	v1.EffectiveTo = &switchAt
	v2 := DemoVersion()
	v2.Version, v2.EffectiveFrom = 2, switchAt
	v2.Prices = map[tariff.Period]PeriodPrice{}
	for p, pp := range v1.Prices {
		pp.Energy = money.PriceFromUnits(pp.Energy.Units() * 2)
		v2.Prices[p] = pp
	}
	s := Strategy{Code: "s", Versions: []Version{v1, v2}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{at("10:59"), 1}, {at("11:00"), 2}, {at("23:00"), 2}} {
		got, err := s.VersionAt(tc.at)
		if err != nil || got.Version != tc.want {
			t.Fatalf("at %s: version %d (%v), want %d", tc.at, got.Version, err, tc.want)
		}
	}
	if _, err := s.VersionAt(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("before any version: %v", err)
	}
	// a session from 10:50 is priced with v1 throughout, even past 11:00.
	ver, _ := s.VersionAt(at("10:50"))
	p, err := Price(ver, Session{Samples: samples("10:50", 0, "11:00", 10000, "11:20", 30000)})
	if err != nil || p.Total.String() != "44.00" || p.Version != 1 {
		t.Fatalf("priced %+v %v", p, err)
	}
}

func TestValidate(t *testing.T) {
	overlap := DemoVersion()
	overlap.Version = 2
	bad := DemoVersion()
	bad.Schedule[0].StartMinute = 5
	noPrice := DemoVersion()
	delete(noPrice.Prices, tariff.Sharp)
	for _, tc := range []struct {
		name string
		s    Strategy
	}{
		{"no code", Strategy{Versions: []Version{DemoVersion()}}},
		{"no versions", Strategy{Code: "x"}},
		{"overlapping versions", Strategy{Code: "x", Versions: []Version{DemoVersion(), overlap}}},
		{"schedule not from midnight", Strategy{Code: "x", Versions: []Version{bad}}},
		{"period without price", Strategy{Code: "x", Versions: []Version{noPrice}}},
	} {
		if err := tc.s.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, d := range []Discount{{Kind: "half"}, {Kind: ServicePercent, Percent: decimal.NewFromInt(101)}} {
		if err := d.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("discount %+v: %v", d, err)
		}
	}
}
