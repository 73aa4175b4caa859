package alarm

import (
	"reflect"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

var cst = time.FixedZone("CST", 8*3600)

// at is a time on 2 March 2026 in China Standard Time.
func at(hour, min int) time.Time { return time.Date(2026, 3, 2, hour, min, 0, 0, cst) }

func rules(t *testing.T, mode Mode) LowBalanceRules {
	t.Helper()
	r, err := NewLowBalanceRules(mode, money.MustParse("20.00"), DefaultRatios(), Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// view is a LowBalance in comparable form.
type view struct {
	Remaining  string
	Done       []string
	Pending    string
	PendingAt  time.Time
	Daily      int
	NextDaily  time.Time
	ArrearsDue bool
}

func viewOf(s LowBalance) view {
	return view{s.Remaining.String(), s.Done, s.Pending, s.PendingAt, s.Daily, s.NextDaily, s.ArrearsDue}.utc()
}

// utc drops the zones so equal instants compare equal.
func (v view) utc() view {
	v.PendingAt, v.NextDaily = v.PendingAt.UTC(), v.NextDaily.UTC()
	return v
}

func TestLowBalanceRead(t *testing.T) {
	for _, c := range []struct {
		name      string
		mode      Mode
		before    LowBalance
		remaining string
		now       time.Time
		recovered bool
		want      view
	}{
		{"above the alarm amount recovers", Staged, LowBalance{Pending: "low_1", Done: []string{}}, "20.01", at(12, 0), true,
			view{Remaining: "20.01", Done: []string{}, Pending: "low_1"}},
		{"at the alarm amount: the first stage waits to go", Staged, LowBalance{}, "20.00", at(12, 0), false,
			view{Remaining: "20.00", Pending: "low_1"}},
		{"a deeper stage replaces a waiting one", Staged, LowBalance{Pending: "low_1", PendingAt: at(8, 0).Add(24 * time.Hour)}, "9.99", at(23, 0), false,
			view{Remaining: "9.99", Pending: "low_2"}},
		{"a stage already done is not queued again", Staged, LowBalance{Done: []string{"low_1", "low_2"}}, "5.00", at(12, 0), false,
			view{Remaining: "5.00", Done: []string{"low_1", "low_2"}}},
		{"a stage still waiting is not replaced by a shallower reading", Staged, LowBalance{Pending: "low_3", Done: []string{"low_1"}}, "12.00", at(12, 0), false,
			view{Remaining: "12.00", Done: []string{"low_1"}, Pending: "low_3"}},
		{"zero owes the arrears notice", Staged, LowBalance{Done: []string{"low_1", "low_2", "low_3"}}, "0.00", at(12, 0), false,
			view{Remaining: "0.00", Done: []string{"low_1", "low_2", "low_3"}, ArrearsDue: true}},
		{"the arrears notice goes once", Staged, LowBalance{Done: []string{"low_1", "low_2", "low_3", "arrears"}}, "-3.00", at(12, 0), false,
			view{Remaining: "-3.00", Done: []string{"low_1", "low_2", "low_3", "arrears"}}},
		{"daily: the first reading starts the reminders now", Daily, LowBalance{}, "15.00", at(10, 0), false,
			view{Remaining: "15.00", NextDaily: at(10, 0)}},
		{"daily: later readings keep the day", Daily, LowBalance{Daily: 1, NextDaily: at(10, 0).Add(24 * time.Hour)}, "12.00", at(20, 0), false,
			view{Remaining: "12.00", Daily: 1, NextDaily: at(10, 0).Add(24 * time.Hour)}},
		{"daily: arrears as in staged mode, no staged stage", Daily, LowBalance{Daily: 2, NextDaily: at(10, 0)}, "-1.00", at(9, 0), false,
			view{Remaining: "-1.00", Daily: 2, NextDaily: at(10, 0), ArrearsDue: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.before
			if got := s.Read(rules(t, c.mode), money.MustParse(c.remaining), c.now); got != c.recovered {
				t.Fatalf("recovered %v, want %v", got, c.recovered)
			}
			if got := viewOf(s); !reflect.DeepEqual(got, c.want.utc()) {
				t.Fatalf("state\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestLowBalanceDue(t *testing.T) {
	send := func(stage, template string) Step { return Step{Stage: stage, Template: template} }
	skip := func(stage string) Step { return Step{Stage: stage, Skip: true} }
	tomorrow8 := at(8, 0).Add(24 * time.Hour)
	for _, c := range []struct {
		name   string
		mode   Mode
		before LowBalance
		now    time.Time
		steps  []Step
		want   view
	}{
		{"nothing waiting", Staged, LowBalance{Done: []string{"low_1"}}, at(12, 0), nil,
			view{Remaining: "0.00", Done: []string{"low_1"}}},
		{"the first stage goes out", Staged, LowBalance{Pending: "low_1"}, at(12, 0),
			[]Step{send("low_1", TemplateLowBalance)}, view{Remaining: "0.00"}},
		{"a deeper stage skips the shallower ones not done", Staged, LowBalance{Pending: "low_3", Done: []string{"low_1"}}, at(12, 0),
			[]Step{skip("low_2"), send("low_3", TemplateLowBalance)}, view{Remaining: "0.00", Done: []string{"low_1"}}},
		{"straight to the deepest stage skips both", Staged, LowBalance{Pending: "low_3"}, at(12, 0),
			[]Step{skip("low_1"), skip("low_2"), send("low_3", TemplateLowBalance)}, view{Remaining: "0.00"}},
		{"quiet hours hold a stage until they end", Staged, LowBalance{Pending: "low_2"}, at(23, 0), nil,
			view{Remaining: "0.00", Pending: "low_2", PendingAt: tomorrow8}},
		{"the end of quiet hours lets it go", Staged, LowBalance{Pending: "low_2", PendingAt: at(8, 0)}, at(8, 0),
			[]Step{skip("low_1"), send("low_2", TemplateLowBalance)}, view{Remaining: "0.00"}},
		{"arrears goes at once and skips a waiting stage", Staged, LowBalance{Pending: "low_2", PendingAt: tomorrow8, ArrearsDue: true, Done: []string{"low_1"}}, at(23, 0),
			[]Step{skip("low_2"), send(StageArrears, TemplateArrears)}, view{Remaining: "0.00", Done: []string{"low_1"}}},
		{"arrears with nothing waiting", Staged, LowBalance{ArrearsDue: true, Done: []string{"low_1", "low_2", "low_3"}}, at(12, 0),
			[]Step{send(StageArrears, TemplateArrears)}, view{Remaining: "0.00", Done: []string{"low_1", "low_2", "low_3"}}},
		{"daily: the day's reminder goes out", Daily, LowBalance{NextDaily: at(10, 0)}, at(10, 0),
			[]Step{send("daily_1", TemplateDailyLowBalance)}, view{Remaining: "0.00", Daily: 1, NextDaily: at(10, 0).Add(24 * time.Hour)}},
		{"daily: not yet its day", Daily, LowBalance{Daily: 1, NextDaily: at(10, 0)}, at(9, 59), nil,
			view{Remaining: "0.00", Daily: 1, NextDaily: at(10, 0)}},
		{"daily: in quiet hours the reminder waits", Daily, LowBalance{Daily: 1, NextDaily: at(23, 0)}, at(23, 0), nil,
			view{Remaining: "0.00", Daily: 2, Pending: "daily_2", PendingAt: tomorrow8, NextDaily: at(23, 0).Add(24 * time.Hour)}},
		{"daily: arrears leaves a waiting reminder waiting", Daily,
			LowBalance{Daily: 2, Pending: "daily_2", PendingAt: tomorrow8, NextDaily: at(23, 0).Add(24 * time.Hour), ArrearsDue: true}, at(23, 30),
			[]Step{send(StageArrears, TemplateArrears)},
			view{Remaining: "0.00", Daily: 2, Pending: "daily_2", PendingAt: tomorrow8, NextDaily: at(23, 0).Add(24 * time.Hour)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.before
			if got := s.Due(rules(t, c.mode), c.now); !reflect.DeepEqual(got, c.steps) {
				t.Fatalf("steps\n got %+v\nwant %+v", got, c.steps)
			}
			if got := viewOf(s); !reflect.DeepEqual(got, c.want.utc()) {
				t.Fatalf("state\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// A meter runs down through quiet hours: low_1 goes at 21:00, low_2 waits
// for 08:00, a reading below zero then sends the arrears notice at once and
// records the stage it reached (low_3) skipped. The hook's next threshold
// follows every step taken; low_2, never reached by a Due, stays its next.
func TestLowBalanceRunDown(t *testing.T) {
	r := rules(t, Staged)
	var s LowBalance
	var taken []Step
	var next []string
	for _, rd := range []struct {
		now       time.Time
		remaining string
	}{{at(21, 0), "19.00"}, {at(22, 30), "9.00"}, {at(23, 0), "-1.00"}, {at(23, 45), "-3.00"}} {
		if s.Read(r, money.MustParse(rd.remaining), rd.now) {
			t.Fatalf("recovered at %s", rd.remaining)
		}
		for _, st := range s.Due(r, rd.now) {
			taken = append(taken, st)
			s.MarkDone(st.Stage)
			next = append(next, s.NextThreshold(r).String())
		}
	}
	want := []Step{{Stage: "low_1", Template: TemplateLowBalance}, {Stage: "low_3", Skip: true}, {Stage: StageArrears, Template: TemplateArrears}}
	if !reflect.DeepEqual(taken, want) {
		t.Fatalf("taken %+v, want %+v", taken, want)
	}
	if !reflect.DeepEqual(next, []string{"10.00", "10.00", "10.00"}) {
		t.Fatalf("next thresholds %v", next)
	}
	if w, ok := s.Wake(); ok || s.Pending != "" {
		t.Fatalf("still waiting for %q at %s", s.Pending, w)
	}
}

func TestLowBalanceNextThreshold(t *testing.T) {
	for _, c := range []struct {
		name string
		mode Mode
		done []string
		want string // "none": no threshold left
	}{
		{"staged: the first threshold", Staged, nil, "20.00"},
		{"staged: after low_1", Staged, []string{"low_1"}, "10.00"},
		{"staged: a skipped stage counts", Staged, []string{"low_2", "low_1"}, "4.00"},
		{"staged: zero after the last stage", Staged, []string{"low_1", "low_2", "low_3"}, "0.00"},
		{"staged: none after arrears", Staged, []string{"low_1", "low_2", "low_3", "arrears"}, "none"},
		{"daily: zero until arrears", Daily, []string{"daily_1"}, "0.00"},
		{"daily: none after arrears", Daily, []string{"daily_1", "arrears"}, "none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := LowBalance{Done: c.done}
			got := "none"
			if th := s.NextThreshold(rules(t, c.mode)); th != nil {
				got = th.String()
			}
			if got != c.want {
				t.Fatalf("next threshold %s, want %s", got, c.want)
			}
		})
	}
}

func TestLowBalanceWake(t *testing.T) {
	for _, c := range []struct {
		name string
		s    LowBalance
		want time.Time // zero: no wake
	}{
		{"nothing to wait for", LowBalance{}, time.Time{}},
		{"the end of quiet hours", LowBalance{PendingAt: at(8, 0)}, at(8, 0)},
		{"the next daily reminder", LowBalance{NextDaily: at(10, 0)}, at(10, 0)},
		{"the earlier of both", LowBalance{PendingAt: at(8, 0), NextDaily: at(7, 0)}, at(7, 0)},
		{"the earlier of both, quiet first", LowBalance{PendingAt: at(8, 0), NextDaily: at(10, 0)}, at(8, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.s.Wake()
			if ok != !c.want.IsZero() || !got.Equal(c.want) {
				t.Fatalf("wake %s %v, want %s", got, ok, c.want)
			}
		})
	}
}

func TestLowBalanceRechargeAndThresholdOfStage(t *testing.T) {
	var s LowBalance
	if steps := s.Recharge(money.MustParse("50.00"), false); steps != nil || s.Remaining.String() != "50.00" {
		t.Fatalf("recharge without notice: %+v, remaining %s", steps, s.Remaining)
	}
	want := []Step{{Stage: StageRecharge, Template: TemplateRecharge}}
	if steps := s.Recharge(money.MustParse("60.00"), true); !reflect.DeepEqual(steps, want) || s.Remaining.String() != "60.00" {
		t.Fatalf("recharge with notice: %+v, remaining %s", steps, s.Remaining)
	}
	r := rules(t, Staged)
	for stage, want := range map[string]string{"low_1": "20.00", "low_2": "10.00", "low_3": "4.00", "low_4": "20.00",
		StageArrears: "20.00", "daily_2": "20.00", StageRecharge: "20.00"} {
		if got := r.Threshold(stage).String(); got != want {
			t.Errorf("Threshold(%s) = %s, want %s", stage, got, want)
		}
	}
	if (Step{Stage: StageArrears}).Urgent() != true || (Step{Stage: "low_1"}).Urgent() {
		t.Fatal("only the arrears notice is urgent")
	}
	if _, err := NewLowBalanceRules(Staged, money.MustParse("20.00"), []string{"0"}, Quiet{}); err == nil {
		t.Fatal("ratio 0 accepted")
	}
}
