// Package chargeprice prices charging sessions (C4, C5): versioned pricing
// strategies of time-of-use periods (尖峰平谷) with an energy price and a
// service fee each, discounts bound to customer groups and stations, and
// monthly terminal packages (包月).
//
// Rules (stated once, used everywhere):
//   - The strategy version in force at the session's start prices the whole
//     session, even if a new version takes effect while it runs.
//   - Energy between two consecutive meter samples is attributed to the TOU
//     periods in proportion to the time the interval spent in each (the
//     charger is assumed to draw evenly between samples). A sample lower
//     than the previous one (meter going backwards) contributes nothing and
//     is reported.
//   - A package waives the service fee of the first covered kWh of the
//     session, in time order, up to the package's remaining quota; the
//     energy price is always paid.
//   - Of the discounts that apply (customer's group and station both match),
//     only the one giving the largest reduction is used: ServicePercent takes
//     a percentage off the service fee (after the package), TotalPercent off
//     energy + service.
//   - Amounts are computed exactly and rounded once, half away from zero, to
//     the total; the per-period lines and the components are shown rounded
//     to 0.01 for reading and may differ from the total by a cent.
package chargeprice

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/tariff"
)

// ErrInvalid is a strategy, discount or package that cannot be used.
var ErrInvalid = errors.New("invalid pricing")

// ErrNoVersion is a session started when no version of the strategy was in force.
var ErrNoVersion = errors.New("no pricing version in force")

// PeriodPrice is what one kWh costs in a TOU period (元/kWh).
type PeriodPrice struct {
	Energy  money.Price `json:"energy"`
	Service money.Price `json:"service"`
}

// Version is one version of a strategy, in force from EffectiveFrom until
// EffectiveTo (exclusive; nil: open-ended).
type Version struct {
	Version       int                           `json:"version"`
	EffectiveFrom time.Time                     `json:"effectiveFrom"`
	EffectiveTo   *time.Time                    `json:"effectiveTo,omitempty"`
	Schedule      []tariff.Segment              `json:"schedule"`
	Prices        map[tariff.Period]PeriodPrice `json:"prices"`
	// UTCOffsetMinutes is the schedule's local time (default 480, CST).
	UTCOffsetMinutes *int `json:"utcOffsetMinutes,omitempty"`
}

// Strategy is a named pricing strategy with its versions.
type Strategy struct {
	ID       string    `json:"id"`
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Versions []Version `json:"versions"`
}

// Validate checks a version's schedule and prices.
func (v Version) Validate() error {
	if v.EffectiveTo != nil && !v.EffectiveTo.After(v.EffectiveFrom) {
		return fmt.Errorf("%w: version %d ends before it starts", ErrInvalid, v.Version)
	}
	t := v.tariff()
	if err := t.Validate(); err != nil {
		return fmt.Errorf("%w: version %d: %v", ErrInvalid, v.Version, err)
	}
	for _, p := range tariff.Periods() { // not a map range: workflows price with this
		pp := v.Prices[p]
		if pp.Energy.Decimal().IsNegative() || pp.Service.Decimal().IsNegative() {
			return fmt.Errorf("%w: version %d: negative price in %s", ErrInvalid, v.Version, p)
		}
	}
	return nil
}

