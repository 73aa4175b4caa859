// Package sweep is where the meter sweeps read and write PostgreSQL.
package sweep

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ScheduleProject is a project that gets a sweep Schedule.
type ScheduleProject struct {
	ID, Code string
	// ReadingInterval is the project's own interval (a Go duration), nil
	// when the server's applies.
	ReadingInterval *string
}

// ListScheduleProjects is every project, by code.
func ListScheduleProjects(ctx context.Context, db *store.DB) ([]ScheduleProject, error) {
	rows, err := db.Query(ctx, `select id::text, code, reading_interval from projects order by code`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ScheduleProject])
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}
