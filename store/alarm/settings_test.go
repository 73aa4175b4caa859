package alarm

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/store/site"
)

// phones lists a policy's recipients' phones.
func phones(p Policy) []string {
	var out []string
	for _, r := range p.Recipients {
		out = append(out, r.Phone)
	}
	return out
}

// TestSiteRecipientsFollowTheTree: a meter under building A (floor A1) gets
// the recipients of A1 and A, not B's; a meter under B gets B's only.
func TestSiteRecipientsFollowTheTree(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	mk := func(name string, level int, parent *string) string {
		s, err := site.Create(ctx, f.db, f.project, name, level, parent)
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	a := mk("Building A", 1, nil)
	a1 := mk("A floor 1", 2, &a)
	b := mk("Building B", 1, nil)
	under := func(meterNo, siteID string) {
		u, err := site.CreateUnit(ctx, f.db, f.project, site.Unit{Code: "U-" + meterNo, Name: meterNo, SiteID: siteID})
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `update meters set unit_id=$2 where id=$1`, f.meters[meterNo], u.ID)
	}
	under("M0001", a1)
	under("M0002", b)
	for id, ps := range map[string][]string{a: {"13700000001"}, a1: {"13700000002", "13700000001"}, b: {"13700000003"}} {
		if err := SetSiteRecipients(ctx, f.db, f.project, id, ps); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := SiteRecipients(ctx, f.db, f.project, a1); err != nil || !slices.Equal(got, []string{"13700000001", "13700000002"}) {
		t.Fatalf("A1's recipients %v (%v)", got, err)
	}

	tests := []struct {
		meterNo   string
		want, not []string
	}{
		{"M0001", []string{"13700000002", "13700000001"}, []string{"13700000003"}},
		{"M0002", []string{"13700000003"}, []string{"13700000001", "13700000002"}},
		{"M0003", nil, []string{"13700000001", "13700000002", "13700000003"}}, // under no unit
	}
	for _, tt := range tests {
		t.Run(tt.meterNo, func(t *testing.T) {
			lb, err := LoadPolicy(ctx, f.db, f.meters[tt.meterNo])
			if err != nil {
				t.Fatal(err)
			}
			cond, err := LoadConditionPolicy(ctx, f.db, f.project, f.meters[tt.meterNo])
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string][]string{"low balance": phones(lb), "condition": phones(cond)} {
				for _, p := range tt.want {
					if !slices.Contains(got, p) {
						t.Errorf("%s recipients %v lack %s", name, got, p)
					}
				}
				for _, p := range tt.not {
					if slices.Contains(got, p) {
						t.Errorf("%s recipients %v include %s", name, got, p)
					}
				}
				// One SMS per phone, even when two sites name it.
				seen := map[string]bool{}
				for _, p := range got {
					if seen[p] {
						t.Errorf("%s recipients %v repeat %s", name, got, p)
					}
					seen[p] = true
				}
			}
		})
	}

	// Replacing a site's list drops the old numbers.
	if err := SetSiteRecipients(ctx, f.db, f.project, a1, []string{}); err != nil {
		t.Fatal(err)
	}
	lb, err := LoadPolicy(ctx, f.db, f.meters["M0001"])
	if err != nil {
		t.Fatal(err)
	}
	if got := phones(lb); slices.Contains(got, "13700000002") || !slices.Contains(got, "13700000001") {
		t.Fatalf("after clearing A1: %v, want A's 13700000001 only", got)
	}
	if err := SetSiteRecipients(ctx, f.db, f.project, uuid.NewString(), []string{"13700000009"}); !errors.Is(err, ErrUnknownSite) {
		t.Fatalf("unknown site: %v, want ErrUnknownSite", err)
	}
	if _, err := SiteRecipients(ctx, f.db, f.project, "not-a-uuid"); !errors.Is(err, ErrUnknownSite) {
		t.Fatalf("bad site id: %v, want ErrUnknownSite", err)
	}
}

// TestProjectQuietIsWhatAlarmsUse: the project's quiet hours set here are
// the ones the next low-balance and condition alarm load; a meter with a
// policy of its own keeps its own.
func TestProjectQuietIsWhatAlarmsUse(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	q, err := ProjectQuiet(ctx, f.db, f.project)
	if err != nil || q.Hours() != (alarmdom.QuietHours{From: "22:00", To: "08:00"}) {
		t.Fatalf("default quiet hours %+v (%v)", q.Hours(), err)
	}
	for _, h := range []alarmdom.QuietHours{{From: "23:30", To: "06:15"}, {From: "00:00", To: "00:00"}} {
		if err := SetProjectQuiet(ctx, f.db, f.project, h); err != nil {
			t.Fatal(err)
		}
		if q, err := ProjectQuiet(ctx, f.db, f.project); err != nil || q.Hours() != h || q.OffsetMinutes != 480 {
			t.Fatalf("project quiet %+v (%v), want %+v at +480", q, err, h)
		}
		lb, err := LoadPolicy(ctx, f.db, f.meters["M0001"])
		if err != nil || lb.Quiet.Hours() != h {
			t.Fatalf("low-balance policy quiet %+v (%v), want %+v", lb.Quiet.Hours(), err, h)
		}
		cond, err := LoadConditionPolicy(ctx, f.db, f.project, f.meters["M0001"])
		if err != nil || cond.Quiet.Hours() != h {
			t.Fatalf("condition policy quiet %+v (%v), want %+v", cond.Quiet.Hours(), err, h)
		}
	}
	f.exec(t, `insert into alarm_policies(project_id, meter_id, quiet_start, quiet_end) values($1,$2,60,120)`, f.project, f.meters["M0002"])
	if err := SetProjectQuiet(ctx, f.db, f.project, alarmdom.QuietHours{From: "21:00", To: "07:00"}); err != nil {
		t.Fatal(err)
	}
	if lb, err := LoadPolicy(ctx, f.db, f.meters["M0002"]); err != nil || lb.Quiet.Hours() != (alarmdom.QuietHours{From: "01:00", To: "02:00"}) {
		t.Fatalf("meter's own quiet hours %+v (%v), want 01:00–02:00", lb.Quiet.Hours(), err)
	}
	if err := SetProjectQuiet(ctx, f.db, f.project, alarmdom.QuietHours{From: "25:00", To: "07:00"}); !errors.Is(err, alarmdom.ErrQuietHours) {
		t.Fatalf("bad hours: %v", err)
	}
}
