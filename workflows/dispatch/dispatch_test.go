package dispatch

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	chargercmdacts "github.com/voltflow/voltflow/activities/chargercmd"
	dispatchacts "github.com/voltflow/voltflow/activities/dispatch"
	dispatchdom "github.com/voltflow/voltflow/domain/dispatch"
)

const cp = "4403000000000000000001"

var cst = time.FixedZone("CST", 8*3600)

// fakeChargers records commands as a charger would apply them.
type fakeChargers struct {
	mu      sync.Mutex
	limits  map[int]float64 // connector → kW
	maxSum  float64
	log     []string
	active  []dispatchacts.Active
	started map[int]bool
}

func (f *fakeChargers) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivity(&chargercmdacts.Activities{})
	env.RegisterActivity(&dispatchacts.Activities{})
	env.OnActivity("Start", mock.Anything, mock.Anything).Return(func(_ context.Context, in chargercmdacts.Start) (chargercmdacts.Result, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.started[in.Connector] = true
		f.log = append(f.log, "start "+itoa(in.Connector))
		return chargercmdacts.Result{CommandID: 1, Status: "Accepted"}, nil
	})
	env.OnActivity("Stop", mock.Anything, mock.Anything).Return(func(_ context.Context, in chargercmdacts.Stop) (chargercmdacts.Result, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.started, in.Connector)
		f.log = append(f.log, "stop "+itoa(in.Connector))
		return chargercmdacts.Result{CommandID: 2, Status: "Accepted"}, nil
	})
	env.OnActivity("SetLimit", mock.Anything, mock.Anything).Return(func(_ context.Context, in chargercmdacts.Limit) (chargercmdacts.Result, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.limits[in.Connector] = in.LimitW / 1000
		var sum float64
		for c, kw := range f.limits {
			if f.isActive(c) {
				sum += kw
			}
		}
		f.maxSum = math.Max(f.maxSum, sum)
		return chargercmdacts.Result{CommandID: 3, Status: "Accepted"}, nil
	})
	env.OnActivity("ClearLimit", mock.Anything, mock.Anything).Return(func(_ context.Context, in chargercmdacts.Release) (chargercmdacts.Result, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.limits, in.Connector)
		f.log = append(f.log, "release "+itoa(in.Connector))
		return chargercmdacts.Result{CommandID: 4, Status: "Accepted"}, nil
	})
	env.OnActivity("DispatchSnapshot", mock.Anything, mock.Anything).Return(func(_ context.Context, in dispatchacts.SnapshotInput) ([]dispatchacts.Active, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := append([]dispatchacts.Active(nil), f.active...)
		for c := range f.started {
			out = append(out, dispatchacts.Active{Target: dispatchacts.Target{ChargePointID: cp, Connector: c}, TransactionID: 100 + c})
		}
		return out, nil
	})
}

func (f *fakeChargers) isActive(c int) bool {
	for _, a := range f.active {
		if a.Connector == c {
			return true
		}
	}
	return false
}

func TestTimedTonight(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 11, 23, 20, 0, 0, 0, cst))
	f := &fakeChargers{limits: map[int]float64{}, started: map[int]bool{}}
	f.register(env)
	env.RegisterWorkflowWithOptions(TimedWorkflow, regOpts(KindTimed))
	targets := []dispatchacts.Target{{ChargePointID: cp, Connector: 1}, {ChargePointID: cp, Connector: 2}}
	epoch := time.Date(2026, 11, 23, 22, 0, 0, 0, cst)
	in := TimedInput{StationID: "s", PlanID: "tonight", Clock: Clock{Epoch: epoch, Factor: 3600},
		Actions: []TimedAction{
			{At: time.Date(2026, 11, 23, 23, 0, 0, 0, cst), Command: CmdStart, Targets: targets, IdTag: "BUS"},
			{At: time.Date(2026, 11, 24, 7, 0, 0, 0, cst), Command: CmdStop, Targets: targets},
		}}
	env.ExecuteWorkflow(KindTimed, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var outs []Outcome
	if err := env.GetWorkflowResult(&outs); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 4 {
		t.Fatalf("outcomes %+v, want 2 starts and 2 stops", outs)
	}
	for i, o := range outs {
		wantCmd, wantAt := CmdStart, in.Actions[0].At
		if i >= 2 {
			wantCmd, wantAt = CmdStop, in.Actions[1].At
		}
		if o.Command.Command != wantCmd || o.Status != "Accepted" || o.At.Sub(wantAt).Abs() > time.Minute {
			t.Errorf("outcome %d: %s %s at %s, want %s Accepted at %s", i, o.Command.Command, o.Status, o.At, wantCmd, wantAt)
		}
	}
	if len(f.started) != 0 {
		t.Errorf("still charging after 07:00: %v", f.started)
	}
}

