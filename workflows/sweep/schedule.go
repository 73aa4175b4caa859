package sweep

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

	"github.com/voltflow/voltflow/store"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
	"github.com/voltflow/voltflow/workflows/names"
)

// Project is what a project's Schedule needs.
type Project struct {
	ID, Code string
}

// EnsureSchedules creates or updates the sweep Schedule of every project, so
// a start with a new interval (or a new project) takes effect. It is safe to
// run from every process that starts: creating an existing Schedule updates it.
func EnsureSchedules(ctx context.Context, tc client.Client, db *store.DB, interval time.Duration, log *slog.Logger) error {
	projects, err := sweepstore.ListScheduleProjects(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range projects {
		every, err := ProjectInterval(p.ReadingInterval, interval)
		if err != nil {
			return fmt.Errorf("project %s: %w", p.Code, err)
		}
		if err := EnsureSchedule(ctx, tc, Project{ID: p.ID, Code: p.Code}, every); err != nil {
			return err
		}
		log.Info("sweep schedule", "id", ScheduleID(p.Code), "every", every)
	}
	return nil
}

// ProjectInterval is a project's reading interval: its own setting (a Go
// duration) when it has one, else the server's.
func ProjectInterval(setting *string, server time.Duration) (time.Duration, error) {
	if setting == nil {
		return server, nil
	}
	d, err := time.ParseDuration(*setting)
	if err != nil {
		return 0, fmt.Errorf("reading interval %q: %w", *setting, err)
	}
	return d, nil
}

// EnsureSchedule creates the project's Schedule, or brings an existing one
// to this interval and action.
func EnsureSchedule(ctx context.Context, tc client.Client, p Project, interval time.Duration) error {
	spec, action, created, err := createSchedule(ctx, tc, p, interval)
	if err != nil || created {
		return err
	}
	return updateSchedule(ctx, tc, p, spec, action)
}

// UpdateSchedule brings the project's Schedule to this interval when it has
// one, and reports whether it had: a project without one gets it, with its
// interval, when its first meters arrive.
func UpdateSchedule(ctx context.Context, tc client.Client, p Project, interval time.Duration) (bool, error) {
	spec, action := scheduleOf(p, interval)
	err := updateSchedule(ctx, tc, p, spec, action)
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) {
		return false, nil
	}
	return err == nil, err
}

func updateSchedule(ctx context.Context, tc client.Client, p Project, spec client.ScheduleSpec, action *client.ScheduleWorkflowAction) error {
	h := tc.ScheduleClient().GetHandle(ctx, ScheduleID(p.Code))
	if err := h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &spec
		s.Action = action
		if s.Policy != nil {
			s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		}
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}}); err != nil {
		return fmt.Errorf("update schedule %s: %w", ScheduleID(p.Code), err)
	}
	return nil
}

// CreateSchedule creates the project's Schedule if it has none, and leaves
// an existing one as it is (the worker that made it chose its interval).
// It reports whether it created one: a project added while the workers
// run gets its sweeps when its first meters arrive, not at the next start.
func CreateSchedule(ctx context.Context, tc client.Client, p Project, interval time.Duration) (bool, error) {
	_, _, created, err := createSchedule(ctx, tc, p, interval)
	return created, err
}

func createSchedule(ctx context.Context, tc client.Client, p Project, interval time.Duration) (client.ScheduleSpec, *client.ScheduleWorkflowAction, bool, error) {
	spec, action := scheduleOf(p, interval)
	_, err := tc.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: ScheduleID(p.Code), Spec: spec, Action: action,
		// A sweep still running when the next is due: skip the next, do not queue it.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	})
	switch {
	case err == nil:
		return spec, action, true, nil
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return spec, action, false, nil
	default:
		return spec, action, false, fmt.Errorf("create schedule %s: %w", ScheduleID(p.Code), err)
	}
}

// scheduleOf is the spec and action of a project's Schedule.
func scheduleOf(p Project, interval time.Duration) (client.ScheduleSpec, *client.ScheduleWorkflowAction) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	action := &client.ScheduleWorkflowAction{
		ID:        ScheduleWorkflowID(p.Code),
		Workflow:  Kind,
		Args:      []any{Input{ProjectID: p.ID, ProjectCode: p.Code}},
		TaskQueue: names.MainQueue,
		// A sweep that cannot finish within two intervals is stuck; the next one starts afresh.
		WorkflowExecutionTimeout: max(2*interval, 10*time.Minute),
		TypedSearchAttributes:    names.Attributes(p.Code, Kind, p.Code, "scheduled"),
	}
	return spec, action
}
