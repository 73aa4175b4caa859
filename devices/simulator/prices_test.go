package simulator

import (
	"fmt"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
)

// demoTable is TOU-DEMO's day (store/demo): valley 23–08, flat 08–10 and
// 21–23, peak 10–18, sharp 18–21.
func demoTable() profile.Values {
	v := profile.Values{"tariff_mode": TariffTOU, "price_sharp": 15000, "price_peak": 12000, "price_flat": 8000, "price_valley": 4000}
	for h := range 24 {
		p := Valley
		switch {
		case h >= 8 && h < 10, h >= 21 && h < 23:
			p = Flat
		case h >= 10 && h < 18:
			p = Peak
		case h >= 18 && h < 21:
			p = Sharp
		}
		v[fmt.Sprintf("tou_hour_%02d", h)] = int64(p)
	}
	return v
}

// TestTOUPriceBlock: a day at 2 kW priced by the downloaded block, by hand:
// valley 9 h × 2 kW = 18 kWh × 0.40 = 7.20, flat 4 h = 8 kWh × 0.80 = 6.40,
// peak 8 h = 16 kWh × 1.20 = 19.20, sharp 3 h = 6 kWh × 1.50 = 9.00;
// 41.80 in all, where the single price 1.20 would have taken 57.60.
func TestTOUPriceBlock(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 5000, UnitPrice: 12000, Load: 2000})
	if err := m.SetTariff(demoTable()); err != nil {
		t.Fatal(err)
	}
	// Any whole day from an hour boundary covers each hour once.
	m.Advance(time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC), 24*time.Hour)
	s := m.State()
	if s.Remaining != 5000-4180 || s.Consumed != 4180 {
		t.Fatalf("remaining %d, consumed %d; want 820 and 4180", s.Remaining, s.Consumed)
	}
	if s.TOU != [4]int64{600, 1600, 800, 1800} {
		t.Fatalf("TOU energy %v, want sharp 6, peak 16, flat 8, valley 18 kWh", s.TOU)
	}
	if got := m.Settings()["price_sharp"]; got != 15000 {
		t.Fatalf("price_sharp reads %d", got)
	}
}

// TestTieredPriceBlock: 15 h at 2 kW = 30 kWh in one month, tiers at 10 and
// 20 kWh priced 0.50, 0.80, 1.00: 5.00 + 8.00 + 10.00 = 23.00; the next
// month starts again in tier 1.
func TestTieredPriceBlock(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 5000, UnitPrice: 12000, Load: 2000})
	v := demoTable()
	v["tariff_mode"], v["tier1_kwh"], v["tier2_kwh"] = TariffTiered, 1000, 2000
	v["tier1_price"], v["tier2_price"], v["tier3_price"] = 5000, 8000, 10000
	if err := m.SetTariff(v); err != nil {
		t.Fatal(err)
	}
	m.Advance(time.Date(2026, 12, 7, 0, 20, 0, 0, time.UTC), 15*time.Hour)
	if s := m.State(); s.Remaining != 2700 || m.Settings()["month_energy"] != 3000 {
		t.Fatalf("remaining %d, month energy %d; want 2700 and 3000", s.Remaining, m.Settings()["month_energy"])
	}
	// 1 h on 1 January: 2 kWh in tier 1 of the new month = 1.00.
	m.Advance(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour)
	if s := m.State(); s.Remaining != 2600 {
		t.Fatalf("remaining %d after a new month's hour, want 2600", s.Remaining)
	}
}

// TestSafetyLimitBlock: 4 kW over a 3 kW maximum load trips the meter
// (bit 3, relay open) for 3 minutes; it closes, trips again; past 2
// allowed trips it stays open until switch_on. A 2.5 kW step over a 2 kW
// malignant-load start trips it with bit 4.
func TestSafetyLimitBlock(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 50000, UnitPrice: 12000, Load: 1000})
	m.SetSafetyLimits(3000, 0, 2)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	step := func(d time.Duration) State {
		m.Advance(at, d)
		at = at.Add(d)
		return m.State()
	}
	if s := step(time.Minute); s.Relay != profile.RelayClosed {
		t.Fatalf("under the limit: relay %d", s.Relay)
	}
	m.SetLoad(4000)
	for trip := 1; trip <= 3; trip++ {
		s := step(time.Minute)
		if s.Relay != profile.RelayOpen || s.Status&profile.StatusOverloadTrip == 0 || m.Settings()["trip_count"] != int64(trip) {
			t.Fatalf("trip %d: relay %d, status %b, count %d", trip, s.Relay, s.Status, m.Settings()["trip_count"])
		}
		step(SafetyOffTime - time.Minute) // the rest of the 3 minutes
	}
	if s := step(10 * time.Minute); s.Relay != profile.RelayOpen {
		t.Fatal("locked out meter closed by itself")
	}
	m.SetLoad(1000)
	m.SwitchOn()
	if s := step(time.Minute); s.Relay != profile.RelayClosed || s.Status&(profile.StatusOverloadTrip|profile.StatusMalignantTrip) != 0 {
		t.Fatalf("after the restore: relay %d, status %b", s.Relay, s.Status)
	}
	m.SetSafetyLimits(3000, 2000, 2)
	m.SetLoad(3500) // +2.5 kW at once
	if s := step(time.Second); s.Relay != profile.RelayOpen || s.Status&profile.StatusMalignantTrip == 0 {
		t.Fatalf("malignant step: relay %d, status %b", s.Relay, s.Status)
	}
}

// TestSettingsSurviveARestart: a downloaded tariff and limits are kept in
// the saved state, as a real meter keeps them in non-volatile memory.
func TestSettingsSurviveARestart(t *testing.T) {
	m := NewMeter(MeterConfig{Remaining: 5000, UnitPrice: 12000})
	if err := m.SetTariff(demoTable()); err != nil {
		t.Fatal(err)
	}
	m.SetSafetyLimits(3000, 2000, 2)
	again := NewMeter(MeterConfig{Remaining: 5000, UnitPrice: 12000})
	again.restore(m.save())
	want, got := m.Settings(), again.Settings()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d after restore, want %d", k, got[k], v)
		}
	}
}
