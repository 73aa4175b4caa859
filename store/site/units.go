package site

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Units lists a project's units by name; sites (not nil) keeps only units
// under those sites — a site-scoped operator's view.
func Units(ctx context.Context, db *store.DB, projectID string, sites []string) ([]Unit, error) {
	rows, err := db.Query(ctx, `select id::text, coalesce(code, ''), name, coalesce(site_id::text, '') from units
		where project_id=$1 and ($2::text[] is null or site_id::text = any($2)) order by name, id`, projectID, sites)
	if err != nil {
		return nil, fmt.Errorf("units of project %s: %w", projectID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Unit])
	if err != nil {
		return nil, fmt.Errorf("units of project %s: %w", projectID, err)
	}
	return out, nil
}
