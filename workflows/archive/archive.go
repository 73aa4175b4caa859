// Package archive runs the reading archive (S5) as Temporal workflows:
// reading-archive/<project>/<YYYY-MM> moves one month of a project's
// readings out of PostgreSQL into a verified gzip file (or, for
// reading-archive/<project>/due, every month past the project's retention,
// oldest first), and reading-restore/<project>/<YYYY-MM> brings one back.
// Each step is an idempotent activity (store/archive): a run whose worker
// is killed is resumed by the retried activity and loses or doubles no
// reading.
package archive

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	archivestore "github.com/voltflow/voltflow/store/archive"
	"github.com/voltflow/voltflow/workflows/names"
)

// Workflow types.
const (
	Kind        = "reading-archive"
	KindRestore = "reading-restore"
)

// ErrTypeNoDir is the activities' refusal without a directory
// (activities/archive.ErrTypeNoDir).
const ErrTypeNoDir = "ArchiveNoDirectory"

// MonthID is a month as IDs and the API spell it.
func MonthID(month time.Time) string { return archivestore.MonthOf(month).Format("2006-01") }

// WorkflowID archives one month (zero: every month due).
func WorkflowID(projectCode string, month time.Time) string {
	if month.IsZero() {
		return Kind + "/" + projectCode + "/due"
	}
	return Kind + "/" + projectCode + "/" + MonthID(month)
}

// RestoreID restores one month.
func RestoreID(projectCode string, month time.Time) string {
	return KindRestore + "/" + projectCode + "/" + MonthID(month)
}

// Input starts either workflow. New fields must have a safe zero value.
type Input struct {
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	// Month (its first day, UTC) to archive or restore; zero for an
	// archive: every month past the project's retention.
	Month time.Time `json:"month"`
}

// MonthResult is one archived month.
type MonthResult struct {
	Archive archivestore.Archive    `json:"archive"`
	Drop    archivestore.DropResult `json:"drop"`
}

// Result lists the months archived.
type Result struct {
	Months []MonthResult `json:"months"`
}

// options: export and deletion of a month take minutes; the heartbeat
// notices a killed worker, and the retry continues where the status says.
func options(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 6 * time.Hour,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{archivestore.ErrTypeCorrupt, archivestore.ErrTypeBusy, ErrTypeNoDir}},
	})
}

func setStatus(ctx workflow.Context, s string) error {
	return workflow.UpsertTypedSearchAttributes(ctx, names.Status.ValueSet(s))
}

// Workflow archives the input's month, or every month due.
func Workflow(ctx workflow.Context, in Input) (Result, error) {
	var out Result
	actx := options(ctx)
	months := []time.Time{in.Month}
	if in.Month.IsZero() {
		var due archivestore.DueResult
		if err := archiveDue(actx, archivestore.DueInput{ProjectID: in.ProjectID, Now: workflow.Now(ctx)}).Get(ctx, &due); err != nil {
			return out, err
		}
		months = due.Months
	}
	for _, m := range months {
		mi := archivestore.MonthInput{ProjectID: in.ProjectID, Month: m}
		var r MonthResult
		if err := setStatus(ctx, "exporting "+MonthID(m)); err != nil {
			return out, err
		}
		if err := archiveExport(actx, mi).Get(ctx, &r.Archive); err != nil {
			_ = setStatus(ctx, "failed")
			return out, err
		}
		if err := setStatus(ctx, "dropping "+MonthID(m)); err != nil {
			return out, err
		}
		if err := archiveDrop(actx, mi).Get(ctx, &r.Drop); err != nil {
			_ = setStatus(ctx, "failed")
			return out, err
		}
		out.Months = append(out.Months, r)
		workflow.GetLogger(ctx).Info("readings archived", "project", in.ProjectCode, "month", MonthID(m),
			"rows", r.Archive.Rows, "bytes", r.Archive.Bytes, "partitionDropped", r.Drop.Dropped)
	}
	return out, setStatus(ctx, "archived")
}

// RestoreWorkflow brings the input's month back into PostgreSQL.
func RestoreWorkflow(ctx workflow.Context, in Input) (archivestore.RestoreResult, error) {
	var out archivestore.RestoreResult
	if err := setStatus(ctx, "restoring"); err != nil {
		return out, err
	}
	if err := archiveRestore(options(ctx), archivestore.MonthInput{ProjectID: in.ProjectID, Month: in.Month}).Get(ctx, &out); err != nil {
		_ = setStatus(ctx, "failed")
		return out, err
	}
	workflow.GetLogger(ctx).Info("readings restored", "project", in.ProjectCode, "month", MonthID(in.Month), "rows", out.Rows)
	return out, setStatus(ctx, "restored")
}

// Start starts an archive (kind Kind) or restore (KindRestore) and
// returns its workflow ID. A run of the same ID still going is reused; a
// closed one may run again (a month restored can be archived again).
func Start(ctx context.Context, c client.Client, kind string, in Input) (string, error) {
	id := WorkflowID(in.ProjectCode, in.Month)
	subject := "due"
	if !in.Month.IsZero() {
		subject = MonthID(in.Month)
	}
	if kind == KindRestore {
		id = RestoreID(in.ProjectCode, in.Month)
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                names.MainQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    names.Attributes(in.ProjectCode, kind, subject, "started"),
	}, kind, in)
	if err != nil {
		return "", fmt.Errorf("start %s: %w", id, err)
	}
	return id, nil
}
