package fee

import (
	"context"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	"github.com/voltflow/voltflow/workflows/names"
)

// EnsureSchedules creates the daily Schedule of every project with fee
// schedules; safe from every process that starts.
func EnsureSchedules(ctx context.Context, tc client.Client, db *store.DB, log *slog.Logger) error {
	projects, err := feestore.ListProjects(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if err := EnsureSchedule(ctx, tc, p.ID, p.Code); err != nil {
			return err
		}
		log.Info("property fee schedule", "id", ScheduleID(p.Code))
	}
	return nil
}

// EnsureSchedule creates the project's daily Schedule unless it has one.
// It fires at 00:10 China time; each run books the fees due on its local
// day. Temporal appends the fire time to the action's ID
// ("property-fees/<project>-2026-04-29T16:10:00Z"); runs started by hand
// use WorkflowID (property-fees/<project>/<YYYY-MM-DD>). Either books a
// fee once: the ledger key is per schedule, unit and month.
func EnsureSchedule(ctx context.Context, tc client.Client, projectID, projectCode string) error {
	return names.CreateSchedule(ctx, tc, client.ScheduleOptions{
		ID: ScheduleID(projectCode),
		Spec: client.ScheduleSpec{
			Calendars:    []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 10}}}},
			TimeZoneName: "Asia/Shanghai",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:                       Kind + "/" + projectCode,
			Workflow:                 Kind,
			Args:                     []any{Input{ProjectID: projectID, ProjectCode: projectCode}},
			TaskQueue:                names.MainQueue,
			WorkflowExecutionTimeout: 12 * time.Hour,
			TypedSearchAttributes:    names.Attributes(projectCode, Kind, projectCode, "scheduled"),
		},
		// A run still going at the next day's start: skip, the next run
		// books what is due on its own day.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A missed day (Temporal down at 00:10) still runs when it is back.
		CatchupWindow: 24 * time.Hour,
	})
}
