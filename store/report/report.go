// Package report answers the report centre's queries (报表中心, M10): the
// status board, consumption by period, the energy-plus-finance statement,
// lost-contact devices and the command log. Every report walks a pgx rows
// cursor and hands each row to a callback, so the same query serves a JSON
// page (the caller keeps a page of rows) and a streamed Excel export (the
// caller writes each row out and keeps none).
package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what the reports need from the database (a *store.DB or a pgx.Tx).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Page bounds a report: rows after the cursor After (a row's Cursor(); empty
// for the first page), at most Limit of them (0: all, for exports).
type Page struct {
	After string
	Limit int
}

// limitArg is the SQL LIMIT value: null means no limit in PostgreSQL.
func (p Page) limitArg() *int {
	if p.Limit <= 0 {
		return nil
	}
	return &p.Limit
}

// ErrBadCursor is returned for a cursor no row of the report produced.
var ErrBadCursor = errors.New("report: bad cursor")

// Location is the reports' wall clock: a day, month or year is a day in
// China (seeds 002–004), which has no DST.
const Location = "Asia/Shanghai"

// walk runs the query and calls fn for each row as it arrives from the server.
func walk[T any](ctx context.Context, q Querier, scan func(pgx.Rows) (T, error), fn func(T) error, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("report query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("report scan: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report rows: %w", err)
	}
	return nil
}

// timeCursor is "<RFC 3339 nano>|<key>", the keyset of reports ordered by a
// time and a tie-breaking key.
func timeCursor(t time.Time, key string) string {
	return t.UTC().Format(time.RFC3339Nano) + "|" + key
}

// parseTimeCursor reads a timeCursor; an empty cursor gives ok=false.
func parseTimeCursor(c string) (t *time.Time, key string, err error) {
	if c == "" {
		return nil, "", nil
	}
	ts, key, found := strings.Cut(c, "|")
	v, perr := time.Parse(time.RFC3339Nano, ts)
	if !found || perr != nil {
		return nil, "", ErrBadCursor
	}
	return &v, key, nil
}

// Period is a half-open time range [From, To).
type Period struct {
	From, To time.Time
}

// Validate says what is wrong with the period, if anything.
func (p Period) Validate() error {
	if p.From.IsZero() || p.To.IsZero() {
		return errors.New("from and to are required")
	}
	if !p.From.Before(p.To) {
		return errors.New("from must be before to")
	}
	return nil
}
