package alarm

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func dec(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }

func find(fs []Finding, kind string) (Finding, bool) {
	for _, f := range fs {
		if f.Kind == kind {
			return f, true
		}
	}
	return Finding{}, false
}

// TestStaticMeter walks one meter and one neighbour through scans on a
// hand-driven clock: the meter stands still for the set time while the
// neighbour moves, then moves again.
func TestStaticMeter(t *testing.T) {
	l := Limits{StaticAfter: 72 * time.Hour, NightStart: 23 * 60, NightEnd: 6 * 60, OffsetMinutes: 480}
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var w Watch
	steps := []struct {
		after         time.Duration
		energy        string
		active        bool
		othersMovedAt time.Duration // after t0
		want          bool
	}{
		{0, "100.00", true, 0, false},
		{24 * time.Hour, "100.00", true, 24 * time.Hour, false},
		{71 * time.Hour, "100.00", true, 71 * time.Hour, false},  // not yet the set time
		{72 * time.Hour, "100.00", false, 72 * time.Hour, false}, // account closed / cut off: not suspicious
		{72 * time.Hour, "100.00", true, -time.Hour, false},      // nobody moved since: a holiday
		{73 * time.Hour, "100.00", true, 73 * time.Hour, true},   // still, while others move
		{74 * time.Hour, "100.01", true, 74 * time.Hour, false},  // moved: clears
		{150 * time.Hour, "100.01", true, 150 * time.Hour, true}, // still again for the set time
	}
	for i, s := range steps {
		at := t0.Add(s.after)
		sample := Sample{Energy: *dec(s.energy), ReadAt: at, Active: s.active}
		w = Advance(w, sample, l, at)
		f, ok := find(Evaluate(w, sample, l, t0.Add(s.othersMovedAt)), KindStatic)
		if !ok || f.Active != s.want {
			t.Fatalf("step %d (+%s, %s kWh): static %v, want %v (%s)", i, s.after, s.energy, f.Active, s.want, f.Detail)
		}
	}
	// Off without a set time.
	if _, ok := find(Evaluate(w, Sample{Energy: w.Energy, ReadAt: w.ReadAt, Active: true}, Limits{}, w.ReadAt), KindStatic); ok {
		t.Fatal("static judged with no static_after")
	}
}

// TestUsageLimits checks the daily, monthly and night baselines roll over
// at local (UTC+8) midnight, the first of the month and the night window.
func TestUsageLimits(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	l := Limits{DailyKWh: dec("10"), MonthlyKWh: dec("25"), NightKWh: dec("3"), NightStart: 23 * 60, NightEnd: 6 * 60, OffsetMinutes: 480}
	steps := []struct {
		at                    time.Time
		energy                string
		daily, monthly, night bool
	}{
		{time.Date(2026, 11, 29, 12, 0, 0, 0, cst), "0", false, false, false},
		{time.Date(2026, 11, 29, 20, 0, 0, 0, cst), "11", true, false, false},  // 11 kWh today
		{time.Date(2026, 11, 29, 23, 30, 0, 0, cst), "12", true, false, false}, // night began at 11 kWh
		{time.Date(2026, 11, 30, 2, 0, 0, 0, cst), "16", false, false, true},   // new day from 12; night 5 kWh
		{time.Date(2026, 11, 30, 7, 0, 0, 0, cst), "20", false, false, false},  // morning: night over; day 8 kWh
		{time.Date(2026, 11, 30, 22, 0, 0, 0, cst), "30", false, true, false},  // month 30 kWh > 25; day 18? no: 30-12
		{time.Date(2026, 12, 1, 1, 0, 0, 0, cst), "31", false, false, false},   // new month and day from 30; night 1 kWh
	}
	steps[5].daily = true // 30 - 12 = 18 kWh on the 30th
	var w Watch
	for i, s := range steps {
		sample := Sample{Energy: *dec(s.energy), ReadAt: s.at, Active: true}
		w = Advance(w, sample, l, s.at)
		fs := Evaluate(w, sample, l, time.Time{})
		for kind, want := range map[string]bool{KindDailyLimit: s.daily, KindMonthlyLimit: s.monthly, KindNightLimit: s.night} {
			f, ok := find(fs, kind)
			if !ok || f.Active != want {
				t.Fatalf("step %d (%s, %s kWh): %s %v, want %v (%s)", i, s.at, s.energy, kind, f.Active, want, f.Detail)
			}
		}
	}
}

func TestReadingLimitsAndTrips(t *testing.T) {
	l := Limits{VoltageMax: dec("253"), VoltageMin: dec("198"), CurrentMax: dec("60"), OffsetMinutes: 480}
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		s                Sample
		active, inactive []string
		absent           []string
	}{
		{"normal", Sample{Voltage: dec("230.0"), Current: dec("12.5")}, nil,
			[]string{KindOverVoltage, KindUnderVoltage, KindOverCurrent, KindOverloadTrip, KindMalignantTrip}, nil},
		{"high voltage and current", Sample{Voltage: dec("260.1"), Current: dec("61")}, []string{KindOverVoltage, KindOverCurrent},
			[]string{KindUnderVoltage}, nil},
		{"low voltage", Sample{Voltage: dec("180"), Current: dec("1")}, []string{KindUnderVoltage}, []string{KindOverVoltage}, nil},
		{"no fresh reading keeps the state", Sample{}, nil, nil, []string{KindOverVoltage, KindUnderVoltage, KindOverCurrent}},
		{"overload trip", Sample{StatusFlags: 1 << 3}, []string{KindOverloadTrip}, []string{KindMalignantTrip}, nil},
		{"malignant load trip", Sample{StatusFlags: 1 << 4}, []string{KindMalignantTrip}, []string{KindOverloadTrip}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.s.ReadAt, c.s.Energy = at, decimal.Zero
			w := Advance(Watch{}, c.s, l, at)
			fs := Evaluate(w, c.s, l, time.Time{})
			for _, k := range c.active {
				if f, ok := find(fs, k); !ok || !f.Active {
					t.Errorf("%s not active: %v", k, fs)
				}
			}
			for _, k := range c.inactive {
				if f, ok := find(fs, k); !ok || f.Active {
					t.Errorf("%s not judged inactive: %v", k, fs)
				}
			}
			for _, k := range c.absent {
				if _, ok := find(fs, k); ok {
					t.Errorf("%s judged without a reading", k)
				}
			}
		})
	}
	if !Urgent(KindOverloadTrip) || Urgent(KindStatic) {
		t.Fatal("urgency of kinds")
	}
	if ActiveAccount(true, 1<<2, 0) || ActiveAccount(true, 0, 2) || ActiveAccount(false, 0, 0) || !ActiveAccount(true, 1, 0) {
		t.Fatal("ActiveAccount")
	}
}
