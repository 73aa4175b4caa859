package workorder

import (
	"reflect"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	p := Policy{AckWithin: 10 * time.Minute, ResolveWithin: time.Hour}
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		after  time.Duration
		status string
		sent   []string
		want   []string
	}{
		{"early", 5 * time.Minute, Open, nil, nil},
		{"not acknowledged", 10 * time.Minute, Open, nil, []string{StageUnacknowledged}},
		{"acknowledged in time", 30 * time.Minute, Acknowledged, nil, nil},
		{"already sent", 30 * time.Minute, Open, []string{StageUnacknowledged}, nil},
		{"not resolved", time.Hour, Acknowledged, nil, []string{StageUnresolved}},
		{"both", 2 * time.Hour, Open, nil, []string{StageUnacknowledged, StageUnresolved}},
		{"closed", 2 * time.Hour, Closed, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.Due(t0.Add(c.after), t0, c.status, c.sent); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Due = %v, want %v", got, c.want)
			}
		})
	}
	if next, ok := p.Next(t0, Open, nil); !ok || !next.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("Next open = %v %v", next, ok)
	}
	if next, ok := p.Next(t0, Acknowledged, nil); !ok || !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Next acknowledged = %v %v", next, ok)
	}
	if _, ok := p.Next(t0, Acknowledged, []string{StageUnresolved}); ok {
		t.Fatal("Next after every stage")
	}
}

func TestSessions(t *testing.T) {
	s := Sessions{Threshold: 3}
	const c = "cp/1"
	if o := s.Started(c, 1, 100, false); o != Nothing {
		t.Fatalf("first refusal: %v", o)
	}
	s.Started(c, 2, 100, true)
	if o := s.Stopped(c, 2, 100); o != Nothing { // zero energy: second failure
		t.Fatalf("second failure: %v", o)
	}
	s.Started(c, 3, 200, true)
	if o := s.Stopped(c, 3, 200); o != Failing {
		t.Fatalf("third failure: %v", o)
	}
	if o := s.Started(c, 4, 0, false); o != Nothing {
		t.Fatalf("fourth failure must not open another: %v", o)
	}
	if o := s.Stopped("other/1", 99, 500); o != Nothing {
		t.Fatalf("unknown transaction: %v", o)
	}
	s.Started(c, 5, 200, true)
	if o := s.Stopped(c, 5, 1200); o != Recovered {
		t.Fatalf("good session: %v", o)
	}
	s.Started(c, 6, 0, false)
	s.Started(c, 7, 0, true)
	if o := s.Stopped(c, 7, 10); o != Nothing {
		t.Fatalf("good session under the threshold: %v", o)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"VOLTFLOW_WORKORDER_ACK_WITHIN": "2s", "VOLTFLOW_WORKORDER_AUTO_CLOSE": "true"}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Policy.AckWithin != 2*time.Second || !c.Policy.AutoClose || c.Policy.ResolveWithin != 4*time.Hour || c.FailedSessions != 3 {
		t.Fatalf("config %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"VOLTFLOW_WORKORDER_ACK_WITHIN": "soon"}, {"VOLTFLOW_WORKORDER_RESOLVE_WITHIN": "-1s"},
		{"VOLTFLOW_WORKORDER_FAILED_SESSIONS": "-2"}} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}
