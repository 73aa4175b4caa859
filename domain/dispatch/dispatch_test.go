package dispatch

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var (
	day0   = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	at     = func(h, m int) time.Time { return day0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	valley = []TOUPeriod{
		{Start: 23 * time.Hour, End: 7 * time.Hour, Kind: Valley},
		{Start: 7 * time.Hour, End: 10 * time.Hour, Kind: Flat},
		{Start: 10 * time.Hour, End: 12 * time.Hour, Kind: Peak},
		{Start: 12 * time.Hour, End: 18 * time.Hour, Kind: Flat},
		{Start: 18 * time.Hour, End: 21 * time.Hour, Kind: Sharp},
		{Start: 21 * time.Hour, End: 23 * time.Hour, Kind: Peak},
	}
)

// checkInvariants asserts what every plan must satisfy whatever the input.
func checkInvariants(t *testing.T, in Input, p Plan) {
	t.Helper()
	byConn := map[string]Vehicle{}
	for _, v := range in.Vehicles {
		byConn[v.Connector] = v
	}
	energy := map[string]float64{}
	for _, s := range p.Slots {
		if tot := s.TotalKW(); tot > s.LimitKW+0.01 {
			t.Errorf("slot %s: total %.3f kW over the site limit %.3f kW", s.Start.Format("15:04"), tot, s.LimitKW)
		}
		if want := PeriodAt(in.TOU, s.Start, time.UTC); s.Period != want {
			t.Errorf("slot %s: period %s, want %s", s.Start.Format("15:04"), s.Period, want)
		}
		for c, kw := range s.PowerKW {
			v := byConn[c]
			if kw > v.MaxKW+0.01 || kw < 0 {
				t.Errorf("slot %s: %s at %.3f kW (max %.0f)", s.Start.Format("15:04"), c, kw, v.MaxKW)
			}
			if kw > 0 && !v.Departure.IsZero() && !s.Start.Before(v.Departure) {
				t.Errorf("slot %s: %s charged after its departure %s", s.Start.Format("15:04"), c, v.Departure.Format("15:04"))
			}
			energy[c] += kw * s.End.Sub(s.Start).Hours()
		}
	}
	for c, e := range energy {
		if e > byConn[c].PlanKWh()+0.01 {
			t.Errorf("%s: planned %.3f kWh, needs only %.3f", c, e, byConn[c].PlanKWh())
		}
		if math.Abs(e-p.EnergyKWh[c]) > 0.05 {
			t.Errorf("%s: slots sum to %.3f kWh, plan says %.3f", c, e, p.EnergyKWh[c])
		}
	}
}

func energyIn(p Plan, c string, period Period) float64 {
	var e float64
	for _, s := range p.Slots {
		if s.Period == period {
			e += s.PowerKW[c] * s.End.Sub(s.Start).Hours()
		}
	}
	return e
}

func TestMake(t *testing.T) {
	fleet := func(n int, soc float64, dep time.Time) []Vehicle {
		vs := make([]Vehicle, n)
		for i := range vs {
			vs[i] = Vehicle{Connector: fmt.Sprintf("c%02d", i+1), SOC: soc, BatteryKWh: 300, MaxKW: 120, Departure: dep}
		}
		return vs
	}
	cases := []struct {
		name  string
		in    Input
		check func(t *testing.T, p Plan)
	}{
		{
			name: "one bus charges only in the valley",
			in: Input{Now: at(18, 0), TOU: valley, SiteLimit: []LimitStep{{at(0, 0), 480}},
				Vehicles: []Vehicle{{Connector: "c1", SOC: 20, BatteryKWh: 300, MaxKW: 120, Departure: at(31, 0)}}},
			check: func(t *testing.T, p Plan) {
				if e := energyIn(p, "c1", Valley); math.Abs(e-240) > 0.01 {
					t.Errorf("valley energy %.3f, want 240 kWh", e)
				}
				if len(p.Unmet) != 0 {
					t.Errorf("unmet %+v", p.Unmet)
				}
			},
		},
		{
			name: "ten buses on a 480 kW cabinet are all full by 07:00",
			in: Input{Now: at(21, 0), TOU: valley, SiteLimit: []LimitStep{{at(0, 0), 480}},
				Vehicles: fleet(10, 10, at(31, 0))},
			check: func(t *testing.T, p Plan) {
				if len(p.Unmet) != 0 {
					t.Errorf("unmet %+v", p.Unmet)
				}
				var valleyE float64
				for c, e := range p.EnergyKWh {
					if math.Abs(e-270) > 0.01 {
						t.Errorf("%s planned %.3f kWh, want 270", c, e)
					}
					valleyE += energyIn(p, c, Valley)
				}
				// 2700 kWh needed, the valley holds 8 h × 480 kW = 3840: all of it fits there.
				if math.Abs(valleyE-2700) > 0.1 {
					t.Errorf("valley energy %.3f, want 2700", valleyE)
				}
			},
		},
		{
			name: "a bus that cannot be full says why",
			in: Input{Now: at(2, 0), TOU: valley, SiteLimit: []LimitStep{{at(0, 0), 480}},
				Vehicles: []Vehicle{{Connector: "c1", SOC: 40, BatteryKWh: 300, MaxKW: 30, Departure: at(7, 0)}}},
			check: func(t *testing.T, p Plan) {
				if len(p.Unmet) != 1 {
					t.Fatalf("unmet %+v, want one", p.Unmet)
				}
				u := p.Unmet[0]
				if !strings.HasPrefix(u.Reason, "needs 180.0 kWh by 07:00, at most 150.0 kWh deliverable") || !strings.Contains(u.Reason, "vehicle max 30 kW") {
					t.Errorf("reason %q", u.Reason)
				}
				if u.PlannedKWh != 150 {
					t.Errorf("planned %.3f, want 150 (it still gets all it can)", u.PlannedKWh)
				}
			},
		},
		{
			name: "earliest deadline first under a shared limit",
			in: Input{Now: at(0, 0), SiteLimit: []LimitStep{{at(0, 0), 100}},
				Vehicles: []Vehicle{
					{Connector: "late", SOC: 0, BatteryKWh: 100, MaxKW: 100, Departure: at(2, 0)},
					{Connector: "early", SOC: 0, BatteryKWh: 100, MaxKW: 100, Departure: at(1, 0)},
				}},
			check: func(t *testing.T, p Plan) {
				if len(p.Unmet) != 0 {
					t.Errorf("unmet %+v", p.Unmet)
				}
				if kw := p.At(at(0, 30))["early"]; math.Abs(kw-100) > 0.01 {
					t.Errorf("early at 00:30: %.3f kW, want 100", kw)
				}
			},
		},
		{
			name: "site limit shared: the later departure is reported",
			in: Input{Now: at(0, 0), SiteLimit: []LimitStep{{at(0, 0), 100}},
				Vehicles: []Vehicle{
					{Connector: "a", SOC: 0, BatteryKWh: 100, MaxKW: 100, Departure: at(1, 0)},
					{Connector: "b", SOC: 0, BatteryKWh: 100, MaxKW: 100, Departure: at(1, 30)},
				}},
			check: func(t *testing.T, p Plan) {
				var total float64
				for _, e := range p.EnergyKWh {
					total += e
				}
				if math.Abs(total-150) > 0.01 {
					t.Errorf("total %.3f kWh, want 150 (100 kW × 1.5 h)", total)
				}
				if len(p.Unmet) != 1 || !strings.Contains(p.Unmet[0].Reason, "site limit") {
					t.Errorf("unmet %+v, want one for the shared limit", p.Unmet)
				}
			},
		},
		{
			name: "a lowered limit from 01:00 is respected and rescheduled",
			in: Input{Now: at(0, 0), TOU: valley,
				SiteLimit: []LimitStep{{at(0, 0), 480}, {at(1, 0), 120}},
				Vehicles:  fleet(4, 50, at(6, 0))},
			check: func(t *testing.T, p Plan) {
				if len(p.Unmet) != 0 {
					t.Errorf("unmet %+v", p.Unmet) // 600 kWh: 480 in the first hour + 5 h × 120
				}
				if tot := p.Slots[len(p.Slots)-1].LimitKW; tot != 120 {
					t.Errorf("last slot limit %.0f, want 120", tot)
				}
			},
		},
		{
			name: "departures first, a car without one gets what is left",
			in: Input{Now: at(23, 0), TOU: valley, Horizon: 8 * time.Hour, SiteLimit: []LimitStep{{at(0, 0), 100}},
				Vehicles: []Vehicle{
					{Connector: "free", SOC: 0, BatteryKWh: 1000, MaxKW: 100},
					{Connector: "bus", SOC: 0, BatteryKWh: 200, MaxKW: 100, Departure: at(25, 0)},
				}},
			check: func(t *testing.T, p Plan) {
				if p.EnergyKWh["bus"] != 200 {
					t.Errorf("bus %.3f kWh, want 200", p.EnergyKWh["bus"])
				}
				if p.EnergyKWh["free"] != 600 {
					t.Errorf("free %.3f kWh, want 600 (the 6 h after the bus)", p.EnergyKWh["free"])
				}
			},
		},
		{
			name: "taper reserve: the band above 80 % is planned twice",
			in: Input{Now: at(0, 0), SiteLimit: []LimitStep{{at(0, 0), 100}},
				Vehicles: []Vehicle{{Connector: "t", SOC: 60, BatteryKWh: 100, MaxKW: 50, TaperSOC: 80, Departure: at(1, 0)}}},
			check: func(t *testing.T, p Plan) {
				// needs 40 kWh, plans 60 (20 kWh above 80 % counted twice); 50 kWh fit in the hour
				if p.EnergyKWh["t"] != 50 || len(p.Unmet) != 1 || p.Unmet[0].NeedKWh != 40 ||
					!strings.HasPrefix(p.Unmet[0].Reason, "needs 40.0 kWh by 01:00 (60.0 kWh at full power with its taper above 80 %), at most 50.0 kWh") {
					t.Errorf("energy %v unmet %+v", p.EnergyKWh, p.Unmet)
				}
			},
		},
		{
			name: "target SOC below full and a full vehicle",
			in: Input{Now: at(8, 0), TOU: valley, SiteLimit: []LimitStep{{at(0, 0), 50}},
				Vehicles: []Vehicle{
					{Connector: "a", SOC: 50, TargetSOC: 80, BatteryKWh: 100, MaxKW: 50, Departure: at(9, 0)},
					{Connector: "full", SOC: 100, BatteryKWh: 100, MaxKW: 50, Departure: at(9, 0)},
				}},
			check: func(t *testing.T, p Plan) {
				if p.EnergyKWh["a"] != 30 || p.EnergyKWh["full"] != 0 || len(p.Unmet) != 0 {
					t.Errorf("energy %v unmet %+v", p.EnergyKWh, p.Unmet)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Make(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, tc.in, p)
			tc.check(t, p)
		})
	}
}

func TestMakeBadInput(t *testing.T) {
	ok := Vehicle{Connector: "c", SOC: 10, BatteryKWh: 100, MaxKW: 50}
	cases := []struct {
		name string
		in   Input
		want error
	}{
		{"no limit yet", Input{Now: at(1, 0), SiteLimit: []LimitStep{{at(2, 0), 100}}}, ErrNoLimit},
		{"negative limit", Input{Now: at(1, 0), SiteLimit: []LimitStep{{at(0, 0), -1}}}, ErrBadInput},
		{"repeated connector", Input{Now: at(1, 0), SiteLimit: []LimitStep{{at(0, 0), 100}}, Vehicles: []Vehicle{ok, ok}}, ErrBadInput},
		{"SOC over 100", Input{Now: at(1, 0), SiteLimit: []LimitStep{{at(0, 0), 100}}, Vehicles: []Vehicle{{Connector: "c", SOC: 120, BatteryKWh: 1}}}, ErrBadInput},
		{"no battery", Input{Now: at(1, 0), SiteLimit: []LimitStep{{at(0, 0), 100}}, Vehicles: []Vehicle{{Connector: "c"}}}, ErrBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Make(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPeriodsAndBoundaries(t *testing.T) {
	cases := []struct {
		t        time.Time
		period   Period
		boundary time.Time
	}{
		{at(23, 30), Valley, at(31, 0)},
		{at(3, 0), Valley, at(7, 0)},
		{at(7, 0), Flat, at(10, 0)},
		{at(19, 0), Sharp, at(21, 0)},
		{at(22, 59), Peak, at(23, 0)},
	}
	for _, tc := range cases {
		if got := PeriodAt(valley, tc.t, time.UTC); got != tc.period {
			t.Errorf("PeriodAt(%s) = %s, want %s", tc.t.Format("15:04"), got, tc.period)
		}
		if got := NextBoundary(valley, tc.t, time.UTC); !got.Equal(tc.boundary) {
			t.Errorf("NextBoundary(%s) = %s, want %s", tc.t.Format("15:04"), got, tc.boundary)
		}
	}
	if PeriodAt(nil, at(3, 0), time.UTC) != Flat || !NextBoundary(nil, at(3, 0), time.UTC).IsZero() {
		t.Error("no TOU periods: want flat and no boundary")
	}
}
