package archive

import (
	"context"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/store"
	archivestore "github.com/voltflow/voltflow/store/archive"
	"github.com/voltflow/voltflow/workflows/names"
)

// ScheduleID is the project's nightly archive Schedule.
func ScheduleID(projectCode string) string { return Kind + "-schedule/" + projectCode }

// EnsureSchedules creates the nightly Schedule of every project with a
// retention; safe from every process that starts.
func EnsureSchedules(ctx context.Context, tc client.Client, db *store.DB, log *slog.Logger) error {
	projects, err := archivestore.ProjectsWithRetention(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if err := EnsureSchedule(ctx, tc, p.ID, p.Code); err != nil {
			return err
		}
		log.Info("reading archive schedule", "id", ScheduleID(p.Code))
	}
	return nil
}

// EnsureSchedule creates the project's Schedule unless it has one. It
// fires at 03:30 China time, outside business hours, and archives every
// month past the retention (none, most nights: the run ends at once).
func EnsureSchedule(ctx context.Context, tc client.Client, projectID, projectCode string) error {
	return names.CreateSchedule(ctx, tc, client.ScheduleOptions{
		ID: ScheduleID(projectCode),
		Spec: client.ScheduleSpec{
			Calendars:    []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 3}}, Minute: []client.ScheduleRange{{Start: 30}}}},
			TimeZoneName: "Asia/Shanghai",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:                       Kind + "/" + projectCode + "/scheduled",
			Workflow:                 Kind,
			Args:                     []any{Input{ProjectID: projectID, ProjectCode: projectCode}},
			TaskQueue:                names.MainQueue,
			WorkflowExecutionTimeout: 24 * time.Hour,
			TypedSearchAttributes:    names.Attributes(projectCode, Kind, "due", "scheduled"),
		},
		// A run still archiving at the next night: skip; it takes every
		// month due anyway.
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 24 * time.Hour,
	})
}
