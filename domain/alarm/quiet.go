package alarm

import (
	"errors"
	"fmt"
	"time"
)

// QuietHours are a project's quiet hours as an operator writes them: local
// clock times "HH:MM". From after To runs across midnight (22:00–07:00);
// From equal to To means no quiet hours.
type QuietHours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ErrQuietHours: a quiet-hours bound is not a clock time.
var ErrQuietHours = errors.New(`quiet hours: "from" and "to" must be clock times "HH:MM" (00:00–23:59)`)

// Quiet is the rule these hours set, in the zone offset given (minutes
// east of UTC).
func (h QuietHours) Quiet(offsetMinutes int) (Quiet, error) {
	from, err := clockMinutes(h.From)
	if err != nil {
		return Quiet{}, err
	}
	to, err := clockMinutes(h.To)
	if err != nil {
		return Quiet{}, err
	}
	return Quiet{Start: from, End: to, OffsetMinutes: offsetMinutes}, nil
}

// Hours is the rule written as clock times.
func (q Quiet) Hours() QuietHours {
	clock := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	return QuietHours{From: clock(q.Start), To: clock(q.End)}
}

func clockMinutes(s string) (int, error) {
	// Exactly HH:MM: time.Parse alone would also take "7:00".
	if len(s) != 5 {
		return 0, fmt.Errorf("%w: %q", ErrQuietHours, s)
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrQuietHours, s)
	}
	return t.Hour()*60 + t.Minute(), nil
}