func TestNextOccurrence(t *testing.T) {
	at := time.Date(2026, 11, 23, 23, 0, 0, 0, cst)
	cases := []struct {
		a    TimedAction
		now  time.Time
		want time.Time
	}{
		{TimedAction{At: at}, at, time.Time{}},
		{TimedAction{At: at, Every: 24 * time.Hour}, at, at.Add(24 * time.Hour)},
		{TimedAction{At: at, Every: 24 * time.Hour}, at.Add(50 * time.Hour), at.Add(72 * time.Hour)},
		{TimedAction{At: at, Every: 24 * time.Hour, Until: at.Add(30 * time.Hour)}, at.Add(25 * time.Hour), time.Time{}},
	}
	for i, tc := range cases {
		if got := next(tc.a, tc.now); !got.Equal(tc.want) {
			t.Errorf("case %d: next = %s, want %s", i, got, tc.want)
		}
	}
}

func TestSmartReplansOnLimit(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := time.Date(2026, 11, 23, 23, 0, 0, 0, cst)
	env.SetStartTime(start)
	soc := 40
	f := &fakeChargers{limits: map[int]float64{}, started: map[int]bool{}}
	for c := 1; c <= 4; c++ {
		f.active = append(f.active, dispatchacts.Active{Target: dispatchacts.Target{ChargePointID: cp, Connector: c}, TransactionID: c, SOC: &soc})
	}
	f.register(env)
	env.RegisterWorkflowWithOptions(SmartWorkflow, regOpts(KindSmart))
	var conns []dispatchacts.Target
	for c := 1; c <= 6; c++ {
		conns = append(conns, dispatchacts.Target{ChargePointID: cp, Connector: c})
	}
	in := SmartInput{StationID: "s", PlanID: "smart", SiteLimitKW: 300, Connectors: conns,
		TOU:     []dispatchdom.TOUPeriod{{Start: 23 * time.Hour, End: 7 * time.Hour, Kind: dispatchdom.Valley}},
		Default: Fleet{CapacityKWh: 300, MaxKW: 120}, Until: start.Add(3 * time.Hour), Location: "Asia/Shanghai"}
	var afterFirst, afterSignal PlanState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryPlan)
		if err != nil {
			t.Error(err)
			return
		}
		_ = v.Get(&afterFirst)
		env.SignalWorkflow(SignalSiteLimit, SiteLimit{KW: 100})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryPlan)
		if err != nil {
			t.Error(err)
			return
		}
		_ = v.Get(&afterSignal)
	}, 2*time.Minute)
	env.ExecuteWorkflow(KindSmart, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	sum := func(m map[string]float64) float64 {
		var s float64
		for _, v := range m {
			s += v
		}
		return s
	}
	if got := sum(afterFirst.LimitsKW); got < 299 || got > 300 {
		t.Errorf("first plan installs %.1f kW over the connectors, want the 300 kW site limit used: %v", got, afterFirst.LimitsKW)
	}
	if afterFirst.LimitsKW[key(conns[5])] != 0 {
		t.Errorf("idle connector 6 at %v kW, want 0", afterFirst.LimitsKW[key(conns[5])])
	}
	if got := sum(afterSignal.LimitsKW); got > 100 || got < 99 || afterSignal.SiteKW != 100 {
		t.Errorf("after lowering to 100 kW: %.1f kW installed (site %v)", got, afterSignal.SiteKW)
	}
	if afterSignal.Replans != afterFirst.Replans+1 {
		t.Errorf("replans %d → %d, want one re-plan for the signal", afterFirst.Replans, afterSignal.Replans)
	}
	if f.maxSum > 300.01 {
		t.Errorf("the installed limits summed to %.1f kW at some point, over 300", f.maxSum)
	}
}

func regOpts(name string) workflow.RegisterOptions { return workflow.RegisterOptions{Name: name} }

