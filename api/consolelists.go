package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/operator"
)

// consoleListRoutes are the lists the web console needed and the API
// lacked (issue 18): the charging stations with their position, for the
// station list and the offline map, and the operators with their roles.
func (s *Server) consoleListRoutes(r chi.Router) {
	r.Get("/charging-stations", s.listChargingStations)
	r.Get("/operators", s.listOperators)
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
