package aircon

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/workflows/names"
)

// ScheduleID is a system's monthly Schedule.
func ScheduleID(projectCode, systemCode string) string {
	return Kind + "-schedule/" + projectCode + "." + systemCode
}

// EnsureSchedule creates the system's monthly Schedule unless it has one.
// It fires at 00:00 China time on the 1st; each run bills the month it
// starts in, so the controller is read right at both of the month's
// bounds. Temporal appends the fire time to the action's ID
// ("aircon/<project>.<system>-2026-11-30T16:00:00Z"); runs started by hand
// use WorkflowID (aircon/<project>.<system>/<YYYY-MM>). Either books a
// period once, and a bound read by one is not read again by the other.
func EnsureSchedule(ctx context.Context, tc client.Client, systemID, projectCode, systemCode string) error {
	id := ScheduleID(projectCode, systemCode)
	return names.CreateSchedule(ctx, tc, client.ScheduleOptions{
		ID: id,
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{DayOfMonth: []client.ScheduleRange{{Start: 1}},
				Hour: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 0}}}},
			TimeZoneName: "Asia/Shanghai",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:                    Kind + "/" + projectCode + "." + systemCode,
			Workflow:              Kind,
			Args:                  []any{Input{SystemID: systemID, ProjectCode: projectCode, SystemCode: systemCode}},
			TaskQueue:             names.MainQueue,
			TypedSearchAttributes: names.Attributes(projectCode, Kind, systemCode, StatusWaiting),
		},
		// A month's run ends an hour into the next month, whose run has
		// started at its first second: they overlap on purpose.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
		// Temporal down at midnight: the month still starts when it is back
		// (its opening reading then shows how late it was taken).
		CatchupWindow: 7 * 24 * time.Hour,
	})
}
