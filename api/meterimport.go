package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/devices/profile"
	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	meterimportstore "github.com/voltflow/voltflow/store/meterimport"
	"github.com/voltflow/voltflow/store/organisation"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// CodeInvalidImport is a sheet with problems; nothing of it was stored.
const CodeInvalidImport = "invalid_import"

// maxImportBytes bounds an uploaded sheet: 100,000 meters take about 10 MB
// of CSV.
const maxImportBytes = 64 << 20

// importProblem is the problem of a sheet with bad rows: every row's
// problems, so the operator mends the sheet in one go.
type importProblem struct {
	Problem
	ProblemCount int                      `json:"problemCount"`
	Problems     []meterimportdom.Problem `json:"problems"`
}

// importMeters stores a sheet of gateways and meters (M2 bulk import):
// text/csv or an xlsx workbook (its first sheet), a heading row then one
// meter per row. All rows or none; ?dry_run=true checks without storing.
func (s *Server) importMeters(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminProject(w, r, "importing meters")
	if !ok {
		return
	}
	dryRun := false
	switch r.URL.Query().Get("dry_run") {
	case "", "false":
	case "true":
		dryRun = true
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "dry_run is true or false", "dry_run")
		return
	}
	// The sheet is read as it arrives, never held whole: rows go one by one
	// through the checks into the store's staging table.
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var heading []string
	var next func() ([]string, bool, error)
	var err error
	switch mediaType {
	case "text/csv":
		cr := csv.NewReader(body)
		cr.FieldsPerRecord = -1 // short rows are blank cells
		cr.ReuseRecord = true   // a checked row keeps none of its cells
		heading, err = cr.Read()
		if errors.Is(err, io.EOF) {
			heading, err = nil, nil
		}
		heading = slices.Clone(heading)
		if len(heading) > 0 { // Excel writes UTF-8 CSV with a byte order mark
			heading[0] = strings.TrimPrefix(heading[0], "\ufeff")
		}
		next = func() ([]string, bool, error) {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil, false, nil
			}
			return rec, err == nil, err
		}
	case xlsxType:
		var done func()
		heading, next, done, err = xlsxRows(body)
		defer done()
	default:
		writeProblem(w, http.StatusUnsupportedMediaType, CodeMalformed, "send text/csv or "+xlsxType)
		return
	}
	if err == nil && heading == nil {
		err = errors.New("the sheet is empty")
	}
	var res meterimportstore.Result
	var problems meterimportstore.Problems
	if err == nil {
		profiles := profile.Names()
		res, problems, err = meterimportstore.ApplySheet(r.Context(), s.cfg.DB, pid, heading,
			func(name string) bool { return slices.Contains(profiles, name) }, next, dryRun)
	}
	var tooLarge *http.MaxBytesError
	var unreadable *meterimportstore.ReadError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, http.StatusRequestEntityTooLarge, CodeMalformed,
			fmt.Sprintf("the sheet is larger than %d MB: split it", maxImportBytes>>20))
		return
	case errors.As(err, &unreadable), err != nil && heading == nil:
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "cannot read the sheet: "+err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if problems.Count > 0 {
		p := importProblem{
			Problem: Problem{Type: "https://voltflow.dev/problems/" + CodeInvalidImport, Title: "The sheet has problems",
				Status: http.StatusUnprocessableEntity, Code: CodeInvalidImport,
				Detail: fmt.Sprintf("%d problems, first %s; nothing was stored", problems.Count, problems.List[0])},
			ProblemCount: problems.Count,
			Problems:     problems.List,
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(p)
		return
	}
	if !dryRun && res.MetersCreated > 0 {
		s.ensureSweeps(r, pid)
	}
	setAudit(r, pid, "", map[string]any{"gatewaysCreated": res.GatewaysCreated, "metersCreated": res.MetersCreated,
		"metersUnchanged": res.MetersUnchanged, "dryRun": dryRun})
	status := http.StatusCreated
	if dryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
}

// xlsxMemory is how much of a workbook's unzipped XML excelize keeps in
// memory; a larger sheet is unzipped to a temporary file and read from it.
const xlsxMemory = 1 << 20

// xlsxRows reads a workbook's first sheet row by row; done frees what
// reading it took. The upload is spooled to a temporary file (a zip is
// read from its end), and excelize unzips a large sheet to another one.
func xlsxRows(body io.Reader) (heading []string, next func() ([]string, bool, error), done func(), err error) {
	done = func() {}
	spool, err := os.CreateTemp("", "meter-import-*.xlsx")
	if err != nil {
		return nil, nil, done, fmt.Errorf("spool the workbook: %w", err)
	}
	removeSpool := func() { _ = spool.Close(); _ = os.Remove(spool.Name()) }
	if _, err := io.Copy(spool, body); err != nil {
		removeSpool()
		return nil, nil, done, err
	}
	f, err := excelize.OpenFile(spool.Name(), excelize.Options{UnzipSizeLimit: 16 * maxImportBytes, UnzipXMLSizeLimit: xlsxMemory})
	removeSpool() // OpenFile has read what it needs
	if err != nil {
		return nil, nil, done, err
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, nil, done, errors.New("the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		_ = f.Close()
		return nil, nil, done, err
	}
	done = func() { _ = rows.Close(); _ = f.Close() }
	next = func() ([]string, bool, error) {
		if !rows.Next() {
			return nil, false, rows.Error()
		}
		cells, err := rows.Columns()
		return cells, err == nil, err
	}
	heading, ok, err := next()
	if err != nil || !ok {
		return nil, nil, done, err
	}
	return heading, next, done, nil
}

// ensureSweeps gives the project a sweep Schedule if it has none: workers
// create Schedules when they start, for the projects there then. A failure
// is logged, not the import's: the next worker start creates it.
func (s *Server) ensureSweeps(r *http.Request, projectID string) {
	if s.cfg.Temporal == nil {
		return
	}
	p := sweepwf.Project{ID: projectID, Code: chi.URLParam(r, "project")}
	every := s.cfg.SweepInterval
	settings, err := organisation.ProjectSettings(r.Context(), s.cfg.DB, projectID)
	if err == nil {
		every, err = sweepwf.ProjectInterval(settings.ReadingInterval, s.cfg.SweepInterval)
	}
	if err != nil {
		s.log.Warn("meter import: the project's reading interval is unreadable; the server's applies", "project", p.Code, "error", err)
		every = s.cfg.SweepInterval
	}
	created, err := sweepwf.CreateSchedule(r.Context(), s.cfg.Temporal, p, every)
	switch {
	case err != nil:
		s.log.Warn("meter import: the project's sweep schedule is missing and could not be created", "project", p.Code, "error", err)
	case created:
		s.log.Info("meter import: sweep schedule created", "project", p.Code, "schedule", sweepwf.ScheduleID(p.Code))
	}
}
