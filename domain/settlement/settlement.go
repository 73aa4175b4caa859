// Package settlement holds the rules of the month-end settlement day
// (月底结算日, issue 20 §8): which moment closes a project's month, and
// which month a run on a given day settles. Pure: no I/O.
//
// A settlement day d (1–28) closes month YYYY-MM at the end of day d of
// that month, China time; "last" closes it at the end of the calendar
// month. A month's period runs from the previous month's close to its own:
// with day 15, 2026-11 is 2026-10-16 00:00 to 2026-11-16 00:00 (CST).
package settlement

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Last is the settlement day "end of the calendar month".
const Last Day = "last"

// Day is a project's settlement day: "1".."28" or "last".
type Day string

// ErrDay and ErrMonth are the parse errors.
var (
	ErrDay   = errors.New(`settlement day must be 1 to 28 or "last"`)
	ErrMonth = errors.New("month must be YYYY-MM")
)

// China is the wall clock settlement days are counted in (no DST).
var China = time.FixedZone("CST", 8*60*60)

// ParseDay checks a settlement day.
func ParseDay(s string) (Day, error) {
	if Day(s) == Last {
		return Last, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 28 || strconv.Itoa(n) != s {
		return "", ErrDay
	}
	return Day(s), nil
}

// N is the day of month, 0 for "last".
func (d Day) N() int {
	n, _ := strconv.Atoi(string(d))
	return n
}

// Month is a settlement month.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Format("2006-01") != s {
		return Month{}, ErrMonth
	}
	return Month{t.Year(), t.Month()}, nil
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Prev is the month before.
func (m Month) Prev() Month {
	t := time.Date(m.Year, m.Month-1, 1, 0, 0, 0, 0, time.UTC)
	return Month{t.Year(), t.Month()}
}

// Next is the month after.
func (m Month) Next() Month {
	t := time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, time.UTC)
	return Month{t.Year(), t.Month()}
}

// End is the moment month m closes under day d.
func (d Day) End(m Month) time.Time {
	if d == Last || d.N() == 0 {
		return time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, China)
	}
	return time.Date(m.Year, m.Month, d.N()+1, 0, 0, 0, 0, China)
}

// Period is month m's span [from, to) under day d.
func (d Day) Period(m Month) (from, to time.Time) {
	return d.End(m.Prev()), d.End(m)
}

// Due is the latest month closed at or before at: what a scheduled run at
// that moment settles (also when it runs late).
func (d Day) Due(at time.Time) Month {
	local := at.In(China)
	m := Month{local.Year(), local.Month()}
	for d.End(m).After(at) {
		m = m.Prev()
	}
	return m
}
