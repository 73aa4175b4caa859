package dispatch

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/tariff"
)

func TestTOUFromSchedule(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	demo := []tariff.Segment{ // out of order on purpose
		{StartMinute: 23 * 60, Period: tariff.Valley}, {StartMinute: 0, Period: tariff.Valley},
		{StartMinute: 8 * 60, Period: tariff.Flat}, {StartMinute: 11 * 60, Period: tariff.Peak},
		{StartMinute: 14 * 60, Period: tariff.Flat}, {StartMinute: 19 * 60, Period: tariff.Sharp},
		{StartMinute: 21 * 60, Period: tariff.Peak},
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, cst)
	for _, tc := range []struct {
		name  string
		segs  []tariff.Segment
		shift int
		at    string
		want  Period
	}{
		{"night valley", demo, 0, "02:00", Valley},
		{"late valley", demo, 0, "23:30", Valley},
		{"flat morning", demo, 0, "10:59", Flat},
		{"peak at 11", demo, 0, "11:00", Peak},
		{"sharp evening", demo, 0, "20:00", Sharp},
		{"peak till 23", demo, 0, "22:59", Peak},
		{"one period all day", []tariff.Segment{{StartMinute: 0, Period: tariff.Peak}}, 0, "13:00", Peak},
		{"UTC+9 schedule in CST", []tariff.Segment{{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 8 * 60, Period: tariff.Peak}}, 60, "07:00", Peak},
		{"UTC+9 schedule in CST, before", []tariff.Segment{{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 8 * 60, Period: tariff.Peak}}, 60, "06:59", Valley},
		{"UTC+9 peak till 23:00 CST", []tariff.Segment{{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 8 * 60, Period: tariff.Peak}}, 60, "22:59", Peak},
		{"UTC+9 valley in CST", []tariff.Segment{{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 8 * 60, Period: tariff.Peak}}, 60, "23:30", Valley},
	} {
		hm, _ := time.Parse("15:04", tc.at)
		at := day.Add(time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute)
		if got := PeriodAt(TOUFromSchedule(tc.segs, tc.shift), at, cst); got != tc.want {
			t.Errorf("%s: %s is %s, want %s", tc.name, tc.at, got, tc.want)
		}
	}
	if TOUFromSchedule(nil, 0) != nil {
		t.Error("no schedule should give no periods")
	}
}
