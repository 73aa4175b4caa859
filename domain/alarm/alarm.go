// Package alarm holds the rules of meter alarms (报警): the low-balance
// thresholds of the staged mode, quiet hours, and the reading a meter
// reports. No I/O: the workflow in workflows/alarm applies these.
package alarm

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
)

// Mode of the low-balance alarm (seed 002 offers both).
type Mode string

const (
	// Staged sends one SMS at the alarm amount, one at each further ratio of
	// it (50 %, 20 % by default), and an arrears notice at zero.
	Staged Mode = "staged"
	// Daily sends one SMS a day until the meter is recharged.
	Daily Mode = "daily"
)

// Stage names, as recorded with every SMS and in the alarm's history.
const (
	StageArrears  = "arrears"           // remaining ≤ 0: cut-off notice, never waits for quiet hours
	StageRecharge = "recharge_received" // the alarm resolved by a recharge (seed 004)
)

// LowStage is the name of the i-th staged threshold (0-based): low_1, low_2, ...
func LowStage(i int) string { return fmt.Sprintf("low_%d", i+1) }

// DailyStage is the name of the n-th daily reminder (1-based).
func DailyStage(n int) string { return fmt.Sprintf("daily_%d", n) }

// DefaultRatios are seed 002's: at the alarm amount, at 50 % and at 20 % of it.
func DefaultRatios() []string { return []string{"1", "0.5", "0.2"} }

// Thresholds are the alarm amount times each ratio, rounded once to cents.
func Thresholds(alarmAmount money.Amount, ratios []string) ([]money.Amount, error) {
	out := make([]money.Amount, 0, len(ratios))
	for _, r := range ratios {
		d, err := decimal.NewFromString(r)
		if err != nil || d.Sign() <= 0 || d.GreaterThan(decimal.NewFromInt(1)) {
			return nil, fmt.Errorf("alarm ratio %q: want a number in (0, 1]", r)
		}
		out = append(out, money.Round(alarmAmount.Decimal().Mul(d)))
	}
	return out, nil
}

// Deepest is the index of the lowest threshold remaining has reached, or -1.
// Thresholds are in falling order.
func Deepest(remaining money.Amount, thresholds []money.Amount) int {
	deepest := -1
	for i, th := range thresholds {
		if remaining.Cmp(th) <= 0 {
			deepest = i
		}
	}
	return deepest
}

// Quiet hours: non-urgent SMS wait until they end. Minutes after local
// midnight; the zone is a fixed offset (China keeps no daylight saving).
type Quiet struct {
	Start         int `json:"start"`
	End           int `json:"end"`
	OffsetMinutes int `json:"offsetMinutes"`
}

// Until returns when a message may go out that is due at t: t itself
// outside quiet hours, else the end of the quiet period.
func (q Quiet) Until(t time.Time) time.Time {
	if q.Start == q.End {
		return t
	}
	loc := time.FixedZone("alarm", q.OffsetMinutes*60)
	lt := t.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	m := lt.Hour()*60 + lt.Minute()
	inQuiet := func(m int) bool {
		if q.Start < q.End {
			return m >= q.Start && m < q.End
		}
		return m >= q.Start || m < q.End // across midnight, e.g. 22:00–08:00
	}
	if !inQuiet(m) {
		return t
	}
	end := midnight.Add(time.Duration(q.End) * time.Minute)
	if !end.After(lt) {
		end = end.Add(24 * time.Hour)
	}
	return end.UTC()
}

// Observation is a meter's fresh state as whoever read it reports it.
type Observation struct {
	MeterID   string
	Remaining money.Amount
	At        time.Time
	// Recharged: the state right after a recharge reached the meter.
	Recharged bool
}
