package safety_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/store/demo"
	safetystore "github.com/voltflow/voltflow/store/safety"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// A meter's own limits replace its project's; a meter tripped or locked
// out is no candidate until its workflow records it normal again.
func TestLimitsAndCandidates(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.BcryptCost, o.MetersPerGW, o.GatewayPorts = 4, 3, []int{1}
	loaded, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	rows, err := db.Query(ctx, `select meter_no, id::text from meters where project_id = $1`, loaded.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var no, id string
		if err := rows.Scan(&no, &id); err != nil {
			t.Fatal(err)
		}
		ids[no] = id
	}
	if len(ids) != 3 {
		t.Fatalf("meters %v", ids)
	}
	at := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	obs := []safetystore.Observed{
		{MeterID: ids["M0001"], Reading: safetydom.Reading{PowerW: 9000, At: at}},
		{MeterID: ids["M0002"], Reading: safetydom.Reading{PowerW: 9000, At: at}},
	}
	if c, err := safetystore.Candidates(ctx, db, obs); err != nil || len(c) != 0 {
		t.Fatalf("no limits anywhere: %v %v", c, err)
	}
	if _, _, err := safetystore.Effective(ctx, db, ids["M0001"]); !errors.Is(err, safetystore.ErrNotFound) {
		t.Fatalf("effective without limits: %v", err)
	}
	kw := func(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
	if err := safetystore.Put(ctx, db, loaded.ProjectID, "", safetydom.Limits{MaxLoadKW: kw("20"), AllowedTrips: 5, UTCOffsetMinutes: 480}); err != nil {
		t.Fatal(err)
	}
	own := safetydom.Limits{MaxLoadKW: kw("8"), AllowedTrips: 2, UTCOffsetMinutes: 480,
		TOU: []safetydom.Window{{From: "23:00", To: "06:00", KW: decimal.RequireFromString("2.5")}}}
	if err := safetystore.Put(ctx, db, loaded.ProjectID, ids["M0002"], own); err != nil {
		t.Fatal(err)
	}
	own.AllowedTrips = 3 // a second put replaces the row
	if err := safetystore.Put(ctx, db, loaded.ProjectID, ids["M0002"], own); err != nil {
		t.Fatal(err)
	}
	for no, want := range map[string]struct {
		source string
		max    string
		trips  int
	}{"M0001": {"project", "20", 5}, "M0002": {"meter", "8", 3}} {
		l, source, err := safetystore.Effective(ctx, db, ids[no])
		if err != nil || source != want.source || l.MaxLoadKW.String() != want.max || l.AllowedTrips != want.trips {
			t.Errorf("%s: %s %+v %v, want %+v", no, source, l, err, want)
		}
	}
	c, err := safetystore.Candidates(ctx, db, obs)
	if err != nil || len(c) != 2 {
		t.Fatalf("candidates %+v %v", c, err)
	}
	for _, cand := range c {
		_, trip := safetydom.Check(cand.Limits, cand.Reading)
		if trip != (cand.MeterNo == "M0002") || cand.ProjectCode != "demo" {
			t.Errorf("%s (%s): trip %v at 9 kW", cand.MeterNo, cand.ProjectCode, trip)
		}
	}
	if err := safetystore.SetState(ctx, db, safetystore.State{MeterID: ids["M0002"], Status: safetydom.LockedOut, Trips: 3}); err != nil {
		t.Fatal(err)
	}
	if c, err := safetystore.Candidates(ctx, db, obs); err != nil || len(c) != 1 || c[0].MeterNo != "M0001" {
		t.Fatalf("candidates with M0002 locked out: %+v %v", c, err)
	}
	if s, err := safetystore.GetState(ctx, db, ids["M0002"]); err != nil || s.Status != safetydom.LockedOut || s.Trips != 3 {
		t.Fatalf("state %+v %v", s, err)
	}
	if s, err := safetystore.GetState(ctx, db, ids["M0003"]); err != nil || s.Status != safetydom.Normal {
		t.Fatalf("a meter that never tripped: %+v %v", s, err)
	}

	// An operator's switch-off after the trip keeps the meter off.
	trip := time.Now().Add(-time.Minute)
	if off, err := safetystore.OperatorOffSince(ctx, db, ids["M0002"], trip); err != nil || off {
		t.Fatalf("no command: off %v (%v)", off, err)
	}
	if _, err := db.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, status, workflow_id, created_by)
		select gen_random_uuid(), $1, $2, 'M0002', 'switch_off', 'done', 'meter-cmd/x', (select id from operators limit 1)`,
		loaded.ProjectID, ids["M0002"]); err != nil {
		t.Fatal(err)
	}
	if off, err := safetystore.OperatorOffSince(ctx, db, ids["M0002"], trip); err != nil || !off {
		t.Fatalf("switch-off after the trip: off %v (%v)", off, err)
	}
	if off, err := safetystore.OperatorOffSince(ctx, db, ids["M0002"], time.Now().Add(time.Minute)); err != nil || off {
		t.Fatalf("switch-off before the trip: off %v (%v)", off, err)
	}
}
