package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store/operator"
)

// Group HQ (集团总部): a role held on an organisation that views every
// project of it — meters, lists, reports — and writes nothing; each
// project's money stays separate because HQ can take no money action.
// Only a platform administrator grants it: it crosses projects.

func (s *Server) grantOrganisationRole(w http.ResponseWriter, r *http.Request, req GrantRoleRequest) {
	if !s.platformAdmin(w, r, "a role on an organisation") {
		return
	}
	switch {
	case access.Role(req.Role) != access.HQ:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "role: hq is the one role held on an organisation", "role")
		return
	case req.Organisation == "" || req.Project != "":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "organisation: hq is granted on an organisation, not a project", "organisation")
		return
	case len(req.SiteIDs) > 0 || len(req.StationIDs) > 0:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "siteIds: hq sees whole projects", "siteIds")
		return
	}
	oid, err := operator.OrganisationID(r.Context(), s.cfg.DB, req.Organisation)
	if errors.Is(err, operator.ErrNotFound) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "organisation "+req.Organisation+" not found", "organisation")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	t, ok := s.grantTarget(w, r, chi.URLParam(r, "username"))
	if !ok {
		return
	}
	if err := operator.AddOrganisationRole(r.Context(), s.cfg.DB, t.ID, oid, req.Role); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"username": t.Username, "organisation": req.Organisation, "role": req.Role})
}

func (s *Server) revokeOrganisationRole(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.platformAdmin(w, r, "a role on an organisation") {
		return
	}
	oid, err := operator.OrganisationID(r.Context(), s.cfg.DB, q.Get("organisation"))
	if errors.Is(err, operator.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "organisation "+q.Get("organisation")+" not found")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	t, ok := s.grantTarget(w, r, chi.URLParam(r, "username"))
	if !ok {
		return
	}
	err = operator.RemoveOrganisationRole(r.Context(), s.cfg.DB, t.ID, oid, q.Get("role"))
	if errors.Is(err, operator.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, t.Username+" does not hold role "+q.Get("role")+" in organisation "+q.Get("organisation"))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
