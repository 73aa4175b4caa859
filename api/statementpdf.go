package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/internal/papers"
	"github.com/voltflow/voltflow/store/report"
)

// format=pdf on the statement: the same header and cells as its xlsx export on
// printable pages, titled with the projects and the period — the monthly
// energy-and-finance statement (电能与财务月报) is
// GET /reports/statement?format=pdf&from=2026-11-01&to=2026-12-01&project=<code>.

var reportTitles = map[string]string{
	"statement": "电能与财务月报 Energy and finance statement",
}

// cellText writes a cell as the xlsx shows it: numbers in their shortest
// form (excelize writes the same digits), text as is.
func cellText(c any) string {
	switch v := c.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func servePDF[T report.Row](s *Server, w http.ResponseWriter, r *http.Request, name string, rq reportQuery,
	run func(context.Context, report.Page, func(T) error) error) error {
	var zero T
	t := papers.Table{Title: reportTitles[name], Headers: zero.Headers()}
	if err := run(r.Context(), report.Page{}, func(row T) error {
		if len(t.Rows) >= report.MaxPDFRows {
			return report.ErrTooManyRows
		}
		cells := row.Cells()
		line := make([]string, len(cells))
		for i, c := range cells {
			line[i] = cellText(c)
		}
		t.Rows = append(t.Rows, line)
		return nil
	}); err != nil {
		return err
	}
	var names []string
	if err := s.cfg.DB.QueryRow(r.Context(), `select coalesce(array_agg(name order by name), '{}') from projects where id::text = any($1)`,
		rq.projects).Scan(&names); err != nil {
		return err
	}
	q := r.URL.Query()
	t.Subtitle = append(t.Subtitle, "项目 Project: "+strings.Join(names, "、"))
	if from, to := q.Get("from"), q.Get("to"); from != "" {
		t.Subtitle = append(t.Subtitle, "期间 Period: "+from+" — "+to)
	}
	t.Subtitle = append(t.Subtitle, fmt.Sprintf("共 %d 行 rows · 打印时间 Printed %s", len(t.Rows), time.Now().In(chinaTime).Format("2006-01-02 15:04")))
	var buf bytes.Buffer
	if err := s.fonts.WriteTable(&buf, t); err != nil {
		s.paperFailed(w, r, err)
		return nil
	}
	writePDF(w, buf.Bytes(), name+"-"+time.Now().In(chinaTime).Format("20060102-150405"))
	return nil
}

// reportProject narrows a report to one project (?project=<code>, e.g. the
// statement per project); one the caller cannot view is a 404.
func (s *Server) reportProject(w http.ResponseWriter, r *http.Request, rq *reportQuery) bool {
	code := r.URL.Query().Get("project")
	if code == "" {
		return true
	}
	var id string
	err := s.cfg.DB.QueryRow(r.Context(), `select id::text from projects where code=$1 and id::text = any($2)`, code, rq.projects).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "project "+code+" not found", "project")
		return false
	}
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	rq.projects = []string{id}
	return true
}
