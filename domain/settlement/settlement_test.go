package settlement_test

import (
	"testing"
	"time"

	settlementdom "github.com/voltflow/voltflow/domain/settlement"
)

func TestPeriodAndDue(t *testing.T) {
	cst := settlementdom.China
	for _, c := range []struct {
		day      string
		month    string
		from, to time.Time
	}{
		{"last", "2026-11", time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst)},
		{"15", "2026-11", time.Date(2026, 10, 16, 0, 0, 0, 0, cst), time.Date(2026, 11, 16, 0, 0, 0, 0, cst)},
		{"28", "2027-03", time.Date(2027, 2, 1, 0, 0, 0, 0, cst).AddDate(0, 0, 28), time.Date(2027, 3, 29, 0, 0, 0, 0, cst)},
		{"1", "2027-01", time.Date(2026, 12, 2, 0, 0, 0, 0, cst), time.Date(2027, 1, 2, 0, 0, 0, 0, cst)},
	} {
		d, err := settlementdom.ParseDay(c.day)
		if err != nil {
			t.Fatal(err)
		}
		m, err := settlementdom.ParseMonth(c.month)
		if err != nil {
			t.Fatal(err)
		}
		from, to := d.Period(m)
		if !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("day %s month %s: %v–%v, want %v–%v", c.day, c.month, from, to, c.from, c.to)
		}
		// A run just after the close settles the month; just before, the one before.
		if got := d.Due(to.Add(5 * time.Minute)); got != m {
			t.Errorf("day %s: due at %v = %v, want %v", c.day, to, got, m)
		}
		if got := d.Due(to.Add(-time.Second)); got != m.Prev() {
			t.Errorf("day %s: due before %v = %v, want %v", c.day, to, got, m.Prev())
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"0", "29", "31", "01", "", "Last", "x"} {
		if _, err := settlementdom.ParseDay(s); err == nil {
			t.Errorf("ParseDay(%q) accepted", s)
		}
	}
	for _, s := range []string{"2026-13", "2026-1", "26-01", ""} {
		if _, err := settlementdom.ParseMonth(s); err == nil {
			t.Errorf("ParseMonth(%q) accepted", s)
		}
	}
}
