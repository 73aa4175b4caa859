package archive

import (
	"go.temporal.io/sdk/workflow"

	archivestore "github.com/voltflow/voltflow/store/archive"
)

// The archive activities (activities/archive, main queue), executed by
// their registered names: the API imports this package to start archives
// and must not pull in the activities.

// archiveDue's result is an archivestore.DueResult.
func archiveDue(ctx workflow.Context, in archivestore.DueInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ArchiveDue", in)
}

// archiveExport's result is an archivestore.Archive.
func archiveExport(ctx workflow.Context, in archivestore.MonthInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ArchiveExport", in)
}

// archiveDrop's result is an archivestore.DropResult.
func archiveDrop(ctx workflow.Context, in archivestore.MonthInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ArchiveDrop", in)
}

// archiveRestore's result is an archivestore.RestoreResult.
func archiveRestore(ctx workflow.Context, in archivestore.MonthInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ArchiveRestore", in)
}