// Validate checks every version and that their periods do not overlap.
func (s Strategy) Validate() error {
	if s.Code == "" {
		return fmt.Errorf("%w: a strategy needs a code", ErrInvalid)
	}
	if len(s.Versions) == 0 {
		return fmt.Errorf("%w: a strategy needs a version", ErrInvalid)
	}
	vs := slices.Clone(s.Versions)
	slices.SortFunc(vs, func(a, b Version) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	for i, v := range vs {
		if err := v.Validate(); err != nil {
			return err
		}
		if i > 0 {
			prev := vs[i-1]
			if prev.EffectiveTo == nil || prev.EffectiveTo.After(v.EffectiveFrom) {
				return fmt.Errorf("%w: versions %d and %d overlap", ErrInvalid, prev.Version, v.Version)
			}
		}
	}
	return nil
}

// VersionAt is the version in force at at.
func (s Strategy) VersionAt(at time.Time) (Version, error) {
	for _, v := range s.Versions {
		if !at.Before(v.EffectiveFrom) && (v.EffectiveTo == nil || at.Before(*v.EffectiveTo)) {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("%s at %s: %w", s.Code, at.Format(time.RFC3339), ErrNoVersion)
}

// tariff reuses domain/tariff's schedule logic (period at a time, zone).
func (v Version) tariff() tariff.Tariff {
	prices := map[tariff.Period]money.Price{}
	for _, p := range tariff.Periods() {
		if _, ok := v.Prices[p]; ok {
			prices[p] = money.Price{}
		}
	}
	return tariff.Tariff{Kind: tariff.TOU, Schedule: v.Schedule, Prices: prices, UTCOffsetMinutes: v.UTCOffsetMinutes}
}

// Sample is a meter reading of the session (start, MeterValues, stop).
type Sample struct {
	At time.Time `json:"at"`
	Wh int64     `json:"wh"`
}

// DiscountKind says what a discount reduces.
type DiscountKind string

const (
	ServicePercent DiscountKind = "service_percent" // % off the service fee
	TotalPercent   DiscountKind = "total_percent"   // % off energy + service
)

// Discount is a discount strategy bound to customer groups and stations
// (empty lists: every group / every station).
type Discount struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Kind       DiscountKind    `json:"kind"`
	Percent    decimal.Decimal `json:"percent"` // 20 = 20 % off
	GroupIDs   []string        `json:"groupIds"`
	StationIDs []string        `json:"stationIds"`
}

// Validate checks a discount.
func (d Discount) Validate() error {
	if d.Kind != ServicePercent && d.Kind != TotalPercent {
		return fmt.Errorf("%w: discount kind %q", ErrInvalid, d.Kind)
	}
	if d.Percent.IsNegative() || d.Percent.GreaterThan(decimal.NewFromInt(100)) {
		return fmt.Errorf("%w: discount percent %s not within 0..100", ErrInvalid, d.Percent)
	}
	return nil
}

func (d Discount) applies(groups []string, station string) bool {
	if len(d.StationIDs) > 0 && !slices.Contains(d.StationIDs, station) {
		return false
	}
	if len(d.GroupIDs) == 0 {
		return true
	}
	for _, g := range groups {
		if slices.Contains(d.GroupIDs, g) {
			return true
		}
	}
	return false
}

// Package is a customer's monthly terminal package (包月) as it stands at
// the session's start: the service fee of up to RemainingKWh is waived on
// the covered equipment (empty: all).
type Package struct {
	ID           string          `json:"id"`
	EquipmentIDs []string        `json:"equipmentIds"`
	RemainingKWh decimal.Decimal `json:"remainingKwh"`
}

// Session is what is priced.
type Session struct {
	StationID   string
	EquipmentID string
	Groups      []string // the customer's groups
	Samples     []Sample // in time order; the first is the start
	Discounts   []Discount
	Package     *Package
}

// Line is the energy and money of one TOU period.
type Line struct {
	Period  tariff.Period `json:"period"`
	KWh     string        `json:"kwh"` // 3 places (Wh)
	Energy  money.Amount  `json:"energyFee"`
	Service money.Amount  `json:"serviceFee"`
	Amount  money.Amount  `json:"amount"`
}

// Priced is a priced session.
type Priced struct {
	Version        int          `json:"version"`
	KWh            string       `json:"kwh"`
	Lines          []Line       `json:"lines"`
	EnergyFee      money.Amount `json:"energyFee"`
	ServiceFee     money.Amount `json:"serviceFee"`
	PackageKWh     string       `json:"packageKwh"`
	PackageWaived  money.Amount `json:"packageWaived"`
	DiscountID     string       `json:"discountId,omitempty"`
	DiscountAmount money.Amount `json:"discount"`
	Total          money.Amount `json:"total"`
	Backwards      bool         `json:"meterBackwards"`
	kwh            decimal.Decimal
}

// ZeroEnergy says the session delivered nothing (an abnormal order).
func (p Priced) ZeroEnergy() bool { return p.kwh.IsZero() }

const exactPlaces = 12

var (
	thousand = decimal.NewFromInt(1000)
	hundred  = decimal.NewFromInt(100)
)

// piece is energy attributed to one period over a stretch of time.
type piece struct {
	period tariff.Period
	at     time.Time
	kwh    decimal.Decimal
}

// split attributes the session's energy to periods by time between samples
// (see the package rules), in time order, exact.
func split(v Version, samples []Sample) (pieces []piece, backwards bool) {
	t := v.tariff()
	zone := t.Zone()
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		delta := b.Wh - a.Wh
		if delta < 0 {
			backwards = true
			continue
		}
		if delta == 0 {
			continue
		}
		e := decimal.NewFromInt(delta).Div(thousand)
		total := b.At.Sub(a.At)
		if total <= 0 {
			pieces = append(pieces, piece{periodAt(v, b.At, zone), b.At, e})
			continue
		}
		for at := a.At; at.Before(b.At); {
			p, end := segmentAt(v, at, zone)
			if end.After(b.At) {
				end = b.At
			}
			share := e.Mul(decimal.NewFromInt(int64(end.Sub(at)))).DivRound(decimal.NewFromInt(int64(total)), exactPlaces)
			pieces = append(pieces, piece{p, at, share})
			at = end
		}
	}
	return pieces, backwards
}

// Price prices a session with strategy version v (the one in force at start).
func Price(v Version, s Session) (Priced, error) {
	if err := v.Validate(); err != nil {
		return Priced{}, err
	}
	for _, d := range s.Discounts {
		if err := d.Validate(); err != nil {
			return Priced{}, err
		}
	}
	pieces, backwards := split(v, s.Samples)

	quota := decimal.Zero
	if s.Package != nil && (len(s.Package.EquipmentIDs) == 0 || slices.Contains(s.Package.EquipmentIDs, s.EquipmentID)) {
		quota = decimal.Max(s.Package.RemainingKWh, decimal.Zero)
	}
	type acc struct{ kwh, energy, service decimal.Decimal }
	per := map[tariff.Period]*acc{}
	var kwh, energy, service, waived, packKWh decimal.Decimal
	for _, pc := range pieces {
		pp := v.Prices[pc.period]
		a := per[pc.period]
		if a == nil {
			a = &acc{}
			per[pc.period] = a
		}
		en := pc.kwh.Mul(pp.Energy.Decimal())
		sv := pc.kwh.Mul(pp.Service.Decimal())
		a.kwh, a.energy, a.service = a.kwh.Add(pc.kwh), a.energy.Add(en), a.service.Add(sv)
		kwh, energy, service = kwh.Add(pc.kwh), energy.Add(en), service.Add(sv)
		if quota.IsPositive() {
			covered := decimal.Min(quota, pc.kwh)
			quota = quota.Sub(covered)
			packKWh = packKWh.Add(covered)
			waived = waived.Add(covered.Mul(pp.Service.Decimal()))
		}
	}
	out := Priced{Version: v.Version, Backwards: backwards, kwh: kwh}
	for _, p := range tariff.Periods() {
		a := per[p]
		if a == nil {
			continue
		}
		out.Lines = append(out.Lines, Line{Period: p, KWh: a.kwh.StringFixed(3), Energy: money.Round(a.energy),
			Service: money.Round(a.service), Amount: money.Round(a.energy.Add(a.service))})
	}
	serviceDue := service.Sub(waived)
	best, bestCut := "", decimal.Zero
	for _, d := range s.Discounts {
		if !d.applies(s.Groups, s.StationID) {
			continue
		}
		base := serviceDue
		if d.Kind == TotalPercent {
			base = energy.Add(serviceDue)
		}
		cut := base.Mul(d.Percent).Div(hundred)
		if cut.GreaterThan(bestCut) {
			best, bestCut = d.ID, cut
		}
	}
	out.KWh = kwh.StringFixed(3)
	out.EnergyFee, out.ServiceFee = money.Round(energy), money.Round(service)
	out.PackageKWh, out.PackageWaived = packKWh.StringFixed(3), money.Round(waived)
	out.DiscountID, out.DiscountAmount = best, money.Round(bestCut)
	out.Total = money.Round(energy.Add(serviceDue).Sub(bestCut))
	return out, nil
}

func periodAt(v Version, at time.Time, zone *time.Location) tariff.Period {
	p, _ := segmentAt(v, at, zone)
	return p
}

// segmentAt is the period in force at at and when it ends (local midnight
// ends the last segment of a day).
func segmentAt(v Version, at time.Time, zone *time.Location) (tariff.Period, time.Time) {
	local := at.In(zone)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	minute := int(local.Sub(midnight) / time.Minute)
	i := len(v.Schedule) - 1
	for i > 0 && v.Schedule[i].StartMinute > minute {
		i--
	}
	end := midnight.AddDate(0, 0, 1)
	if i+1 < len(v.Schedule) {
		end = midnight.Add(time.Duration(v.Schedule[i+1].StartMinute) * time.Minute)
	}
	return v.Schedule[i].Period, end
}