// A smart plan cancelled from the API (or reaching its end) releases every
// limit it installed: no idle connector stays held at 0 kW.
func TestSmartReleasesWhenCancelledOrDone(t *testing.T) {
	for _, cancelled := range []bool{true, false} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		start := time.Date(2026, 11, 23, 23, 0, 0, 0, cst)
		env.SetStartTime(start)
		soc := 40
		f := &fakeChargers{limits: map[int]float64{}, started: map[int]bool{}}
		f.active = []dispatchacts.Active{{Target: dispatchacts.Target{ChargePointID: cp, Connector: 1}, TransactionID: 1, SOC: &soc}}
		f.register(env)
		env.RegisterWorkflowWithOptions(SmartWorkflow, regOpts(KindSmart))
		conns := []dispatchacts.Target{{ChargePointID: cp, Connector: 1}, {ChargePointID: cp, Connector: 2}}
		var installed int
		env.RegisterDelayedCallback(func() {
			f.mu.Lock()
			installed = len(f.limits)
			f.mu.Unlock()
			if cancelled {
				env.CancelWorkflow()
			}
		}, time.Minute)
		env.ExecuteWorkflow(KindSmart, SmartInput{StationID: "s", PlanID: "p", SiteLimitKW: 100, Connectors: conns,
			Default: Fleet{CapacityKWh: 300, MaxKW: 120}, Until: start.Add(2 * time.Hour)})
		err := env.GetWorkflowError()
		if cancelled != (err != nil) {
			t.Errorf("cancelled %v: workflow error %v", cancelled, err)
		}
		if installed != 2 {
			t.Errorf("cancelled %v: %d limits installed before, want 2", cancelled, installed)
		}
		if len(f.limits) != 0 {
			t.Errorf("cancelled %v: limits left on the chargers: %v (log %v)", cancelled, f.limits, f.log)
		}
	}
}

// When the planner fails, the plan shares the site limit equally (each
// vehicle at most its maximum, idle connectors 0) and keeps running.
func TestSmartFallsBackToEqualShare(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := time.Date(2026, 11, 23, 23, 0, 0, 0, cst)
	env.SetStartTime(start)
	soc := 40
	f := &fakeChargers{limits: map[int]float64{}, started: map[int]bool{}}
	for c := 1; c <= 2; c++ {
		f.active = append(f.active, dispatchacts.Active{Target: dispatchacts.Target{ChargePointID: cp, Connector: c}, TransactionID: c, SOC: &soc})
	}
	f.register(env)
	env.RegisterWorkflowWithOptions(SmartWorkflow, regOpts(KindSmart))
	conns := []dispatchacts.Target{{ChargePointID: cp, Connector: 1}, {ChargePointID: cp, Connector: 2}, {ChargePointID: cp, Connector: 3}}
	var mid PlanState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryPlan)
		if err == nil {
			err = v.Get(&mid)
		}
		if err != nil {
			t.Error(err)
		}
	}, time.Minute)
	// A battery of 0 kWh is input the planner refuses.
	env.ExecuteWorkflow(KindSmart, SmartInput{StationID: "s", PlanID: "p", SiteLimitKW: 100, Connectors: conns,
		Fleet:   []Fleet{{Target: conns[0], CapacityKWh: 0, MaxKW: 30}},
		Default: Fleet{CapacityKWh: 300, MaxKW: 120}, Until: start.Add(time.Hour)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("plan failed: %v", err)
	}
	want := map[string]float64{key(conns[0]): 30, key(conns[1]): 50, key(conns[2]): 0}
	for k, kw := range want {
		if got, ok := mid.LimitsKW[k]; !ok || got != kw {
			t.Errorf("%s at %v kW (%v), want %v: %v", k, got, ok, kw, mid.LimitsKW)
		}
	}
}

func TestEqualShare(t *testing.T) {
	for _, tc := range []struct {
		site float64
		vs   []dispatchdom.Vehicle
		want map[string]float64
	}{
		{100, nil, map[string]float64{}},
		{100, []dispatchdom.Vehicle{{Connector: "a", MaxKW: 120}, {Connector: "b", MaxKW: 120}}, map[string]float64{"a": 50, "b": 50}},
		{300, []dispatchdom.Vehicle{{Connector: "a", MaxKW: 60}, {Connector: "b", MaxKW: 200}}, map[string]float64{"a": 60, "b": 150}},
		{-5, []dispatchdom.Vehicle{{Connector: "a", MaxKW: 60}}, map[string]float64{"a": 0}},
	} {
		got := EqualShare(tc.site, tc.vs).Want
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("EqualShare(%v, %d vehicles) = %v, want %v", tc.site, len(tc.vs), got, tc.want)
		}
	}
}
