package alarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
	"github.com/voltflow/voltflow/workflows/names"
)

// KindScanWorkflow is the registered name of Scan.
const KindScanWorkflow = "alarm_scan"

// DefaultScanInterval is how often a project is scanned for condition alarms.
const DefaultScanInterval = 5 * time.Minute

// Scanner is the scan's activity: it evaluates the project in PostgreSQL and
// starts (signal-with-start) or clears the condition alarms with the
// Temporal client. Every step is safe to repeat: a started alarm only gets
// another raise signal, a cleared one is closed once.
type Scanner struct {
	Client client.Client
	DB     *store.DB
	Log    *slog.Logger
}

// ScanAlarmConditions scans one project at in.At.
func (s *Scanner) ScanAlarmConditions(ctx context.Context, in ScanInput) (ScanResult, error) {
	var r ScanResult
	scan, err := alarmstore.ScanConditions(ctx, s.DB, in.ProjectID, in.At)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, c := range scan.Active {
		if scan.Open[c.Key()] {
			continue
		}
		id := ConditionWorkflowID(in.ProjectCode, c)
		_, err := s.Client.SignalWithStartWorkflow(ctx, id, SignalRaise, in.At, client.StartWorkflowOptions{
			ID: id, TaskQueue: names.MainQueue, TypedSearchAttributes: names.Attributes(in.ProjectCode, Kind, c.SubjectNo, "open")},
			KindConditionWorkflow, ConditionInput{ProjectID: in.ProjectID, Condition: c})
		if err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", id, err))
			continue
		}
		r.Raised++
	}
	for _, o := range scan.Clear {
		err := s.Client.SignalWorkflow(ctx, o.WorkflowID, "", SignalClear, Clear{At: in.At})
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			// The workflow is gone (terminated by hand): close the record here.
			err = alarmstore.CloseSupersededAlarm(ctx, s.DB, o.WorkflowID, in.At)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("clear %s: %w", o.WorkflowID, err))
			continue
		}
		r.Cleared++
	}
	return r, errors.Join(errs...)
}

// ScanScheduleID is a project's scan Schedule.
func ScanScheduleID(projectCode string) string { return "alarm-scan-schedule/" + projectCode }

// ScanIntervalFromEnv reads VOLTFLOW_ALARM_SCAN_INTERVAL (a Go duration, or
// seconds); unset or bad is the default.
func ScanIntervalFromEnv(getenv func(string) string) time.Duration {
	v := getenv("VOLTFLOW_ALARM_SCAN_INTERVAL")
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return DefaultScanInterval
}

// EnsureScanSchedules creates or updates every project's scan Schedule,
// each at its project's interval; interval is the server's (0 reads
// VOLTFLOW_ALARM_SCAN_INTERVAL) for projects without one.
func EnsureScanSchedules(ctx context.Context, tc client.Client, db *store.DB, interval time.Duration, log *slog.Logger) error {
	listed, err := alarmstore.ListScanProjects(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range listed {
		every, err := ProjectScanInterval(p.ScanInterval, interval)
		if err != nil {
			return fmt.Errorf("project %s: %w", p.Code, err)
		}
		if err := EnsureScanSchedule(ctx, tc, ScanInput{ProjectID: p.ID, ProjectCode: p.Code}, every); err != nil {
			return err
		}
		log.Info("alarm scan schedule", "id", ScanScheduleID(p.Code), "every", every)
	}
	return nil
}

// ProjectScanInterval is a project's alarm scan interval: its own setting
// (a Go duration) when it has one, else the server's (0 reads
// VOLTFLOW_ALARM_SCAN_INTERVAL).
func ProjectScanInterval(setting *string, server time.Duration) (time.Duration, error) {
	if setting != nil {
		d, err := time.ParseDuration(*setting)
		if err != nil {
			return 0, fmt.Errorf("alarm scan interval %q: %w", *setting, err)
		}
		return d, nil
	}
	if server <= 0 {
		return ScanIntervalFromEnv(os.Getenv), nil
	}
	return server, nil
}

// EnsureScanSchedule creates the project's scan Schedule at this interval,
// or brings an existing one to it: the API calls it when the project's
// setting changes, so the new interval holds without a restart.
func EnsureScanSchedule(ctx context.Context, tc client.Client, p ScanInput, interval time.Duration) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	action := &client.ScheduleWorkflowAction{ID: "alarm-scan/" + p.ProjectCode, Workflow: KindScanWorkflow, Args: []any{p},
		TaskQueue: names.MainQueue, WorkflowExecutionTimeout: max(2*interval, 10*time.Minute),
		TypedSearchAttributes: names.Attributes(p.ProjectCode, "alarm-scan", p.ProjectCode, "scheduled")}
	sc := tc.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: ScanScheduleID(p.ProjectCode), Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		err = sc.GetHandle(ctx, ScanScheduleID(p.ProjectCode)).Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec, s.Action = &spec, action
				return &client.ScheduleUpdate{Schedule: &s}, nil
			}})
	}
	if err != nil {
		return fmt.Errorf("alarm scan schedule %s: %w", ScanScheduleID(p.ProjectCode), err)
	}
	return nil
}
