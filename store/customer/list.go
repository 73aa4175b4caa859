package customer

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// List lists a project's customers by name; sites (not nil) keeps only the
// customers with an account on a unit under those sites — a site-scoped
// operator's view.
func List(ctx context.Context, db *store.DB, projectID string, sites []string) ([]Customer, error) {
	rows, err := db.Query(ctx, `select c.id::text, c.name, c.phone, c.kind from customers c
		where c.project_id=$1 and ($2::text[] is null or exists(select 1 from prepaid_accounts a join units u on u.id=a.unit_id
			where a.customer_id=c.id and u.site_id::text = any($2)))
		order by c.name, c.id`, projectID, sites)
	if err != nil {
		return nil, fmt.Errorf("customers of project %s: %w", projectID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Customer])
	if err != nil {
		return nil, fmt.Errorf("customers of project %s: %w", projectID, err)
	}
	return out, nil
}
