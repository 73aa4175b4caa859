package tariff

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Price modes of a meter's price block (devices/profile/README.md).
const (
	blockTOU    = 1
	blockTiered = 2
)

// ErrNotMeterBlock is a tariff a meter's price block cannot hold: a TOU
// segment off the hour (the meter's table is by hour) or more than three
// tiered steps.
var ErrNotMeterBlock = errors.New("the tariff does not fit a meter's price block")

// MeterBlock renders a tariff as the register values of a meter-side
// prepaid meter's price block (command set_tariff): names as the profile's
// settings, prices in 0.0001 yuan per register kWh, energies in 0.01 kWh of
// the register. The meter counts its register (secondary side), the tariff
// prices primary kWh, so prices are multiplied by ratio (CT × PT) and tier
// thresholds divided by it — the rule of billing (Δregister × ratio ×
// price). A single price is a TOU block with four equal prices; the hour
// table is the tariff's local day (the meter's clock keeps that time).
func MeterBlock(t Tariff, ratio int64) (map[string]int64, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	ratio = max(ratio, 1)
	units := func(p money.Price) int64 { return p.Units() * ratio }
	v := map[string]int64{"tariff_mode": blockTOU, "tier1_kwh": 0, "tier2_kwh": 0, "tier1_price": 0, "tier2_price": 0, "tier3_price": 0}
	hours := [24]int{}
	prices := [4]int64{}
	switch t.Kind {
	case Single:
		for i := range prices {
			prices[i] = units(t.Price)
		}
		for h := range hours {
			hours[h] = 2 // flat
		}
	case TOU:
		for i, p := range periods {
			prices[i] = units(t.Prices[p])
		}
		for i, seg := range t.Schedule {
			if seg.StartMinute%60 != 0 {
				return nil, fmt.Errorf("%w: segment at minute %d is not on the hour", ErrNotMeterBlock, seg.StartMinute)
			}
			end := 24
			if i+1 < len(t.Schedule) {
				end = t.Schedule[i+1].StartMinute / 60
			}
			for h := seg.StartMinute / 60; h < end; h++ {
				hours[h] = periodIndex(seg.Period)
			}
		}
	case Tiered:
		if len(t.Steps) > 3 {
			return nil, fmt.Errorf("%w: %d steps, a meter holds 3", ErrNotMeterBlock, len(t.Steps))
		}
		v["tariff_mode"] = blockTiered
		top := [2]int64{math.MaxUint32, math.MaxUint32}
		var p [3]int64
		for i, s := range t.Steps {
			p[i] = units(s.Price)
			if s.UpToKWh != nil && i < 2 {
				top[i] = s.UpToKWh.Mul(decimal.NewFromInt(100)).Div(decimal.NewFromInt(ratio)).Round(0).IntPart()
			}
		}
		// Fewer steps: the last price goes on.
		for i := len(t.Steps); i < 3; i++ {
			p[i] = p[i-1]
		}
		v["tier1_kwh"], v["tier2_kwh"] = top[0], max(top[1], top[0])
		v["tier1_price"], v["tier2_price"], v["tier3_price"] = p[0], p[1], p[2]
		for i := range prices {
			prices[i] = p[0]
		}
		for h := range hours {
			hours[h] = 2
		}
	}
	for i, name := range []string{"price_sharp", "price_peak", "price_flat", "price_valley"} {
		v[name] = prices[i]
	}
	for h, p := range hours {
		v[fmt.Sprintf("tou_hour_%02d", h)] = int64(p)
	}
	return v, nil
}

func periodIndex(p Period) int {
	for i, q := range periods {
		if q == p {
			return i
		}
	}
	return 2
}

// ErrNotFollowable is a tariff a meter without the price block cannot be
// kept on by rewriting its single unit price: a tiered tariff needs the
// meter's energy of the month, which only billing readings know.
var ErrNotFollowable = errors.New("only single and time-of-use tariffs can be followed by rewriting the unit price")

// RateAt is the price in force at at, in 0.0001 yuan per register kWh (×
// ratio, as MeterBlock), and when it next changes (zero: never, a single
// price). A meter without the price block is kept on a TOU tariff by
// writing this into its unit price register at each boundary.
func RateAt(t Tariff, ratio int64, at time.Time) (int64, time.Time, error) {
	ratio = max(ratio, 1)
	switch t.Kind {
	case Single:
		return t.Price.Units() * ratio, time.Time{}, nil
	case TOU:
		p, end := t.segmentAt(at)
		return t.Prices[p].Units() * ratio, end, nil
	}
	return 0, time.Time{}, fmt.Errorf("%w: %s", ErrNotFollowable, t.Kind)
}
