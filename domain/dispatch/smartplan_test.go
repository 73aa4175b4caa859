package dispatch

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestSmartPlanDefaults(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Cadence
		want Cadence
	}{
		{"unset", Cadence{}, Cadence{Replan: 15 * time.Minute, Horizon: 24 * time.Hour}},
		{"negative", Cadence{Replan: -time.Minute, Horizon: -time.Hour}, Cadence{Replan: 15 * time.Minute, Horizon: 24 * time.Hour}},
		{"set", Cadence{Replan: 5 * time.Minute, Horizon: 48 * time.Hour}, Cadence{Replan: 5 * time.Minute, Horizon: 48 * time.Hour}},
	} {
		if got := c.in.WithDefaults(); got != c.want {
			t.Errorf("%s: cadence %+v, want %+v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		in   Model
		want Model
	}{
		{"unknown vehicle", Model{}, Model{BatteryKWh: 300, MaxKW: 120}},
		{"only the battery known", Model{BatteryKWh: 80, TargetSOC: 90}, Model{BatteryKWh: 80, MaxKW: 120, TargetSOC: 90}},
		{"known", Model{BatteryKWh: 80, MaxKW: 60, TaperSOC: 80}, Model{BatteryKWh: 80, MaxKW: 60, TaperSOC: 80}},
	} {
		if got := c.in.WithDefaults(); got != c.want {
			t.Errorf("%s: model %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestPluggedIn(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	m := Model{BatteryKWh: 300, MaxKW: 120, TargetSOC: 90, TaperSOC: 80}
	soc := func(n int) *int { return &n }
	for _, c := range []struct {
		name      string
		soc       *int
		departure time.Time
		wantSOC   float64
		wantDep   time.Time
	}{
		{"no meter value yet: a returning bus", nil, time.Time{}, 20, time.Time{}},
		{"reported", soc(55), now.Add(time.Hour), 55, now.Add(time.Hour)},
		{"departure now: charge with what is left", soc(40), now, 40, time.Time{}},
		{"past its departure", soc(40), now.Add(-time.Minute), 40, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := PluggedIn("cp1#1", m, c.soc, c.departure, now)
			want := Vehicle{Connector: "cp1#1", SOC: c.wantSOC, TargetSOC: 90, BatteryKWh: 300, MaxKW: 120, Departure: c.wantDep, TaperSOC: 80}
			if got != want {
				t.Fatalf("vehicle %+v, want %+v", got, want)
			}
		})
	}
}

func TestSiteLimits(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	start := now.Add(-time.Second)
	for _, c := range []struct {
		name    string
		changes []LimitStep
		steps   []LimitStep
		kw      float64
		later   []LimitStep
	}{
		{"no changes", nil, []LimitStep{{start, 400}}, 400, nil},
		{"a change due now replaces the limit", []LimitStep{{now, 300}}, []LimitStep{{start, 300}}, 300, nil},
		{"due changes apply in order", []LimitStep{{now.Add(-time.Hour), 250}, {now.Add(-time.Minute), 350}},
			[]LimitStep{{start, 350}}, 350, nil},
		{"a later change is a step", []LimitStep{{now.Add(-time.Minute), 350}, {now.Add(time.Hour), 200}},
			[]LimitStep{{start, 350}, {now.Add(time.Hour), 200}}, 350, []LimitStep{{now.Add(time.Hour), 200}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps, kw, later := SiteLimits(now, 400, c.changes)
			if !reflect.DeepEqual(steps, c.steps) || kw != c.kw || !reflect.DeepEqual(later, c.later) {
				t.Fatalf("steps %v kw %v later %v, want %v %v %v", steps, kw, later, c.steps, c.kw, c.later)
			}
		})
	}
}

func TestPlanLocation(t *testing.T) {
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for name, want := range map[string]int{"": 8 * 3600, "Nowhere/Land": 8 * 3600, "UTC": 0} {
		if _, off := at.In(PlanLocation(name)).Zone(); off != want {
			t.Errorf("PlanLocation(%q) offset %d, want %d", name, off, want)
		}
	}
}

func TestEqualShareKeepsTheLimit(t *testing.T) {
	vs := []Vehicle{{Connector: "a", MaxKW: 50}, {Connector: "b", MaxKW: 200}, {Connector: "c", MaxKW: 200}}
	for _, c := range []struct {
		name string
		site float64
		vs   []Vehicle
		want map[string]float64
	}{
		{"none plugged in", 300, nil, map[string]float64{}},
		{"shared, each at most its maximum", 300, vs, map[string]float64{"a": 50, "b": 100, "c": 100}},
		{"a negative limit gives nothing", -10, vs[:1], map[string]float64{"a": 0}},
	} {
		if got := EqualShare(c.site, c.vs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLimitChanges(t *testing.T) {
	keys := []string{"a", "b", "c"}
	for _, c := range []struct {
		name          string
		want, applied map[string]float64
		belowOnly     bool
		lower, raise  []LimitChange
	}{
		{"first plan: every limit is sent, as lowered", map[string]float64{"a": 10.06, "b": 0}, map[string]float64{}, true,
			[]LimitChange{{"a", 10}, {"b", 0}, {"c", 0}}, nil},
		{"a small fall is sent, a small rise waits", map[string]float64{"a": 99.8, "b": 100.3, "c": 100}, map[string]float64{"a": 100, "b": 100, "c": 100}, true,
			[]LimitChange{{"a", 99.8}}, nil},
		{"without belowOnly a small fall waits too", map[string]float64{"a": 99.8, "b": 100.3, "c": 100}, map[string]float64{"a": 100, "b": 100, "c": 100}, false,
			nil, nil},
		{"large moves", map[string]float64{"a": 50, "b": 150, "c": 100}, map[string]float64{"a": 100, "b": 100, "c": 100}, true,
			[]LimitChange{{"a", 50}}, []LimitChange{{"b", 150}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lower, raise := LimitChanges(keys, c.want, c.applied, c.belowOnly)
			if !reflect.DeepEqual(lower, c.lower) || !reflect.DeepEqual(raise, c.raise) {
				t.Fatalf("lower %v raise %v, want %v %v", lower, raise, c.lower, c.raise)
			}
		})
	}
}

func TestPlanRequestLimits(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		ok   func(float64) bool
		good []float64
		bad  []float64
	}{
		{"command power", func(kw float64) bool { return ValidPower(kw, MaxCommandKW) }, []float64{0, 7.4, 10_000}, []float64{-0.1, 10_000.1, nan, inf}},
		{"site limit", func(kw float64) bool { return ValidPower(kw, MaxSiteLimitKW) }, []float64{0, 100_000}, []float64{-1, 100_001, nan}},
		{"state of charge", ValidSOC, []float64{0, 50, 100}, []float64{-1, 100.5, nan}},
		{"battery", ValidBattery, []float64{0.1, 300, 5000}, []float64{0, -1, 5000.1, nan, inf}},
		{"vehicle power", ValidVehiclePower, []float64{0.1, 2000}, []float64{0, 2000.1, nan}},
		{"clock factor", ValidClockFactor, []float64{1, 60, 10_000}, []float64{0.5, 10_001, nan}},
	} {
		for _, v := range c.good {
			if !c.ok(v) {
				t.Errorf("%s %v refused", c.name, v)
			}
		}
		for _, v := range c.bad {
			if c.ok(v) {
				t.Errorf("%s %v accepted", c.name, v)
			}
		}
	}
}
