// Package meterimport stores a bulk import of gateways and meters in one
// transaction: all rows or none. The rows are checked one by one as they
// are read (domain/meterimport) and streamed into a temporary table, so a
// sheet of any size costs the server a bounded amount of memory; the checks
// across rows (a meter number given twice, a gateway said two ways) and
// against stored data are then queries over that table. A row that repeats
// a stored meter exactly is left alone, so the same sheet can be sent
// again; anything that contradicts stored data is a problem of its row.
package meterimport

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/store"
)

// MaxProblems bounds the problems kept for the answer (all are counted).
const MaxProblems = 200

// Result counts what an import did (or, on a dry run, would do).
type Result struct {
	GatewaysCreated int  `json:"gatewaysCreated"`
	MetersCreated   int  `json:"metersCreated"`
	MetersUnchanged int  `json:"metersUnchanged"`
	DryRun          bool `json:"dryRun"`
}

// Problems are a sheet's problems: Count of them, the first MaxProblems
// in row order in List.
type Problems struct {
	Count int
	List  []meterimportdom.Problem
}

// add keeps a problem if it is among the first MaxProblems. Problems are
// added in row order within each source, so List is merged and cut later.
func (p *Problems) add(q meterimportdom.Problem) {
	p.Count++
	if len(p.List) < MaxProblems {
		p.List = append(p.List, q)
	}
}

// merge adds another source's problems, keeping row order (p's first on
// the same row: a row's own cells before its relations to other rows).
func (p *Problems) merge(q Problems) {
	p.Count += q.Count
	p.List = append(p.List, q.List...)
	slices.SortStableFunc(p.List, func(a, b meterimportdom.Problem) int { return a.Line - b.Line })
	p.List = p.List[:min(len(p.List), MaxProblems)]
}

