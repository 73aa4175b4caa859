package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	archivestore "github.com/voltflow/voltflow/store/archive"
	archivewf "github.com/voltflow/voltflow/workflows/archive"
)

// Reading archive (S5): a project's months of readings past its retention
// (settings' readingRetentionMonths) leave PostgreSQL for gzip files; they
// are listed here and can be restored for a report.
func (s *Server) archiveRoutes(r chi.Router) {
	r.Get("/projects/{project}/archives", s.listArchives)
	r.With(s.audit("readings.archive")).Post("/projects/{project}/archives", s.startArchive)
	r.With(s.audit("readings.restore")).Post("/projects/{project}/archives/{month}/restore", s.restoreArchive)
}

// ArchiveView is one archived month.
type ArchiveView struct {
	Month      string     `json:"month"` // YYYY-MM (UTC)
	Status     string     `json:"status"`
	File       string     `json:"file"` // relative to the archive directory
	Rows       int64      `json:"rows"`
	SHA256     string     `json:"sha256"`     // of the rows, uncompressed
	FileSHA256 string     `json:"fileSha256"` // of the .gz file
	Bytes      int64      `json:"bytes"`
	ArchivedAt *time.Time `json:"archivedAt"`
	RestoredAt *time.Time `json:"restoredAt"`
}

// Archives is GET …/archives.
type Archives struct {
	RetentionMonths *int          `json:"retentionMonths"`
	Archives        []ArchiveView `json:"archives"`
}

func (s *Server) listArchives(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	keep, err := archivestore.Retention(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	all, err := archivestore.List(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := Archives{RetentionMonths: keep, Archives: make([]ArchiveView, 0, len(all))}
	for _, a := range all {
		out.Archives = append(out.Archives, ArchiveView{Month: archivewf.MonthID(a.Month), Status: a.Status, File: a.File,
			Rows: a.Rows, SHA256: a.SHA256, FileSHA256: a.FileSHA256, Bytes: a.Bytes, ArchivedAt: a.ArchivedAt, RestoredAt: a.RestoredAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// ArchiveRequest is POST …/archives: one month by name (any month before
// the current one, also inside the retention, or a restored one), or,
// without it, every month past the retention.
type ArchiveRequest struct {
	Month *string `json:"month"`
}

// ArchiveStarted answers it and the restore.
type ArchiveStarted struct {
	WorkflowID string `json:"workflowId"`
}

// parseMonth reads YYYY-MM (UTC) of a month before the current one.
func parseMonth(w http.ResponseWriter, v string) (time.Time, bool) {
	m, err := time.Parse("2006-01", v)
	if err != nil || !m.Before(archivestore.MonthOf(time.Now())) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "month: YYYY-MM of a month before the current one", "month")
		return time.Time{}, false
	}
	return m.UTC(), true
}

func (s *Server) startArchive(w http.ResponseWriter, r *http.Request) {
	var req ArchiveRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	pid, ok := s.administeredProject(w, r, code)
	if !ok {
		return
	}
	in := archivewf.Input{ProjectID: pid, ProjectCode: code}
	if req.Month != nil {
		if in.Month, ok = parseMonth(w, *req.Month); !ok {
			return
		}
	} else {
		keep, err := archivestore.Retention(r.Context(), s.cfg.DB, pid)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if keep == nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
				"month: required while the project keeps every month (set readingRetentionMonths in its settings)", "month")
			return
		}
	}
	setAudit(r, pid, archivewf.WorkflowID(code, in.Month), map[string]any{"month": req.Month})
	s.startArchiveWorkflow(w, r, archivewf.Kind, in)
}

func (s *Server) restoreArchive(w http.ResponseWriter, r *http.Request) {
	code := chi.URLParam(r, "project")
	pid, ok := s.administeredProject(w, r, code)
	if !ok {
		return
	}
	m, ok := parseMonth(w, chi.URLParam(r, "month"))
	if !ok {
		return
	}
	setAudit(r, pid, archivewf.RestoreID(code, m), nil)
	a, found, err := archivestore.Get(r.Context(), s.cfg.DB, archivestore.MonthInput{ProjectID: pid, Month: m})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !found || (a.Status != archivestore.StatusArchived && a.Status != archivestore.StatusRestoring &&
		a.Status != archivestore.StatusRestored) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "month "+archivewf.MonthID(m)+" is not archived")
		return
	}
	s.startArchiveWorkflow(w, r, archivewf.KindRestore, archivewf.Input{ProjectID: pid, ProjectCode: code, Month: m})
}

func (s *Server) startArchiveWorkflow(w http.ResponseWriter, r *http.Request, kind string, in archivewf.Input) {
	if s.cfg.Temporal == nil {
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "no workflow engine")
		return
	}
	id, err := archivewf.Start(r.Context(), s.cfg.Temporal, kind, in)
	if err != nil {
		s.log.Error("start archive workflow", "kind", kind, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the workflow could not be started; send the same request again")
		return
	}
	writeJSON(w, http.StatusAccepted, ArchiveStarted{WorkflowID: id})
}

// applyRetention creates the project's nightly archive Schedule once it
// has a retention (a PUT repeated after a failure heals it).
func (s *Server) applyRetention(w http.ResponseWriter, r *http.Request, pid string, months *int) bool {
	if s.cfg.Temporal == nil || months == nil {
		return true
	}
	code := chi.URLParam(r, "project")
	if err := archivewf.EnsureSchedule(r.Context(), s.cfg.Temporal, pid, code); err != nil {
		s.log.Error("project settings: create the reading archive schedule", "project", code, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the settings are saved; send the same request again to schedule the reading archive")
		return false
	}
	return true
}
