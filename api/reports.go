package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// GET /api/v1/reports/{name}?format=json|xlsx&... — the report centre (报表中心).
// JSON answers a page ({"items","nextCursor"}); xlsx streams every row the
// filter selects as an attachment (seed 003: 导出为 EXCEL).

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// badParam is a rejected query parameter: 400 when it cannot be read at
// all, 422 when it reads but makes no sense.
type badParam struct {
	status int
	code   string
	field  string
	err    error
}

func (b *badParam) Error() string { return b.field + ": " + b.err.Error() }

func malformed(field string, err error) *badParam {
	return &badParam{http.StatusBadRequest, CodeMalformed, field, err}
}

func invalid(field string, err error) *badParam {
	return &badParam{http.StatusUnprocessableEntity, CodeInvalidField, field, err}
}

// reportQuery is what every report reads from the query string.
type reportQuery struct {
	xlsx     bool
	pdf      bool // a printable PDF of every row (api/statementpdf.go)
	page     report.Page
	projects []string
	scope    store.Scope // the caller's site scope
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq, ok := reportParams(w, r)
	if !ok || !s.reportProject(w, r, &rq) {
		return
	}
	name := chi.URLParam(r, "name")
	if rq.pdf && name != "statement" { // the printable papers: the statement
		writeBad(w, invalid("format", errors.New("format=pdf is for the statement; use json or xlsx")))
		return
	}
	var err error
	switch name {
	case "status-board":
		f := report.StatusFilter{Projects: rq.projects, Scope: rq.scope, Site: q.Get("site"), Status: report.Status(q.Get("status"))}
		if f.Site != "" {
			if _, perr := uuid.Parse(f.Site); perr != nil {
				writeBad(w, malformed("site", errors.New("site must be a site id")))
				return
			}
		}
		if f.Status != "" && !f.Status.Valid() {
			writeBad(w, invalid("status", fmt.Errorf("status must be one of %v", report.Statuses())))
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.StatusRow) error) error {
			return report.StatusBoard(ctx, s.cfg.DB, f, p, fn)
		}, func(ctx context.Context, out map[string]any) error {
			counts, err := report.StatusCounts(ctx, s.cfg.DB, f)
			out["counts"] = counts
			return err
		})
	case "consumption":
		f := report.ConsumptionFilter{Projects: rq.projects, Scope: rq.scope, MeterNo: q.Get("meterNo"),
			Granularity: report.Granularity(orDefault(q.Get("granularity"), "day")),
			GroupBy:     report.GroupBy(orDefault(q.Get("groupBy"), "meter"))}
		f.Period, err = period(r, true)
		if !filterOK(w, err, f) {
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.ConsumptionRow) error) error {
			return report.Consumption(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "statement":
		f := report.StatementFilter{Projects: rq.projects, Scope: rq.scope, MeterNo: q.Get("meterNo")}
		if f.Period, err = period(r, true); err != nil {
			writeBad(w, err)
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.StatementRow) error) error {
			return report.Statement(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "lost-contact":
		f := report.LostContactFilter{Projects: rq.projects, Scope: rq.scope, Kind: q.Get("kind")}
		if v := q.Get("all"); v != "" {
			if f.All, err = strconv.ParseBool(v); err != nil {
				writeBad(w, malformed("all", errors.New("all must be true or false")))
				return
			}
		}
		f.Period, err = optionalPeriod(r)
		if !filterOK(w, err, f) {
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.LostContactRow) error) error {
			return report.LostContact(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "command-log":
		f := report.CommandLogFilter{Projects: rq.projects, Scope: rq.scope, MeterNo: q.Get("meterNo"), Status: q.Get("status")}
		f.Period, err = optionalPeriod(r)
		if !filterOK(w, err, f) {
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(report.CommandRow) error) error {
			return report.CommandLog(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "electrical-parameters":
		err = s.electricalReport(w, r, rq)
	default:
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no report "+name)
		return
	}
	s.reportAnswered(w, r, err)
}

func writeBad(w http.ResponseWriter, err error) {
	var b *badParam
	if errors.As(err, &b) {
		writeProblemField(w, b.status, b.code, b.Error(), b.field)
		return
	}
	writeProblem(w, http.StatusBadRequest, CodeMalformed, err.Error())
}

// validator is a report filter that checks itself, naming the field at fault.
type validator interface {
	Validate() (field string, err error)
}

// filterOK answers the problem for a filter whose period did not read (err)
// or that its report refuses, and reports whether there was none.
func filterOK(w http.ResponseWriter, err error, f validator) bool {
	if err == nil {
		if field, verr := f.Validate(); verr != nil {
			err = invalid(field, verr)
		}
	}
	if err != nil {
		writeBad(w, err)
		return false
	}
	return true
}

// reportParams reads what every report takes from the query string
// (format, limit, cursor) for the projects the caller may view; on a bad
// parameter it answers the problem and reports false.
func reportParams(w http.ResponseWriter, r *http.Request) (reportQuery, bool) {
	op := operatorFrom(r.Context())
	rq := reportQuery{projects: op.projectsFor(access.ViewData), scope: op.scope()}
	if err := rq.parse(r); err != nil {
		writeBad(w, err)
		return rq, false
	}
	return rq, true
}

// reportAnswered finishes a report handler: nothing more when the report
// was served, else the problem for a bad parameter or cursor, an export of
// too many rows, or an internal error.
func (s *Server) reportAnswered(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badParam
	switch {
	case err == nil:
	case errors.As(err, &bad):
		writeBad(w, bad)
	case errors.Is(err, report.ErrBadCursor):
		writeBad(w, malformed("cursor", err))
	case errors.Is(err, report.ErrTooManyRows):
		writeBad(w, invalid("format", fmt.Errorf("more than %d rows: narrow the filter", report.MaxRows)))
	default:
		s.internal(w, r, err)
	}
}

func (rq *reportQuery) parse(r *http.Request) error {
	q := r.URL.Query()
	switch q.Get("format") {
	case "", "json":
	case "xlsx":
		rq.xlsx = true
		return nil // an export has every row: no page
	case "pdf":
		rq.pdf = true
		return nil
	default:
		return invalid("format", errors.New("format must be json, xlsx or pdf"))
	}
	rq.page.Limit = 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return malformed("limit", errors.New("limit must be a number"))
		}
		if n < 1 || n > 500 {
			return invalid("limit", errors.New("limit must be 1..500"))
		}
		rq.page.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || textRule(string(raw), false) != "" {
			return malformed("cursor", errors.New("bad cursor"))
		}
		rq.page.After = string(raw)
	}
	return nil
}

// parseReportTime reads RFC 3339, or a bare date as midnight China time
// (the reports' days are China days).
func parseReportTime(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, chinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, malformed(field, errors.New("must be RFC 3339 or YYYY-MM-DD"))
}

var chinaTime = time.FixedZone("CST", 8*60*60)

func period(r *http.Request, required bool) (report.Period, error) {
	q := r.URL.Query()
	var p report.Period
	from, to := q.Get("from"), q.Get("to")
	if from == "" || to == "" {
		if required {
			return p, invalid("from", errors.New("from and to are required"))
		}
		if from != "" || to != "" {
			return p, invalid("from", errors.New("give both from and to, or neither"))
		}
		return p, nil
	}
	var err error
	if p.From, err = parseReportTime("from", from); err != nil {
		return p, err
	}
	if p.To, err = parseReportTime("to", to); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, invalid("from", err)
	}
	return p, nil
}

func optionalPeriod(r *http.Request) (*report.Period, error) {
	p, err := period(r, false)
	if err != nil || p.From.IsZero() {
		return nil, err
	}
	return &p, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// serveReport answers one report as a JSON page or as a streamed workbook.
// run walks the rows; extra adds fields to a JSON answer (nil: none).
func serveReport[T report.Row](s *Server, w http.ResponseWriter, r *http.Request, name string, rq reportQuery,
	run func(context.Context, report.Page, func(T) error) error, extra func(context.Context, map[string]any) error) error {
	ctx := r.Context()
	if rq.pdf {
		return servePDF(s, w, r, name, rq, run)
	}
	if !rq.xlsx {
		items := []T{}
		if err := run(ctx, rq.page, func(row T) error { items = append(items, row); return nil }); err != nil {
			return err
		}
		out := map[string]any{"items": items}
		if len(items) == rq.page.Limit {
			out["nextCursor"] = base64.RawURLEncoding.EncodeToString([]byte(items[len(items)-1].Cursor()))
		}
		if extra != nil {
			if err := extra(ctx, out); err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	var zero T
	sheet, err := report.NewSheet(name, zero.Headers())
	if err != nil {
		return err
	}
	defer func() { _ = sheet.Close() }()
	// Every row goes into the sheet's stream (and its temporary file) before
	// the first byte of the answer, so a failing query still gets a problem.
	if err := run(ctx, report.Page{}, report.Into[T](sheet)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition",
		fmt.Sprintf(`attachment; filename="%s-%s.xlsx"`, name, time.Now().In(chinaTime).Format("20060102-150405")))
	w.WriteHeader(http.StatusOK)
	if _, err := sheet.WriteTo(w); err != nil {
		// Headers are out: cut the connection so the client sees a failed
		// download rather than a truncated workbook.
		s.log.Error("report export failed", "report", name, "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
