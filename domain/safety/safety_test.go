package safety

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestCheck(t *testing.T) {
	eight := decimal.RequireFromString("8")
	l := Limits{MaxLoadKW: &eight, UTCOffsetMinutes: 480,
		TOU: []Window{{From: "23:00", To: "06:00", KW: decimal.RequireFromString("2.5")}}}
	day := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)    // 12:00 local
	night := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC) // 00:00 local
	for _, c := range []struct {
		name   string
		r      Reading
		reason string
	}{
		{"under max load by day", Reading{PowerW: 8000, At: day}, ""},
		{"over max load", Reading{PowerW: 8001, At: day}, ReasonMaxLoad},
		{"over the night limit", Reading{PowerW: 2501, At: night}, ReasonTOU},
		{"at the night limit", Reading{PowerW: 2500, At: night}, ""},
		{"meter's own overload trip", Reading{Status: 1 << 3, At: day}, ReasonMeterOverload},
		{"meter's own malignant-load trip", Reading{Status: 1 << 4, At: day}, ReasonMalignant},
	} {
		t.Run(c.name, func(t *testing.T) {
			reason, trip := Check(l, c.r)
			if reason != c.reason || trip != (c.reason != "") {
				t.Fatalf("Check = %q %v, want %q", reason, trip, c.reason)
			}
		})
	}
	if _, trip := Check(Limits{}, Reading{PowerW: 30000, At: day}); trip {
		t.Error("no limits: a trip")
	}
}

func TestAfterTripAndValidate(t *testing.T) {
	for trips, want := range map[int]Status{1: Tripped, 2: Tripped, 3: LockedOut} {
		if got := AfterTrip(trips, 2); got != want {
			t.Errorf("trip %d of 2 allowed: %s, want %s", trips, got, want)
		}
	}
	if OffFor(60) != 3*time.Second || OffFor(0) != 3*time.Minute {
		t.Errorf("OffFor: %v %v", OffFor(60), OffFor(0))
	}
	neg := decimal.RequireFromString("-1")
	for _, bad := range []Limits{{MaxLoadKW: &neg}, {AllowedTrips: -1}, {TOU: []Window{{From: "8", To: "9:00", KW: decimal.NewFromInt(1)}}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
