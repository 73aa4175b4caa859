package api

import (
	"net/http"

	"github.com/voltflow/voltflow/store/operator"
	"github.com/voltflow/voltflow/store/organisation"
)

// meProject is one project the caller may see, with the caller's roles there.
type meProject struct {
	ID    string   `json:"id"`
	Code  string   `json:"code"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// me is GET /api/v1/auth/me: who the caller is and what it may do where —
// the console decides from it which screens and buttons to show (the API
// still checks every call on its own).
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	display := op.Username
	mustChange := false
	if o, err := operator.ByID(r.Context(), s.cfg.DB, op.ID); err == nil {
		if o.DisplayName != "" {
			display = o.DisplayName
		}
		mustChange = o.MustChangePassword
	}
	ps, err := organisation.Projects(r.Context(), s.cfg.DB, op.Grants.Projects(), op.PlatformAdmin)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	projects := make([]meProject, 0, len(ps))
	for _, p := range ps {
		roles := []string{}
		for _, role := range op.Grants[p.ID] {
			roles = append(roles, string(role))
		}
		projects = append(projects, meProject{ID: p.ID, Code: p.Code, Name: p.Name, Roles: roles})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": op.ID, "username": op.Username, "displayName": display, "platformAdmin": op.PlatformAdmin,
		"mustChangePassword": mustChange, "projects": projects,
	})
}
