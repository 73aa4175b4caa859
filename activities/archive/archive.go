// Package archive is the Temporal adapter of the reading archive (S5): it
// lists a project's months past retention, exports one to its file, deletes
// it from PostgreSQL and restores it, all through store/archive.
package archive

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/store"
	archivestore "github.com/voltflow/voltflow/store/archive"
)

// Inputs and results live in store/archive, so workflows build them
// without importing this package.
type (
	DueInput      = archivestore.DueInput
	DueResult     = archivestore.DueResult
	MonthInput    = archivestore.MonthInput
	Archive       = archivestore.Archive
	DropResult    = archivestore.DropResult
	RestoreResult = archivestore.RestoreResult
)

// ErrTypeNoDir is an archive asked of a worker without a directory.
const ErrTypeNoDir = "ArchiveNoDirectory"

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
	// Dir holds the files (VOLTFLOW_ARCHIVE_DIR).
	Dir string
	// ChunkMeters and Yield pace the copying (store/archive.Options);
	// zero: 200 meters a statement, then a pause twice as long as the
	// chunk took (the archive works a third of the time). Measured on 2
	// cores with sweeps of 10,016 meters back to back (tests/archive):
	// 500 meters at Yield 0.5 made sweeps 1.17× slower over 1.2 million
	// readings; at Yield 1, 0.92–0.99× over 1.2 million but 1.26× over
	// 7.5 million (372,000 rows a statement); these defaults: 1.15× over
	// 7.5 million readings (archived in 389 s).
	ChunkMeters int
	Yield       float64
}

func (a *Activities) options(ctx context.Context) archivestore.Options {
	y := a.Yield
	if y == 0 {
		y = 2
	}
	chunk := a.ChunkMeters
	if chunk == 0 {
		chunk = 200
	}
	return archivestore.Options{ChunkMeters: chunk, Yield: y,
		Heartbeat: func(n int64) { activity.RecordHeartbeat(ctx, n) }}
}

// fail marks what retrying cannot fix.
func fail(err error) error {
	switch {
	case errors.Is(err, archivestore.ErrCorrupt):
		return temporal.NewNonRetryableApplicationError(err.Error(), archivestore.ErrTypeCorrupt, err)
	case errors.Is(err, archivestore.ErrBusy):
		return temporal.NewNonRetryableApplicationError(err.Error(), archivestore.ErrTypeBusy, err)
	}
	return err
}

func (a *Activities) dir() error {
	if a.Dir == "" {
		return temporal.NewNonRetryableApplicationError("no archive directory: set VOLTFLOW_ARCHIVE_DIR for the workers", ErrTypeNoDir, nil)
	}
	return nil
}

// ArchiveDue lists the project's months past its retention.
func (a *Activities) ArchiveDue(ctx context.Context, in DueInput) (DueResult, error) {
	return archivestore.Due(ctx, a.DB, in)
}

// ArchiveExport writes the month's file and records it (once).
func (a *Activities) ArchiveExport(ctx context.Context, in MonthInput) (Archive, error) {
	if err := a.dir(); err != nil {
		return Archive{}, err
	}
	out, err := archivestore.Export(ctx, a.DB, a.Dir, in, a.options(ctx))
	return out, fail(err)
}

// ArchiveDrop deletes the month's rows from PostgreSQL against its
// verified file.
func (a *Activities) ArchiveDrop(ctx context.Context, in MonthInput) (DropResult, error) {
	if err := a.dir(); err != nil {
		return DropResult{}, err
	}
	out, err := archivestore.Drop(ctx, a.DB, a.Dir, in, a.options(ctx))
	return out, fail(err)
}

// ArchiveRestore brings the month back from its file.
func (a *Activities) ArchiveRestore(ctx context.Context, in MonthInput) (RestoreResult, error) {
	if err := a.dir(); err != nil {
		return RestoreResult{}, err
	}
	out, err := archivestore.Restore(ctx, a.DB, a.Dir, in, a.options(ctx))
	return out, fail(err)
}