// ReadError is a row that could not be read (a broken CSV, an upload cut
// short or too large): the sheet's fault, not the store's.
type ReadError struct {
	Line int
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("row %d: %v", e.Line, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// errDryRun rolls a dry run back.
var errDryRun = errors.New("dry run")

// Apply reads the rows after the heading (next returns false after the
// last) and stores them in the project, or returns their problems and
// stores nothing. dryRun checks everything and writes nothing.
func Apply(ctx context.Context, db *store.DB, projectID string, cols meterimportdom.Columns, next func() ([]string, bool, error),
	dryRun bool) (Result, Problems, error) {
	var res Result
	var problems Problems
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		// One import at a time per project: two sheets giving the same
		// unit address to different meters must not both pass the check.
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('meter-import:' || $1::text))`, projectID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `create temp table import_rows (line int primary key, meter_no text, gateway text,
			protocol text, address text, max_in_flight smallint, unit int, profile text, kind text, prepaid_mode text,
			price numeric, ct int, pt int, alarm1 numeric, alarm2 numeric) on commit drop`); err != nil {
			return err
		}
		src := &rowSource{cols: cols, next: next, line: 1}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"line", "meter_no", "gateway", "protocol",
			"address", "max_in_flight", "unit", "profile", "kind", "prepaid_mode", "price", "ct", "pt", "alarm1", "alarm2"},
			src); err != nil {
			if src.readErr != nil {
				return src.readErr
			}
			return fmt.Errorf("stage rows: %w", err)
		}
		problems = src.problems
		if _, err := tx.Exec(ctx, `create temp table import_gateways on commit drop as
			select gateway as code, min(line) as line,
				(array_agg(protocol order by line) filter (where protocol is not null))[1] as protocol,
				(array_agg(address order by line) filter (where address is not null))[1] as address,
				(array_agg(max_in_flight order by line) filter (where max_in_flight is not null))[1] as max_in_flight
			from import_rows where gateway is not null group by gateway`); err != nil {
			return err
		}
		within, err := query(ctx, tx, sheetChecks, projectID, meterimportdom.DLT645TCP, meterimportdom.DLTAddressPattern, meterimportdom.DLTAddressRule)
		if err != nil {
			return fmt.Errorf("check the sheet: %w", err)
		}
		problems.merge(within)
		if problems.Count > 0 {
			return nil
		}
		against, err := query(ctx, tx, storedChecks, projectID)
		if err != nil {
			return fmt.Errorf("check against stored data: %w", err)
		}
		if problems.merge(against); problems.Count > 0 {
			return nil
		}
		res.DryRun = dryRun
		if err := tx.QueryRow(ctx, `select count(*) from import_rows r join meters m on m.meter_no = r.meter_no`).
			Scan(&res.MetersUnchanged); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address, max_in_flight)
			select gen_random_uuid(), $1, g.code, g.protocol, g.address, g.max_in_flight from import_gateways g
			where not exists (select 1 from gateways s where s.project_id = $1 and s.code = g.code)
			order by g.line`, projectID)
		if err != nil {
			return fmt.Errorf("insert gateways: %w", err)
		}
		res.GatewaysCreated = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, kind,
				prepaid_mode, price, ct_ratio, pt_ratio, alarm1, alarm2)
			select gen_random_uuid(), $1, r.meter_no, g.id, r.unit, r.profile, r.kind, r.prepaid_mode, r.price, r.ct, r.pt,
				r.alarm1, r.alarm2
			from import_rows r join gateways g on g.project_id = $1 and g.code = r.gateway
			where not exists (select 1 from meters m where m.meter_no = r.meter_no)
			order by r.line`, projectID)
		if err != nil {
			return fmt.Errorf("insert meters: %w", err)
		}
		res.MetersCreated = int(tag.RowsAffected())
		if dryRun {
			return errDryRun
		}
		return nil
	})
	var readErr *ReadError
	switch {
	case errors.Is(err, errDryRun):
		err = nil
	case errors.As(err, &readErr):
		return Result{}, Problems{}, err
	}
	if err != nil {
		return Result{}, Problems{}, fmt.Errorf("meter import: %w", err)
	}
	return res, problems, nil
}

// rowSource feeds the checked rows to COPY one at a time, keeping only the
// current row and the first problems.
type rowSource struct {
	cols     meterimportdom.Columns
	next     func() ([]string, bool, error)
	line     int
	row      meterimportdom.Row
	problems Problems
	readErr  *ReadError
}

func (s *rowSource) Next() bool {
	for {
		cells, ok, err := s.next()
		s.line++
		if err != nil {
			s.readErr = &ReadError{Line: s.line, Err: err}
			return false
		}
		if !ok {
			return false
		}
		row, problems, blank := s.cols.ReadRow(s.line, cells)
		if blank {
			continue
		}
		for _, p := range problems {
			s.problems.add(p)
		}
		s.row = row
		return true
	}
}

func (s *rowSource) Values() ([]any, error) {
	m := s.row
	return []any{int32(m.Line), null(m.MeterNo), null(m.Gateway), null(s.row.GatewayProtocol), null(s.row.GatewayAddress),
		nullInt(s.row.MaxInFlight), nullInt(m.Unit), m.Profile, m.Kind, m.PrepaidMode, m.Price, int32(m.CT), int32(m.PT),
		m.Alarm1, m.Alarm2}, nil
}

func (s *rowSource) Err() error {
	if s.readErr != nil {
		return s.readErr
	}
	return nil
}

// null is a cell left empty (or refused) as SQL null, which the checks
// across rows skip.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return int32(n)
}

// query runs a check that gives (line, column, detail) in row order.
func query(ctx context.Context, tx pgx.Tx, sql string, args ...any) (Problems, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return Problems{}, err
	}
	var out Problems
	var p meterimportdom.Problem
	_, err = pgx.ForEachRow(rows, []any{&p.Line, &p.Column, &p.Detail}, func() error {
		out.add(p)
		return nil
	})
	return out, err
}

// sheetChecks are the checks across the sheet's rows; ord keeps the order
// a reader expects on one row. $1 project, $2 the DL/T 645 protocol, $3
// and $4 the address pattern and its rule.
const sheetChecks = `select line, col, detail from (
	select line, 1 as ord, 'meter_no' as col, format('%s is also on row %s', meter_no, first) as detail
	from (select line, meter_no, min(line) over (partition by meter_no) as first from import_rows
		where meter_no is not null) d where line > first
	union all
	select r.line, 2, 'protocol', format('gateway %s is %s on row %s', g.code, g.protocol, g.line)
	from import_rows r join import_gateways g on g.code = r.gateway where r.protocol <> g.protocol
	union all
	select r.line, 3, 'gateway_address', format('gateway %s is %s on row %s', g.code, g.address, g.line)
	from import_rows r join import_gateways g on g.code = r.gateway where r.address <> g.address
	union all
	select r.line, 4, 'max_in_flight', format('gateway %s is %s on row %s', g.code, g.max_in_flight, g.line)
	from import_rows r join import_gateways g on g.code = r.gateway where r.max_in_flight <> g.max_in_flight
	union all
	select line, 5, 'unit_address', format('gateway %s unit %s is also on row %s', gateway, unit, first)
	from (select line, gateway, unit, min(line) over (partition by gateway, unit) as first from import_rows
		where gateway is not null and unit is not null) d where line > first
	union all
	select r.line, 6, 'meter_no', $4
	from import_rows r join import_gateways g on g.code = r.gateway
		left join gateways s on s.project_id = $1 and s.code = g.code
	where coalesce(g.protocol, s.protocol) = $2 and r.meter_no !~ $3
) p order by line, ord`

// storedChecks are the checks of a good sheet against stored gateways and
// meters. $1 project.
const storedChecks = `select line, col, detail from (
	select g.line, 1 as ord, 'protocol' as col, format('gateway %s is new: its protocol is required', g.code) as detail
	from import_gateways g where g.protocol is null
		and not exists (select 1 from gateways s where s.project_id = $1 and s.code = g.code)
	union all
	select g.line, 2, 'gateway_address', format('gateway %s is new: its address is required', g.code)
	from import_gateways g where g.address is null
		and not exists (select 1 from gateways s where s.project_id = $1 and s.code = g.code)
	union all
	select g.line, 3, 'protocol', format('gateway %s is stored with protocol %s, the sheet says %s', g.code, s.protocol, g.protocol)
	from import_gateways g join gateways s on s.project_id = $1 and s.code = g.code where g.protocol <> s.protocol
	union all
	select g.line, 4, 'gateway_address', format('gateway %s is stored with address %s, the sheet says %s', g.code, s.address, g.address)
	from import_gateways g join gateways s on s.project_id = $1 and s.code = g.code where g.address <> s.address
	union all
	select g.line, 5, 'max_in_flight', format('gateway %s is stored with max_in_flight %s, the sheet says %s', g.code,
		coalesce(s.max_in_flight, 0), g.max_in_flight)
	from import_gateways g join gateways s on s.project_id = $1 and s.code = g.code
	where g.max_in_flight <> coalesce(s.max_in_flight, 0)
	union all
	select r.line, 6, 'meter_no', format('%s belongs to another project', r.meter_no)
	from import_rows r join meters m on m.meter_no = r.meter_no where m.project_id <> $1
	union all
	select line, 7, diff[1], format('%s is stored with other values (%s): change a meter through its own requests',
		meter_no, array_to_string(diff, ', '))
	from (select r.line, r.meter_no, array_remove(array[
			case when coalesce(g.code, '') <> r.gateway then 'gateway' end,
			case when m.unit_address <> r.unit then 'unit_address' end,
			case when m.profile <> r.profile then 'profile' end,
			case when m.kind <> r.kind then 'kind' end,
			case when m.prepaid_mode <> r.prepaid_mode then 'prepaid_mode' end,
			case when m.price <> r.price then 'price' end,
			case when m.ct_ratio <> r.ct then 'ct_ratio' end,
			case when m.pt_ratio <> r.pt then 'pt_ratio' end,
			case when m.alarm1 is distinct from r.alarm1 then 'alarm1' end,
			case when m.alarm2 is distinct from r.alarm2 then 'alarm2' end], null) as diff
		from import_rows r join meters m on m.meter_no = r.meter_no and m.project_id = $1
			left join gateways g on g.id = m.gateway_id and g.project_id = $1) d
	where cardinality(diff) > 0
	union all
	select r.line, 8, 'unit_address', format('gateway %s unit %s is meter %s', r.gateway, r.unit, m.meter_no)
	from import_rows r join gateways g on g.project_id = $1 and g.code = r.gateway
		join meters m on m.gateway_id = g.id and m.unit_address = r.unit
	where not exists (select 1 from meters x where x.meter_no = r.meter_no)
) p order by line, ord`
