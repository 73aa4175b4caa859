package dispatch

import (
	"sort"
	"time"

	"github.com/voltflow/voltflow/domain/tariff"
)

// TOUFromSchedule turns a pricing schedule (尖峰平谷 segments, each running
// until the next one starts, the last until the first of the next day) into
// planner periods. shiftMinutes moves the schedule to the plan's zone (the
// schedule's UTC offset minus the plan zone's, e.g. 0 for CST in CST).
func TOUFromSchedule(segs []tariff.Segment, shiftMinutes int) []TOUPeriod {
	if len(segs) == 0 {
		return nil
	}
	s := append([]tariff.Segment(nil), segs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].StartMinute < s[j].StartMinute })
	const day = 24 * 60
	at := func(m int) time.Duration { return time.Duration(((m-shiftMinutes)%day+day)%day) * time.Minute }
	out := make([]TOUPeriod, 0, len(s))
	for i, seg := range s {
		end := s[0].StartMinute + day
		if i+1 < len(s) {
			end = s[i+1].StartMinute
		}
		if end == seg.StartMinute {
			continue
		}
		out = append(out, TOUPeriod{Start: at(seg.StartMinute), End: at(end), Kind: Period(seg.Period)})
	}
	if len(out) == 1 { // one period all day: Start == End would read as empty
		out[0].Start, out[0].End = 0, 24*time.Hour
	}
	return out
}
