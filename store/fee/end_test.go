package fee_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	feedom "github.com/voltflow/voltflow/domain/fee"
	"github.com/voltflow/voltflow/domain/money"
	feestore "github.com/voltflow/voltflow/store/fee"
)

// TestEndedScheduleIsNoLongerDue: a site's fixed fee is due for both units
// on the 10th; one is booked, then the schedule ends. Nothing is listed as
// due any more, booking the other unit is skipped, the booked one answers
// as booked, and the list shows the ended schedule only when asked.
func TestEndedScheduleIsNoLongerDue(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	f := setup(t, db, 2)
	s, err := feestore.CreateSchedule(ctx, db, feestore.Schedule{ProjectID: f.project, SiteID: f.site, Kind: feedom.Rent,
		Basis: feedom.Fixed, Amount: money.MustParse("30.00"), DayOfMonth: 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	due, err := feestore.ListDue(ctx, db, feestore.DueInput{ProjectID: f.project, Day: day})
	if err != nil || len(due.Fees) != 2 {
		t.Fatalf("due before the end: %+v %v", due, err)
	}
	first, err := feestore.Book(ctx, db, feestore.BookInput{ProjectID: f.project, ScheduleID: s.ID, UnitID: f.units[0], Day: day})
	if err != nil || !first.Created {
		t.Fatalf("book: %+v %v", first, err)
	}

	ended, err := feestore.EndSchedule(ctx, db, f.project, s.ID, "")
	if err != nil || ended.EndedAt == nil || ended.ID != s.ID || ended.Amount.String() != "30.00" {
		t.Fatalf("end: %+v %v", ended, err)
	}
	again, err := feestore.EndSchedule(ctx, db, f.project, s.ID, "")
	if err != nil || !again.EndedAt.Equal(*ended.EndedAt) {
		t.Errorf("ending twice moved the end: %v then %v (%v)", ended.EndedAt, again.EndedAt, err)
	}
	for _, id := range []string{uuid.NewString(), "nope"} {
		if _, err := feestore.EndSchedule(ctx, db, f.project, id, ""); !errors.Is(err, feestore.ErrNotFound) {
			t.Errorf("end %s: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := feestore.EndSchedule(ctx, db, uuid.NewString(), s.ID, ""); !errors.Is(err, feestore.ErrNotFound) {
		t.Errorf("end in another project: %v, want ErrNotFound", err)
	}

	due, err = feestore.ListDue(ctx, db, feestore.DueInput{ProjectID: f.project, Day: day})
	if err != nil || len(due.Fees) != 0 {
		t.Errorf("due after the end: %+v %v", due, err)
	}
	second, err := feestore.Book(ctx, db, feestore.BookInput{ProjectID: f.project, ScheduleID: s.ID, UnitID: f.units[1], Day: day})
	if err != nil || second.Created || second.Skipped == "" {
		t.Errorf("booking after the end: %+v %v, want skipped", second, err)
	}
	replay, err := feestore.Book(ctx, db, feestore.BookInput{ProjectID: f.project, ScheduleID: s.ID, UnitID: f.units[0], Day: day})
	if err != nil || replay.Created || replay.Skipped != "" || replay.Amount.String() != "30.00" {
		t.Errorf("the booked fee after the end: %+v %v, want it as booked", replay, err)
	}
	lines, err := feestore.List(ctx, db, f.project, "2026-04")
	if err != nil || len(lines) != 1 || lines[0].Rent.String() != "30.00" {
		t.Errorf("fee list: %+v %v", lines, err)
	}

	running, err := feestore.ListSchedules(ctx, db, f.project, false)
	if err != nil || len(running) != 0 {
		t.Errorf("running schedules %+v %v", running, err)
	}
	all, err := feestore.ListSchedules(ctx, db, f.project, true)
	if err != nil || len(all) != 1 || all[0].EndedAt == nil || all[0].SiteID != f.site {
		t.Errorf("all schedules %+v %v", all, err)
	}
}
