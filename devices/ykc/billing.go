package ykc

import (
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/tariff"
)

// rateOf maps a TOU period to its YKC rate index.
var rateOf = map[tariff.Period]uint8{tariff.Sharp: RateSharp, tariff.Peak: RatePeak, tariff.Flat: RateFlat, tariff.Valley: RateValley}

// ModelNo is the 4-digit billing model number of a strategy version: a
// charger holding another number asks for the model again (0x05/0x06), so
// the number changes with the strategy and its version.
func ModelNo(code string, version int) string {
	h := fnv.New32a()
	_, _ = fmt.Fprintf(h, "%s/%d", code, version)
	return fmt.Sprintf("%04d", h.Sum32()%10000)
}

// price5 is a price in the model's unit, 0.00001 yuan/kWh.
func price5(d decimal.Decimal) uint32 { return uint32(d.Shift(5).Round(0).IntPart()) }

// ModelFromVersion builds the billing model (0x0A/0x58 body) of a pricing
// strategy version: its four period prices (energy and service) and, for
// each half hour from 00:00, the period in force at its start (the
// schedule's segments are in the version's local time, as the charger's
// clock is after time sync).
func ModelFromVersion(code string, v chargeprice.Version) (BillingModel, error) {
	bm := BillingModel{Model: ModelNo(code, v.Version)}
	for p, pr := range v.Prices {
		i, ok := rateOf[p]
		if !ok {
			return bm, fmt.Errorf("ykc: period %q has no YKC rate", p)
		}
		bm.Rates[i] = Rate{Energy: price5(pr.Energy.Decimal()), Service: price5(pr.Service.Decimal())}
	}
	segs := append([]tariff.Segment(nil), v.Schedule...)
	if len(segs) == 0 {
		return bm, fmt.Errorf("ykc: strategy %s version %d has no schedule", code, v.Version)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].StartMinute < segs[j].StartMinute })
	for h := range bm.Periods {
		minute := h * 30
		// Before the first segment the day's last segment is still in force.
		cur := segs[len(segs)-1]
		for _, s := range segs {
			if s.StartMinute <= minute {
				cur = s
			}
		}
		i, ok := rateOf[cur.Period]
		if !ok {
			return bm, fmt.Errorf("ykc: period %q has no YKC rate", cur.Period)
		}
		bm.Periods[h] = i
	}
	return bm, nil
}
