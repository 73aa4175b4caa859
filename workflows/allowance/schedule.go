package allowance

import (
	"context"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/store"
	allowancestore "github.com/voltflow/voltflow/store/allowance"
	"github.com/voltflow/voltflow/workflows/names"
)

// EnsureSchedules creates the monthly Schedule of every project with an
// allowance setting; safe from every process that starts.
func EnsureSchedules(ctx context.Context, tc client.Client, db *store.DB, log *slog.Logger) error {
	projects, err := allowancestore.ListProjects(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if err := EnsureSchedule(ctx, tc, p.ID, p.Code); err != nil {
			return err
		}
		log.Info("monthly allowance schedule", "id", ScheduleID(p.Code))
	}
	return nil
}

// EnsureSchedule creates the project's monthly Schedule unless it has one:
// 00:30 China time on the 1st, each run granting its own month. Temporal
// appends the fire time to the action's ID; runs started by hand use
// WorkflowID (monthly-allowance/<project>/<YYYY-MM>). Either grants a meter
// once a month: the grant is keyed by meter and month.
func EnsureSchedule(ctx context.Context, tc client.Client, projectID, projectCode string) error {
	return names.CreateSchedule(ctx, tc, client.ScheduleOptions{
		ID: ScheduleID(projectCode),
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{DayOfMonth: []client.ScheduleRange{{Start: 1}},
				Hour: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 30}}}},
			TimeZoneName: "Asia/Shanghai",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:                       Kind + "/" + projectCode,
			Workflow:                 Kind,
			Args:                     []any{Input{ProjectID: projectID, ProjectCode: projectCode}},
			TaskQueue:                names.MainQueue,
			WorkflowExecutionTimeout: 24 * time.Hour,
			TypedSearchAttributes:    names.Attributes(projectCode, Kind, projectCode, "scheduled"),
		},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A missed 1st (Temporal down) still runs within the week.
		CatchupWindow: 7 * 24 * time.Hour,
	})
}
