// Package tariff prices the energy a platform-side prepaid meter (主站费控)
// used between two readings: single rate, 4-rate time-of-use (尖峰平谷) or
// monthly tiered steps (阶梯). Tariffs are data (JSON in PostgreSQL); this
// package is pure — no I/O, no clock.
//
// Money follows domain/money: each line keeps its exact product (price ×
// kWh, no rounding); an interval's charge is rounded once by the one rule,
// and the sub-cent difference is carried to the next interval in the
// meter's change wallet (不足一分钱的零钱), so over any number of intervals
// the total charged equals the exact total rounded once.
package tariff

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Kind of tariff.
type Kind string

const (
	Single Kind = "single" // one price
	TOU    Kind = "tou"    // time of use, 4 periods
	Tiered Kind = "tiered" // monthly steps
)

// Period is a time-of-use period, in the order of the meter's TOU registers.
type Period string

const (
	Sharp  Period = "sharp"  // 尖
	Peak   Period = "peak"   // 峰
	Flat   Period = "flat"   // 平
	Valley Period = "valley" // 谷
)

// Periods in register order.
var periods = [4]Period{Sharp, Peak, Flat, Valley}

// Periods returns the four periods in register order.
func Periods() [4]Period { return periods }

// Segment starts a period at a minute of the local day; it lasts until the
// next segment's start (the last one until midnight).
type Segment struct {
	StartMinute int    `json:"startMinute"` // 0..1439
	Period      Period `json:"period"`
}

// Step is one tiered step: energy of the month above the previous step's
// threshold up to UpToKWh is priced at Price. The last step has no UpToKWh.
type Step struct {
	UpToKWh *decimal.Decimal `json:"upToKwh,omitempty"`
	Price   money.Price      `json:"price"`
}

// Tariff is a tariff as stored. Only the fields of its Kind are used.
type Tariff struct {
	Kind Kind `json:"kind"`
	// Single: the price.
	Price money.Price `json:"price"`
	// TOU: a price per period and the day schedule (first segment at minute 0).
	Prices   map[Period]money.Price `json:"prices,omitempty"`
	Schedule []Segment              `json:"schedule,omitempty"`
	// UTCOffsetMinutes is the local time of the schedule and of the tiered
	// month (default 480, China Standard Time, no daylight saving).
	UTCOffsetMinutes *int `json:"utcOffsetMinutes,omitempty"`
	// Tiered: steps in increasing thresholds.
	Steps []Step `json:"steps,omitempty"`
}

// ErrInvalid is a tariff that cannot price anything.
var ErrInvalid = errors.New("invalid tariff")

// Validate checks a tariff before it is stored.
func (t Tariff) Validate() error {
	switch t.Kind {
	case Single:
		if t.Price.Decimal().IsNegative() {
			return fmt.Errorf("%w: negative price", ErrInvalid)
		}
	case TOU:
		if len(t.Schedule) == 0 || t.Schedule[0].StartMinute != 0 {
			return fmt.Errorf("%w: the schedule must start at minute 0", ErrInvalid)
		}
		for i, s := range t.Schedule {
			if i > 0 && s.StartMinute <= t.Schedule[i-1].StartMinute || s.StartMinute >= 1440 {
				return fmt.Errorf("%w: segment %d starts at %d, not increasing within the day", ErrInvalid, i, s.StartMinute)
			}
			if _, ok := t.Prices[s.Period]; !ok {
				return fmt.Errorf("%w: no price for period %q", ErrInvalid, s.Period)
			}
		}
	case Tiered:
		if len(t.Steps) == 0 || t.Steps[len(t.Steps)-1].UpToKWh != nil {
			return fmt.Errorf("%w: tiers need steps, the last without a threshold", ErrInvalid)
		}
		prev := decimal.Zero
		for i, s := range t.Steps[:len(t.Steps)-1] {
			if s.UpToKWh == nil || !s.UpToKWh.GreaterThan(prev) {
				return fmt.Errorf("%w: step %d threshold not increasing", ErrInvalid, i)
			}
			prev = *s.UpToKWh
		}
	default:
		return fmt.Errorf("%w: kind %q", ErrInvalid, t.Kind)
	}
	return nil
}

// Zone is the tariff's local time.
func (t Tariff) Zone() *time.Location {
	off := 480
	if t.UTCOffsetMinutes != nil {
		off = *t.UTCOffsetMinutes
	}
	return time.FixedZone(fmt.Sprintf("UTC%+d", off/60), off*60)
}

// Month is the tariff-local month of at ("2026-11"), the span of a tiered
// month-to-date.
func (t Tariff) Month(at time.Time) string { return at.In(t.Zone()).Format("2006-01") }

// Interval is the consumption between two readings of one meter.
type Interval struct {
	From, To time.Time
	// Energy is the total forward energy delta in kWh as the meter counts
	// it (before the CT/PT ratio).
	Energy decimal.Decimal
	// ByPeriod holds the TOU register deltas (kWh, before ratio) when the
	// meter has TOU registers; nil means split Energy by time.
	ByPeriod map[Period]decimal.Decimal
	// Ratio is CT ratio × PT ratio (0 means 1).
	Ratio int64
	// MonthKWh is the energy (after ratio) already billed in To's month,
	// for tiered tariffs.
	MonthKWh decimal.Decimal
}

// Line is one priced part of an interval.
type Line struct {
	Period Period          `json:"period,omitempty"` // TOU
	Step   int             `json:"step,omitempty"`   // tiered, 1-based
	KWh    decimal.Decimal `json:"kwh"`              // after ratio
	Price  money.Price     `json:"price"`
	Exact  decimal.Decimal `json:"exact"` // Price × KWh, unrounded
}

