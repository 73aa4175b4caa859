package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// saved is the part of a meter that a real meter keeps in non-volatile
// memory: a restarted simulator must come back as the same meters, or the
// platform's purchase counters would no longer match.
type saved struct {
	Energy      int64    `json:"energy"`
	TOU         [4]int64 `json:"tou"`
	Remaining   int64    `json:"remaining"`
	Count       uint16   `json:"count"`
	Cumulative  int64    `json:"cumulative"`
	Mode        uint16   `json:"mode"`
	Alarm1      int64    `json:"alarm1"`
	Alarm2      int64    `json:"alarm2"`
	Price       int64    `json:"price"`
	SwitchedOff bool     `json:"switchedOff"`
	Consumed    int64    `json:"consumed"`
	EnergyRem   int64    `json:"energyRem"`
	MoneyRem    int64    `json:"moneyRem"`
	// Settings are the setting blocks (prices, safety limits) a download
	// wrote; absent in states saved before them.
	Settings map[string]int64 `json:"settings,omitempty"`
	Month    int              `json:"month,omitempty"`
}

func (m *Meter) save() saved {
	m.mu.Lock()
	defer m.mu.Unlock()
	return saved{Energy: m.energy, TOU: m.tou, Remaining: m.remaining, Count: m.count, Cumulative: m.cumulative,
		Mode: m.mode, Alarm1: m.alarm1, Alarm2: m.alarm2, Price: m.price, SwitchedOff: m.switchedOff,
		Consumed: m.consumed, EnergyRem: m.energyRem, MoneyRem: m.moneyRem, Settings: m.settingsLocked(), Month: m.month}
}

func (m *Meter) restore(s saved) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.energy, m.tou, m.remaining, m.count, m.cumulative = s.Energy, s.TOU, s.Remaining, s.Count, s.Cumulative
	m.mode, m.alarm1, m.alarm2, m.price, m.switchedOff = s.Mode, s.Alarm1, s.Alarm2, s.Price, s.SwitchedOff
	m.consumed, m.energyRem, m.moneyRem = s.Consumed, s.EnergyRem, s.MoneyRem
	if v := s.Settings; v != nil {
		m.tariffMode, m.monthEnergy, m.month = v["tariff_mode"], v["month_energy"], s.Month
		m.prices = [4]int64{v["price_sharp"], v["price_peak"], v["price_flat"], v["price_valley"]}
		m.tiers = [2]int64{v["tier1_kwh"], v["tier2_kwh"]}
		m.tierPrices = [3]int64{v["tier1_price"], v["tier2_price"], v["tier3_price"]}
		for h := range m.schedule {
			if p, ok := v[fmt.Sprintf("tou_hour_%02d", h)]; ok && p >= 0 && p <= int64(Valley) {
				m.schedule[h] = Period(p)
			}
		}
		m.maxLoad, m.malignantStart, m.allowedTrips, m.tripCount = v["max_load"], v["malignant_start"], v["allowed_trips"], v["trip_count"]
	}
	m.settle()
}

// Save writes every meter's state to path (atomically, via a rename).
func (f *Fleet) Save(path string) error {
	all := make([][]saved, len(f.gateways))
	for i, g := range f.gateways {
		for u := 1; u <= g.Meters(); u++ {
			all[i] = append(all[i], g.Meter(uint8(u)).save())
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	return os.Rename(tmp, path)
}

// Restore loads a state written by Save; a missing file is a first start.
// Meters beyond the saved ones keep their initial state.
func (f *Fleet) Restore(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore simulator state: %w", err)
	}
	var all [][]saved
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("restore simulator state %s: %w", path, err)
	}
	for i, g := range f.gateways {
		if i >= len(all) {
			break
		}
		for u := 1; u <= g.Meters() && u <= len(all[i]); u++ {
			g.Meter(uint8(u)).restore(all[i][u-1])
		}
	}
	return nil
}
