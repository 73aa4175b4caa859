package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store/dashboard"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
)

// consoleRoutes are the summaries the operator console reads (issue 18):
// each answers in one call what a screen shows, so the console's polling
// every 2 s costs one request per screen.
func (s *Server) consoleRoutes(r chi.Router) {
	r.Get("/projects/{project}/dashboard", s.dashboard)
	r.Get("/projects/{project}/meter-board", s.meterBoard)
	r.Get("/projects/{project}/inbox", s.inbox)
	r.Get("/meters/{meterNo}/readings", s.meterReadings)
}

// viewedProject resolves {project} for a caller who may view its data.
func (s *Server) viewedProject(w http.ResponseWriter, r *http.Request) (string, bool) {
	return s.projectWhere(w, r, chi.URLParam(r, "project"), "a role", func(op *Operator, id string) bool {
		return op.Grants.Can(id, access.ViewData)
	})
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewedProject(w, r)
	if !ok {
		return
	}
	now := time.Now()
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	sum, err := dashboard.LoadSummary(r.Context(), s.cfg.DB, pid, operatorFrom(r.Context()).scopeIn(pid), dayStart)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// meterBoard is the colour status board: a page of tiles (offset, limit up
// to 2,000) with the counts by status.
func (s *Server) meterBoard(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewedProject(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := dashboard.BoardFilter{ProjectID: pid, Sites: operatorFrom(r.Context()).scopeIn(pid), SiteID: q.Get("siteId"),
		Status: q.Get("status"), Query: q.Get("q"), Limit: 500}
	if f.Status != "" && !slices.Contains(dashboard.Statuses, f.Status) {
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be one of normal, cut_off, fault, alarm, lost, not_opened", "status")
		return
	}
	for name, dst := range map[string]*int{"offset": &f.Offset, "limit": &f.Limit} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || (name == "limit" && (n < 1 || n > 2000)) {
			writeProblemField(w, http.StatusBadRequest, CodeInvalidField, name+" must be a whole number (limit 1 to 2000)", name)
			return
		}
		*dst = n
	}
	b, err := dashboard.LoadBoard(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// inbox lists a project's tasks with who applied and whose meter it is.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewedProject(w, r)
	if !ok {
		return
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", inboxstore.Pending, inboxstore.Approved, inboxstore.Rejected, inboxstore.Expired:
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be pending, approved, rejected or expired", "status")
		return
	}
	items, err := dashboard.Inbox(r.Context(), s.cfg.DB, pid, status, 200)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// meterReadings is a meter's stored readings over a period (default the
// last 48 hours), at most 2,000 (the newest).
func (s *Server) meterReadings(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), chi.URLParam(r, "meterNo"))
	if !s.found(w, r, err, pgx.ErrNoRows, "meter not found") {
		return
	}
	to := time.Now()
	from := to.Add(-48 * time.Hour)
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeProblemField(w, http.StatusBadRequest, CodeMalformed, name+" must be an RFC 3339 time", name)
				return
			}
			*dst = t
		}
	}
	items, err := dashboard.Readings(r.Context(), s.cfg.DB, m.id, from, to, 2000)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"meterNo": m.meterNo, "items": nonNil(items)})
}
