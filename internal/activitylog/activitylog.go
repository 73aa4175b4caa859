// Package activitylog is how activities log: through their slog logger,
// with the ids the SDK's own activity lines carry, so a line can be found
// from the workflow in the Web UI and the other way round.
//
// Activities use slog rather than activity.GetLogger because the store
// functions and rules they call take a *slog.Logger, and the activity's Log
// field stays the one place tests and commands choose where lines go.
package activitylog

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// Logger is base (slog.Default() when nil) with the running activity's
// workflow type, workflow id, run id, activity id, activity type and
// attempt, under the SDK's keys. Outside an activity it is base as is.
func Logger(ctx context.Context, base *slog.Logger) *slog.Logger {
	if base == nil {
		base = slog.Default()
	}
	if !activity.IsActivity(ctx) {
		return base
	}
	info := activity.GetInfo(ctx)
	return base.With("WorkflowType", info.WorkflowType.Name,
		"WorkflowID", info.WorkflowExecution.ID, "RunID", info.WorkflowExecution.RunID,
		"ActivityID", info.ActivityID, "ActivityType", info.ActivityType.Name, "Attempt", info.Attempt)
}