// Priced is an interval's lines and their exact total.
type Priced struct {
	Lines []Line          `json:"lines"`
	KWh   decimal.Decimal `json:"kwh"`   // after ratio
	Exact decimal.Decimal `json:"exact"` // sum of the lines, unrounded
}

// ErrNegative is an interval whose energy went backwards (a replaced or
// reset meter): it is not priced.
var ErrNegative = errors.New("energy went backwards")

// energyPlaces is the resolution the energy registers count in (0.01 kWh);
// a split by time is made in it so the parts add up to the whole.
const energyPlaces = 2

// PriceInterval prices one interval into lines.
func PriceInterval(t Tariff, in Interval) (Priced, error) {
	if err := t.Validate(); err != nil {
		return Priced{}, err
	}
	ratio := decimal.NewFromInt(max(in.Ratio, 1))
	if in.Energy.IsNegative() {
		return Priced{}, fmt.Errorf("%w: %s kWh", ErrNegative, in.Energy)
	}
	var lines []Line
	switch t.Kind {
	case Single:
		lines = []Line{{KWh: in.Energy.Mul(ratio), Price: t.Price}}
	case TOU:
		parts := in.ByPeriod
		if parts == nil {
			parts = t.splitByTime(in.From, in.To, in.Energy)
		}
		for _, p := range periods {
			e, ok := parts[p]
			if !ok || e.IsZero() {
				continue
			}
			if e.IsNegative() {
				return Priced{}, fmt.Errorf("%w: %s register %s kWh", ErrNegative, p, e)
			}
			lines = append(lines, Line{Period: p, KWh: e.Mul(ratio), Price: t.Prices[p]})
		}
	case Tiered:
		lines = t.tiers(in.MonthKWh, in.Energy.Mul(ratio))
	}
	out := Priced{KWh: decimal.Zero, Exact: decimal.Zero}
	for i := range lines {
		lines[i].Exact = lines[i].Price.Decimal().Mul(lines[i].KWh)
		out.KWh = out.KWh.Add(lines[i].KWh)
		out.Exact = out.Exact.Add(lines[i].Exact)
	}
	out.Lines = lines
	return out, nil
}

// tiers splits energy e, used after monthKWh of the month, over the steps.
func (t Tariff) tiers(monthKWh, e decimal.Decimal) []Line {
	var lines []Line
	lo := monthKWh
	hi := monthKWh.Add(e)
	floor := decimal.Zero
	for i, s := range t.Steps {
		top := hi
		if s.UpToKWh != nil && s.UpToKWh.LessThan(top) {
			top = *s.UpToKWh
		}
		bottom := decimal.Max(lo, floor)
		if top.GreaterThan(bottom) {
			lines = append(lines, Line{Step: i + 1, KWh: top.Sub(bottom), Price: s.Price})
		}
		if s.UpToKWh != nil {
			floor = *s.UpToKWh
		}
	}
	return lines
}

// splitByTime shares energy over the periods in proportion to the time the
// interval spent in each, in 0.01 kWh; the rounding difference goes to the
// period the interval spent longest in, so the parts sum to the whole.
func (t Tariff) splitByTime(from, to time.Time, energy decimal.Decimal) map[Period]decimal.Decimal {
	out := map[Period]decimal.Decimal{}
	total := to.Sub(from)
	if total <= 0 {
		// No duration to share by: the energy belongs to the period of the reading.
		out[t.periodAt(to)] = energy
		return out
	}
	spent := map[Period]time.Duration{}
	for at := from; at.Before(to); {
		p, end := t.segmentAt(at)
		end = minTime(end, to)
		spent[p] += end.Sub(at)
		at = end
	}
	longest, sum := Period(""), decimal.Zero
	for _, p := range periods {
		d, ok := spent[p]
		if !ok {
			continue
		}
		if longest == "" || d > spent[longest] {
			longest = p
		}
		share := energy.Mul(decimal.NewFromInt(int64(d))).DivRound(decimal.NewFromInt(int64(total)), energyPlaces)
		out[p] = share
		sum = sum.Add(share)
	}
	out[longest] = out[longest].Add(energy.Sub(sum))
	return out
}

// segmentAt returns the period in force at at and when it ends.
func (t Tariff) segmentAt(at time.Time) (Period, time.Time) {
	local := at.In(t.Zone())
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	minute := int(local.Sub(midnight) / time.Minute)
	i, found := slices.BinarySearchFunc(t.Schedule, minute, func(s Segment, m int) int { return s.StartMinute - m })
	if !found {
		i--
	}
	end := midnight.AddDate(0, 0, 1)
	if i+1 < len(t.Schedule) {
		end = midnight.Add(time.Duration(t.Schedule[i+1].StartMinute) * time.Minute)
	}
	return t.Schedule[i].Period, end
}

func (t Tariff) periodAt(at time.Time) Period { p, _ := t.segmentAt(at); return p }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Charge is what one interval costs after the change wallet.
type Charge struct {
	Amount money.Amount    `json:"amount"` // booked; never negative
	Carry  decimal.Decimal `json:"carry"`  // the change wallet after it
}

// Settle rounds carry + exact once by the one rule and keeps the rest as
// the new carry. The carry stays within [-0.005, 0.005): the cumulative
// amount charged is always the cumulative exact cost rounded once.
//
// Why the negative case: a carry of -0.005 (half a cent charged early) with
// nothing used would round away from zero to -0.01; nothing is owed back,
// so it charges 0.00 and keeps the carry, which is the same as rounding the
// cumulative total (always ≥ 0) half up.
func Settle(carry, exact decimal.Decimal) Charge {
	t := carry.Add(exact)
	amount := money.Round(t)
	if amount.IsNegative() {
		amount = money.Zero
	}
	return Charge{Amount: amount, Carry: t.Sub(amount.Decimal())}
}
