// Package analytics answers the charging analytics (统计分析, issue 23 §2,
// C9/C11): station summaries, utilisation by time and by power, trends,
// power by time of day, active-protection analysis by charger brand and
// model, the customers who charged at our stations and each station's
// operating status over time. Order figures come from the daily rollups of
// migration 0057 (kept by a trigger on charging_orders), never from a scan
// of the orders; the operating status comes from connector_status_history
// of the stations asked about. Every row is a report.Row, so the API
// answers JSON pages and xlsx exports from the same walk.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// China is the analytics' calendar: a day is a China day, as in every report.
var china = time.FixedZone("CST", 8*3600)

// ErrBadCursor is a cursor no row produced.
var ErrBadCursor = report.ErrBadCursor

// Filter selects what every analytic reads: the caller's projects and
// station scope, optionally one station, and whole China days [From, To).
type Filter struct {
	Projects  []string
	Scope     store.StationScope
	StationID string
	Period    report.Period
}

var stationIDRule = regexp.MustCompile(`^[0-9A-Za-z]{0,20}$`)

// Validate says which field is wrong: the period must be whole China days.
func (f Filter) Validate() (string, error) {
	if err := f.Period.Validate(); err != nil {
		return "from", err
	}
	for name, t := range map[string]time.Time{"from": f.Period.From, "to": f.Period.To} {
		if l := t.In(china); l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 || l.Nanosecond() != 0 {
			return name, errors.New("analytics count whole China days: give a date (YYYY-MM-DD)")
		}
	}
	if f.Period.From.Year() < 2000 || f.Period.To.Year() > 2199 {
		return "from", errors.New("the period must lie within 2000–2199")
	}
	if f.Days() > 3660 {
		return "to", errors.New("at most ten years")
	}
	if !stationIDRule.MatchString(f.StationID) {
		return "stationId", errors.New("stationId must be a station id (up to 20 letters and digits)")
	}
	return "", nil
}

// Days is how many days the period holds.
func (f Filter) Days() int {
	return int(f.Period.To.Sub(f.Period.From).Round(time.Hour).Hours() / 24)
}

func (f Filter) from() string { return f.Period.From.In(china).Format(time.DateOnly) }
func (f Filter) to() string   { return f.Period.To.In(china).Format(time.DateOnly) }

// args are $1..$6 of every query: projects, scope (2), station, from, to.
func (f Filter) args() []any {
	sc := f.Scope.Args()
	p := f.Projects
	if p == nil {
		p = []string{}
	}
	return []any{p, sc[0], sc[1], f.StationID, f.from(), f.to()}
}

// stationWhere is the condition on a charging_stations row s: the caller
// may see it, and it is the one asked about (if any).
const stationWhere = `s.project_id::text = any($1) and (s.project_id::text <> all($2::text[]) or s.station_id::text = any($3::text[]))
	and ($4 = '' or s.station_id = $4)`

func limitArg(p report.Page) *int {
	if p.Limit <= 0 {
		return nil
	}
	return &p.Limit
}

func walk[T any](ctx context.Context, db *store.DB, scan func(pgx.Rows) (T, error), fn func(T) error, sql string, args ...any) error {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("analytics query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("analytics scan: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics rows: %w", err)
	}
	return nil
}

var hundred = decimal.NewFromInt(100)

// pct is part / whole in per cent with two places ("0.00" for an empty whole).
func pct(part, whole decimal.Decimal) string {
	if !whole.IsPositive() {
		return "0.00"
	}
	return part.Mul(hundred).DivRound(whole, 2).StringFixed(2)
}

func kwh(d decimal.Decimal) string { return d.StringFixed(3) }

func money(d decimal.Decimal) string { return d.StringFixed(2) }

func f64(s string) float64 {
	v, _ := decimal.RequireFromString(s).Float64()
	return v
}
