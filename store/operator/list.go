package operator

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Listed is an operator in the console's operator list, with its roles.
type Listed struct {
	Username    string       `json:"username"`
	DisplayName string       `json:"displayName"`
	Disabled    bool         `json:"disabled"`
	Roles       []ListedRole `json:"roles"`
}

// ListedRole is one role of a listed operator, its project by code.
type ListedRole struct {
	Project string `json:"project"`
	Role    string `json:"role"`
}

// List lists person operators by username: every one when projects is nil
// (a platform administrator), else those holding a role in one of projects,
// with only their roles there.
func List(ctx context.Context, q querier, projects []string) ([]Listed, error) {
	rows, err := q.Query(ctx, `select o.username, o.display_name, o.disabled_at is not null,
			coalesce(jsonb_agg(jsonb_build_object('project', p.code, 'role', r.role) order by p.code, r.role)
				filter (where r.role is not null), '[]')
		from operators o
		left join operator_roles r on r.operator_id=o.id and ($1::text[] is null or r.project_id::text = any($1))
		left join projects p on p.id=r.project_id
		where o.kind='person'
		group by o.id
		having $1::text[] is null or count(r.role) > 0
		order by o.username`, projects)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Listed])
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	return out, nil
}
