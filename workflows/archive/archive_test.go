package archive_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	archiveacts "github.com/voltflow/voltflow/activities/archive"
	archivestore "github.com/voltflow/voltflow/store/archive"
	archivewf "github.com/voltflow/voltflow/workflows/archive"
)

// A run without a month archives every month due, oldest first, each
// exported before it is dropped; a retried drop (a killed worker) goes on.
func TestArchivesEveryDueMonthExportBeforeDrop(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(archivewf.Workflow, workflowOptions(archivewf.Kind))
	var acts *archiveacts.Activities
	months := []time.Time{time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
	env.OnActivity(acts.ArchiveDue, mock.Anything, mock.Anything).Return(archivestore.DueResult{Months: months}, nil)
	var steps []string
	env.OnActivity(acts.ArchiveExport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in archivestore.MonthInput) (archivestore.Archive, error) {
			steps = append(steps, "export "+in.Month.Format("2006-01"))
			return archivestore.Archive{Month: in.Month, Rows: 10, Status: archivestore.StatusWritten}, nil
		})
	killed := false
	env.OnActivity(acts.ArchiveDrop, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in archivestore.MonthInput) (archivestore.DropResult, error) {
			steps = append(steps, "drop "+in.Month.Format("2006-01"))
			if !killed {
				killed = true
				return archivestore.DropResult{}, errors.New("worker killed")
			}
			return archivestore.DropResult{Deleted: 10}, nil
		})
	env.ExecuteWorkflow(archivewf.Kind, archivewf.Input{ProjectID: "p1", ProjectCode: "demo"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res archivewf.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := []string{"export 2026-08", "drop 2026-08", "drop 2026-08", "export 2026-09", "drop 2026-09"}
	if len(res.Months) != 2 || len(steps) != len(want) {
		t.Fatalf("result %+v, steps %v; want %v", res, steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("steps %v, want %v", steps, want)
		}
	}
}

// A file that does not match its checksum stops the run at once: no drop.
func TestCorruptArchiveIsNotRetried(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(archivewf.RestoreWorkflow, workflowOptions(archivewf.KindRestore))
	var acts *archiveacts.Activities
	calls := 0
	env.OnActivity(acts.ArchiveRestore, mock.Anything, mock.Anything).Return(
		func(context.Context, archivestore.MonthInput) (archivestore.RestoreResult, error) {
			calls++
			return archivestore.RestoreResult{}, temporal.NewNonRetryableApplicationError("bad", archivestore.ErrTypeCorrupt, nil)
		})
	env.ExecuteWorkflow(archivewf.KindRestore, archivewf.Input{ProjectID: "p1", ProjectCode: "demo", Month: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)})
	if err := env.GetWorkflowError(); err == nil || calls != 1 {
		t.Fatalf("restore of a corrupt file: %v after %d calls, want one failed call", err, calls)
	}
}

func workflowOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}
