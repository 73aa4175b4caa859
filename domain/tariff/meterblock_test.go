package tariff

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestMeterBlock(t *testing.T) {
	for _, c := range []struct {
		name, spec string
		ratio      int64
		want       map[string]int64
		err        error
	}{
		{"tou", `{"kind":"tou","prices":{"sharp":"1.5000","peak":"1.2000","flat":"0.8000","valley":"0.4000"},
			"schedule":[{"startMinute":0,"period":"valley"},{"startMinute":480,"period":"flat"},{"startMinute":600,"period":"peak"},
			{"startMinute":1080,"period":"sharp"},{"startMinute":1260,"period":"flat"},{"startMinute":1380,"period":"valley"}]}`, 1,
			map[string]int64{"tariff_mode": 1, "price_sharp": 15000, "price_valley": 4000, "tou_hour_07": 3, "tou_hour_08": 2,
				"tou_hour_10": 1, "tou_hour_18": 0, "tou_hour_21": 2, "tou_hour_23": 3}, nil},
		// CT × PT 10: the register's kWh is 10 primary kWh.
		{"tiered with ratio", `{"kind":"tiered","steps":[{"upToKwh":"100","price":"0.5000"},{"price":"0.8000"}]}`, 10,
			map[string]int64{"tariff_mode": 2, "tier1_kwh": 1000, "tier2_kwh": 4294967295, "tier1_price": 50000,
				"tier2_price": 80000, "tier3_price": 80000}, nil},
		{"single", `{"kind":"single","price":"1.2000"}`, 1, map[string]int64{"tariff_mode": 1, "price_peak": 12000, "tou_hour_12": 2}, nil},
		{"off the hour", `{"kind":"tou","prices":{"sharp":"1","peak":"1","flat":"1","valley":"1"},
			"schedule":[{"startMinute":0,"period":"valley"},{"startMinute":510,"period":"flat"}]}`, 1, nil, ErrNotMeterBlock},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tr Tariff
			if err := json.Unmarshal([]byte(c.spec), &tr); err != nil {
				t.Fatal(err)
			}
			got, err := MeterBlock(tr, c.ratio)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			for k, want := range c.want {
				if got[k] != want {
					t.Errorf("%s = %d, want %d", k, got[k], want)
				}
			}
			if err == nil && len(got) != 34 {
				t.Errorf("%d values, want the 34 fields of set_tariff", len(got))
			}
		})
	}
}

func TestRateAt(t *testing.T) {
	var tou Tariff
	if err := json.Unmarshal([]byte(`{"kind":"tou","prices":{"sharp":"1.5000","peak":"1.2000","flat":"0.8000","valley":"0.4000"},
		"schedule":[{"startMinute":0,"period":"valley"},{"startMinute":480,"period":"flat"},{"startMinute":600,"period":"peak"},
		{"startMinute":1080,"period":"sharp"},{"startMinute":1260,"period":"flat"},{"startMinute":1380,"period":"valley"}]}`), &tou); err != nil {
		t.Fatal(err)
	}
	// 09:30 UTC is 17:30 China time: peak until 18:00 (10:00 UTC), CT×PT 2.
	price, next, err := RateAt(tou, 2, time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC))
	if err != nil || price != 24000 || !next.Equal(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("%d until %v (%v)", price, next, err)
	}
	if _, _, err := RateAt(Tariff{Kind: Tiered}, 1, time.Now()); !errors.Is(err, ErrNotFollowable) {
		t.Fatalf("tiered: %v", err)
	}
}
