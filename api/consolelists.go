package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/customer"
	"github.com/voltflow/voltflow/store/operator"
	"github.com/voltflow/voltflow/store/site"
)

// consoleListRoutes are the lists the web console needed and the API
// lacked (issue 18): the charging stations with their position, for the
// station list and the offline map; the operators with their roles; a
// project's units and customers, to pick them when opening an account.
func (s *Server) consoleListRoutes(r chi.Router) {
	r.Get("/charging-stations", s.listChargingStations)
	r.Get("/operators", s.listOperators)
	r.Get("/projects/{project}/units", s.listUnits)
	r.Get("/projects/{project}/customers", s.listCustomers)
}

func (s *Server) listChargingStations(w http.ResponseWriter, r *http.Request) {
	items, err := charger.Stations(r.Context(), s.cfg.DB, nonNil(operatorFrom(r.Context()).projectsFor(access.ViewData)))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// listOperators answers every operator to a platform administrator and, to
// a project admin, the operators holding a role in its projects.
func (s *Server) listOperators(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var projects []string
	if !op.PlatformAdmin {
		if projects = op.adminProjects(); len(projects) == 0 {
			writeProblem(w, http.StatusForbidden, CodeForbidden, "listing operators needs the admin role or a platform administrator")
			return
		}
	}
	items, err := operator.List(r.Context(), s.cfg.DB, projects)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// listUnits answers the project's units a caller may view: a site-scoped
// operator only those under its sites.
func (s *Server) listUnits(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	items, err := site.Units(r.Context(), s.cfg.DB, pid, operatorFrom(r.Context()).scopeIn(pid))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

// listCustomers answers the project's customers a caller may view: a
// site-scoped operator only those with an account under its sites.
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	items, err := customer.List(r.Context(), s.cfg.DB, pid, operatorFrom(r.Context()).scopeIn(pid))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}
