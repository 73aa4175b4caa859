package alarm

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Condition alarm kinds: alarm/<subject>/<kind>, open while the condition
// holds (seed 002).
const (
	KindStatic         = "static" // no energy change for the set time: possible theft
	KindOverVoltage    = "over_voltage"
	KindUnderVoltage   = "under_voltage"
	KindOverCurrent    = "over_current"
	KindDailyLimit     = "daily_limit"
	KindMonthlyLimit   = "monthly_limit"
	KindNightLimit     = "night_limit"
	KindOverloadTrip   = "overload_trip"
	KindMalignantTrip  = "malignant_load_trip"
	KindLostContact    = "lost_contact"         // a meter no longer answers
	KindGatewayContact = "gateway_lost_contact" // a gateway cannot be connected
)

// ConditionKinds are every kind the scan opens and clears.
func ConditionKinds() []string {
	return []string{KindStatic, KindOverVoltage, KindUnderVoltage, KindOverCurrent, KindDailyLimit, KindMonthlyLimit,
		KindNightLimit, KindOverloadTrip, KindMalignantTrip, KindLostContact, KindGatewayContact}
}

// Urgent kinds are sent at once, quiet hours or not: the power is already off.
func Urgent(kind string) bool { return kind == KindOverloadTrip || kind == KindMalignantTrip }

// Status flag bits the meter reports (devices/profile).
const (
	flagArrearsTrip   = 1 << 2
	flagOverloadTrip  = 1 << 3
	flagMalignantTrip = 1 << 4
)

// Limits of one meter; nil is that check off.
type Limits struct {
	VoltageMax, VoltageMin, CurrentMax  *decimal.Decimal
	DailyKWh, MonthlyKWh, NightKWh      *decimal.Decimal
	NightStart, NightEnd, OffsetMinutes int
	StaticAfter                         time.Duration // 0: off
}

// Watch is what the scan remembers of a meter between scans.
type Watch struct {
	Known      bool
	Energy     decimal.Decimal
	ReadAt     time.Time
	MovedAt    time.Time
	Day        string // local date, 2006-01-02
	DayStart   decimal.Decimal
	Month      string // local first of month
	MonthStart decimal.Decimal
	Night      string // local date the night began; "" outside a night
	NightStart decimal.Decimal
}

// Sample is a meter as the scan finds it.
type Sample struct {
	Energy      decimal.Decimal
	ReadAt      time.Time
	StatusFlags int
	// Active: the meter has an open account and is not cut off for arrears
	// or forced off — it is expected to use energy.
	Active bool
	// Voltage and Current of the latest reading since the last scan; nil
	// when there was none (those checks keep their state).
	Voltage, Current *decimal.Decimal
}

// Advance moves the watch to a new sample at scan time at: the baselines
// roll over at local midnight, the first of the month and the start of the
// night; the energy seen before a rollover is the new period's start.
func Advance(w Watch, s Sample, l Limits, at time.Time) Watch {
	loc := time.FixedZone("limits", l.OffsetMinutes*60)
	lt := at.In(loc)
	day := lt.Format(time.DateOnly)
	month := time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, loc).Format(time.DateOnly)
	night := nightOf(lt, l.NightStart, l.NightEnd)
	if !w.Known {
		return Watch{Known: true, Energy: s.Energy, ReadAt: s.ReadAt, MovedAt: s.ReadAt, Day: day, DayStart: s.Energy,
			Month: month, MonthStart: s.Energy, Night: night, NightStart: s.Energy}
	}
	prev := w.Energy
	if !s.Energy.Equal(w.Energy) {
		w.MovedAt = s.ReadAt
	}
	w.Energy, w.ReadAt = s.Energy, s.ReadAt
	if w.Day != day {
		w.Day, w.DayStart = day, prev
	}
	if w.Month != month {
		w.Month, w.MonthStart = month, prev
	}
	if w.Night != night {
		w.Night, w.NightStart = night, prev
	}
	return w
}

// nightOf is the local date the night holding lt began, or "" outside the
// night window (minutes after midnight; start = end means no night).
func nightOf(lt time.Time, start, end int) string {
	if start == end {
		return ""
	}
	m := lt.Hour()*60 + lt.Minute()
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, lt.Location())
	switch {
	case start < end && m >= start && m < end:
		return midnight.Format(time.DateOnly)
	case start > end && m >= start:
		return midnight.Format(time.DateOnly)
	case start > end && m < end:
		return midnight.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return ""
}

// Finding is one condition kind as evaluated for a meter.
type Finding struct {
	Kind   string
	Active bool
	Detail string
}

// Evaluate checks a meter's conditions after Advance. othersMovedAt is the
// latest time another meter of the project moved. Kinds that cannot be
// judged now (no fresh reading for voltage) are left out: their alarms keep
// their state.
func Evaluate(w Watch, s Sample, l Limits, othersMovedAt time.Time) []Finding {
	var out []Finding
	add := func(kind string, active bool, detail string) {
		out = append(out, Finding{Kind: kind, Active: active, Detail: detail})
	}
	if l.StaticAfter > 0 {
		still := w.ReadAt.Sub(w.MovedAt)
		// Others moving since this meter stopped: the site is in use, so a
		// meter that stands still is suspicious, not a holiday.
		active := s.Active && still >= l.StaticAfter && othersMovedAt.After(w.MovedAt)
		add(KindStatic, active, fmt.Sprintf("energy %s kWh unchanged since %s", w.Energy.StringFixed(2), w.MovedAt.UTC().Format(time.RFC3339)))
	}
	if s.Voltage != nil {
		v := *s.Voltage
		if l.VoltageMax != nil {
			add(KindOverVoltage, v.GreaterThan(*l.VoltageMax), fmt.Sprintf("voltage %s V above %s V", v.String(), l.VoltageMax.String()))
		}
		if l.VoltageMin != nil {
			add(KindUnderVoltage, v.LessThan(*l.VoltageMin), fmt.Sprintf("voltage %s V below %s V", v.String(), l.VoltageMin.String()))
		}
	}
	if s.Current != nil && l.CurrentMax != nil {
		add(KindOverCurrent, s.Current.GreaterThan(*l.CurrentMax), fmt.Sprintf("current %s A above %s A", s.Current.String(), l.CurrentMax.String()))
	}
	usage := func(kind string, limit *decimal.Decimal, start decimal.Decimal, inPeriod bool, what string) {
		if limit == nil {
			return
		}
		used := w.Energy.Sub(start)
		add(kind, inPeriod && used.GreaterThan(*limit), fmt.Sprintf("%s use %s kWh above %s kWh", what, used.StringFixed(2), limit.String()))
	}
	usage(KindDailyLimit, l.DailyKWh, w.DayStart, true, "daily")
	usage(KindMonthlyLimit, l.MonthlyKWh, w.MonthStart, true, "monthly")
	usage(KindNightLimit, l.NightKWh, w.NightStart, w.Night != "", "night-time")
	add(KindOverloadTrip, s.StatusFlags&flagOverloadTrip != 0, "the meter tripped on overload")
	add(KindMalignantTrip, s.StatusFlags&flagMalignantTrip != 0, "the meter tripped on a malignant load")
	return out
}

// ActiveAccount is whether a meter with these flags and mode is expected to
// use energy: not cut off for arrears, not forced off (mode 2).
func ActiveAccount(hasOpenAccount bool, statusFlags, mode int) bool {
	return hasOpenAccount && statusFlags&flagArrearsTrip == 0 && mode != 2
}
