package store

import (
	"context"
	"io/fs"
	"log/slog"
)

// MigrateFrom is Migrate with the migrations read from files, so tests can
// change them.
func MigrateFrom(ctx context.Context, db *DB, log *slog.Logger, files fs.FS) error {
	return migrate(ctx, db, log, files)
}
