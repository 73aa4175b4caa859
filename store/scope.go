package store

import "strconv"

// Scope is a caller's site scope (issue 17, S2): in Projects, only meters
// of units under Sites (whole subtrees, already expanded) are visible; in
// any other project every meter is. The zero Scope restricts nothing.
// Every list and report that shows meter rows applies it through SQL, so
// that a building manager's pages, counts and exports hold its building only.
type Scope struct {
	Projects []string // projects where every role of the caller is site-scoped
	Sites    []string // the sites visible there
}

// Args are the scope's two query parameters, in the order SQL expects.
func (s Scope) Args() []any {
	p, st := s.Projects, s.Sites
	if p == nil {
		p = []string{}
	}
	if st == nil {
		st = []string{}
	}
	return []any{p, st}
}

// SQL is a condition true when the meter whose id is the SQL expression
// meterID is visible in the scope whose Args are parameters $n and $n+1.
// A null meter id (a row about no meter) is visible; a meter of a scoped
// project that hangs on no unit is not.
func (Scope) SQL(meterID string, n int) string {
	return `not exists (select 1 from meters scope_m where scope_m.id = ` + meterID +
		` and scope_m.project_id::text = any($` + strconv.Itoa(n) + `::text[])
		and not exists (select 1 from units scope_u where scope_u.id = scope_m.unit_id
			and scope_u.site_id::text = any($` + strconv.Itoa(n+1) + `::text[])))`
}

// MeterNoSQL is SQL for a meter named by number in a project: the
// condition on the meter with that number in that project.
func (Scope) MeterNoSQL(projectID, meterNo string, n int) string {
	return `not exists (select 1 from meters scope_m where scope_m.project_id = ` + projectID +
		` and scope_m.meter_no = ` + meterNo + ` and scope_m.project_id::text = any($` + strconv.Itoa(n) + `::text[])
		and not exists (select 1 from units scope_u where scope_u.id = scope_m.unit_id
			and scope_u.site_id::text = any($` + strconv.Itoa(n+1) + `::text[])))`
}

// StrictSQL is SQL for rows that may be about no meter (an SMS, a
// project-wide alarm): in a scoped project such a row is hidden too, only
// rows about a visible meter remain. projectID is the row's project column.
func (Scope) StrictSQL(projectID, meterID string, n int) string {
	return `(` + projectID + `::text <> all($` + strconv.Itoa(n) + `::text[]) or exists (select 1 from meters scope_m
		join units scope_u on scope_u.id = scope_m.unit_id where scope_m.id = ` + meterID + `
		and scope_u.site_id::text = any($` + strconv.Itoa(n+1) + `::text[])))`
}

// StationScope is a caller's station scope (issue 17, S2): in Projects,
// only the chargers, connectors and charging orders of Stations are
// visible. The zero StationScope restricts nothing.
type StationScope struct {
	Projects []string // projects where every role of the caller is scoped
	Stations []string // the T/CEC station ids visible there
}

// Args are the scope's two query parameters, in the order SQL expects.
func (s StationScope) Args() []any {
	return Scope{Projects: s.Projects, Sites: s.Stations}.Args()
}

// SQL is a condition true when a row of project projectID (SQL) about
// station stationID (SQL) is visible in the scope at parameters $n, $n+1.
func (StationScope) SQL(projectID, stationID string, n int) string {
	return `(` + projectID + `::text <> all($` + strconv.Itoa(n) + `::text[]) or ` + stationID + `::text = any($` + strconv.Itoa(n+1) + `::text[]))`
}
