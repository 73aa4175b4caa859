package settlement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	"github.com/voltflow/voltflow/store"
	settlementstore "github.com/voltflow/voltflow/store/settlement"
	"github.com/voltflow/voltflow/workflows/names"
)

// EnsureSchedules brings the Schedule of every project with a settlement
// day to it; safe from every process that starts.
func EnsureSchedules(ctx context.Context, tc client.Client, db *store.DB, log *slog.Logger) error {
	projects, err := settlementstore.ListProjects(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if err := EnsureSchedule(ctx, tc, p.ID, p.Code, p.Day); err != nil {
			return err
		}
		log.Info("month settlement schedule", "id", ScheduleID(p.Code), "day", p.Day)
	}
	return nil
}

// Calendars fire at 00:05 China time on the day after each close of day d:
// the 1st for "last", d+1 for 1–27; for 28 the 29th of every month but
// February, whose close (the 28th; in a leap year the run on 1 March
// still settles February, the month due then) is settled on 1 March.
func Calendars(d settlementdom.Day) []client.ScheduleCalendarSpec {
	at := func(day int, months ...client.ScheduleRange) client.ScheduleCalendarSpec {
		return client.ScheduleCalendarSpec{Hour: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 5}},
			DayOfMonth: []client.ScheduleRange{{Start: day}}, Month: months,
			Comment: "month settlement, day " + string(d)}
	}
	switch n := d.N(); {
	case d == settlementdom.Last || n == 0:
		return []client.ScheduleCalendarSpec{at(1)}
	case n < 28:
		return []client.ScheduleCalendarSpec{at(n + 1)}
	default:
		return []client.ScheduleCalendarSpec{at(29, client.ScheduleRange{Start: 1}, client.ScheduleRange{Start: 3, End: 12}),
			at(1, client.ScheduleRange{Start: 3})}
	}
}

// EnsureSchedule creates the project's Schedule for day d, or brings an
// existing one to it (the API calls it when the setting changes).
func EnsureSchedule(ctx context.Context, tc client.Client, projectID, projectCode string, d settlementdom.Day) error {
	spec := client.ScheduleSpec{Calendars: Calendars(d), TimeZoneName: "Asia/Shanghai"}
	action := &client.ScheduleWorkflowAction{ID: Kind + "/" + projectCode, Workflow: Kind,
		Args: []any{Input{ProjectID: projectID, ProjectCode: projectCode}}, TaskQueue: names.MainQueue,
		WorkflowExecutionTimeout: 12 * time.Hour,
		TypedSearchAttributes:    names.Attributes(projectCode, Kind, projectCode, StatusScheduled)}
	sc := tc.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: ScheduleID(projectCode), Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A close missed while Temporal was down still settles when it is back.
		CatchupWindow: 7 * 24 * time.Hour})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		err = sc.GetHandle(ctx, ScheduleID(projectCode)).Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec, s.Action = &spec, action
				return &client.ScheduleUpdate{Schedule: &s}, nil
			}})
	}
	if err != nil {
		return fmt.Errorf("month settlement schedule %s: %w", ScheduleID(projectCode), err)
	}
	return nil
}

// DeleteSchedule removes the project's Schedule (its day was cleared).
func DeleteSchedule(ctx context.Context, tc client.Client, projectCode string) error {
	err := tc.ScheduleClient().GetHandle(ctx, ScheduleID(projectCode)).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete schedule %s: %w", ScheduleID(projectCode), err)
	}
	return nil
}
