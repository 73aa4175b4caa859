// Package audit is where the audit log of API writes is read.
package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Entry is one recorded write.
type Entry struct {
	Operator string    `json:"operator"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject"`
	Status   int       `json:"status"`
	At       time.Time `json:"at"`
}

// Filter selects entries; zero fields do not filter.
type Filter struct {
	Operator, Action, Subject string
	From, To                  time.Time
	// Projects limits to entries of these projects; nil (a platform
	// administrator) is every entry, an empty non-nil slice is none.
	Projects []string
	Limit    int
}

// List is the newest entries matching f.
func List(ctx context.Context, db *store.DB, f Filter) ([]Entry, error) {
	where := []string{"true"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Operator != "" {
		add("username = $%d", f.Operator)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	if f.Projects != nil {
		add("project_id::text = any($%d)", f.Projects)
	}
	args = append(args, f.Limit)
	rows, err := db.Query(ctx, `select username, action, subject, status, at from audit_log where (`+
		strings.Join(where, ") and (")+fmt.Sprintf(`) order by at desc, id desc limit $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	es, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return es, nil
}
