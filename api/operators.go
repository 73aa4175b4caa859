package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/setup"
	"github.com/voltflow/voltflow/store/apikey"
	"github.com/voltflow/voltflow/store/audit"
	"github.com/voltflow/voltflow/store/operator"
)

// operatorRoutes are operators, roles, passwords, sessions, the audit log
// and project API keys (S1, S2).
func (s *Server) operatorRoutes(r chi.Router) {
	r.With(s.audit("operator.create")).Post("/operators", s.createOperator)
	r.With(s.audit("operator.role.grant")).Post("/operators/{username}/roles", s.grantRole)
	r.With(s.audit("operator.role.revoke")).Delete("/operators/{username}/roles", s.revokeRole)
	r.With(s.audit("operator.disable")).Post("/operators/{username}/disable", s.setOperatorDisabled(true))
	r.With(s.audit("operator.enable")).Post("/operators/{username}/enable", s.setOperatorDisabled(false))
	r.With(s.audit("operator.password.reset")).Post("/operators/{username}/password", s.resetPassword)
	r.With(s.audit("operator.sessions.end")).Delete("/operators/{username}/sessions", s.endOperatorSessions)
	r.With(s.audit("auth.password")).Post("/auth/password", s.changePassword)
	r.Get("/auth/sessions", s.listSessions)
	r.With(s.audit("auth.session.end")).Delete("/auth/sessions/{id}", s.endSession)
	r.Get("/audit-log", s.listAuditLog)
	r.Get("/projects/{project}/api-keys", s.listAPIKeys)
	r.With(s.audit("api-key.create")).Post("/projects/{project}/api-keys", s.createAPIKey)
	r.With(s.audit("api-key.revoke")).Delete("/projects/{project}/api-keys/{id}", s.revokeAPIKey)
}

// CreateOperatorRequest is POST /api/v1/operators.
type CreateOperatorRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"displayName"`
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req CreateOperatorRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", req.Username, nil)
	if !op.PlatformAdmin && len(op.adminProjects()) == 0 {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "creating operators needs the admin role or a platform administrator")
		return
	}
	if !validSetup(w, setup.CheckUsername(req.Username)) {
		return
	}
	if err := access.CheckPassword(req.Username, req.Password); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeWeakPassword, err.Error(), "password")
		return
	}
	if req.DisplayName == "" {
		req.DisplayName = req.Username
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	id, err := operator.Create(r.Context(), s.cfg.DB, operator.New{Username: req.Username, DisplayName: req.DisplayName,
		PasswordHash: string(hash), OrganisationID: op.OrganisationID})
	if errors.Is(err, operator.ErrExists) {
		writeProblemField(w, http.StatusConflict, CodeOperatorExists, "username "+req.Username+" is taken", "username")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "username": req.Username})
}

// adminProjects lists the projects where the caller holds the admin role.
func (op *Operator) adminProjects() []string {
	var out []string
	for _, p := range op.Grants.Projects() {
		if slices.Contains(op.Grants[p], access.Admin) {
			out = append(out, p)
		}
	}
	return out
}

// administeredProject resolves {project} or a code for a caller who administers
// it: 404 when unknown or invisible to the caller, 403 when only visible.
func (s *Server) administeredProject(w http.ResponseWriter, r *http.Request, code string) (string, bool) {
	return s.projectWhere(w, r, code, "the admin role", (*Operator).administers)
}

// projectWhere is the id of the project with code when the caller may act
// there (may), else it answers 404 (not one of the caller's projects) or
// 403 (need names what is missing).
func (s *Server) projectWhere(w http.ResponseWriter, r *http.Request, code, need string, may func(*Operator, string) bool) (string, bool) {
	op := operatorFrom(r.Context())
	id, err := operator.ProjectID(r.Context(), s.cfg.DB, code)
	if errors.Is(err, operator.ErrNotFound) || (err == nil && !op.PlatformAdmin && len(op.Grants[id]) == 0) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "project "+code+" not found", "project")
		return "", false
	}
	if err != nil {
		s.internal(w, r, err)
		return "", false
	}
	setAudit(r, id, auditSubject(r), nil)
	if !may(op, id) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "needs "+need+" in project "+code)
		return "", false
	}
	return id, true
}

func auditSubject(r *http.Request) string {
	if a, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		return a.subject
	}
	return ""
}

// targetOperator finds {username} for a caller who may manage it: a
// platform administrator, or an admin of every project it holds a role in
// (of the caller's organisation when it holds none). Others get 404.
func (s *Server) targetOperator(w http.ResponseWriter, r *http.Request) (operator.Operator, bool) {
	op := operatorFrom(r.Context())
	username := chi.URLParam(r, "username")
	setAudit(r, "", username, nil)
	t, err := operator.ByUsername(r.Context(), s.cfg.DB, username)
	if err == nil && t.Kind != "person" {
		err = operator.ErrNotFound // API keys are managed as keys
	}
	if err == nil && !op.PlatformAdmin {
		ok := !t.PlatformAdmin
		if ok {
			grants, gerr := operator.Roles(r.Context(), s.cfg.DB, t.ID)
			if gerr != nil {
				s.internal(w, r, gerr)
				return t, false
			}
			for _, g := range grants {
				ok = ok && op.administers(g.ProjectID)
			}
			ok = ok && (len(grants) > 0 || (op.OrganisationID != "" && t.OrganisationID == op.OrganisationID && len(op.adminProjects()) > 0))
		}
		if !ok {
			err = operator.ErrNotFound
		}
	}
	if errors.Is(err, operator.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "operator "+username+" not found")
		return t, false
	}
	if err != nil {
		s.internal(w, r, err)
		return t, false
	}
	return t, true
}

// GrantRoleRequest is POST /api/v1/operators/{username}/roles.
type GrantRoleRequest struct {
	Project string   `json:"project"`
	Role    string   `json:"role"`
	SiteIDs []string `json:"siteIds"`
	// Organisation (its code) instead of Project grants a role held on
	// the organisation: hq, the group headquarters.
	Organisation string   `json:"organisation"`
	StationIDs   []string `json:"stationIds"`
}

func (s *Server) grantRole(w http.ResponseWriter, r *http.Request) {
	var req GrantRoleRequest
	if !decode(w, r, &req) {
		return
	}
	username := chi.URLParam(r, "username")
	setAudit(r, "", username, map[string]any{"project": req.Project, "role": req.Role, "siteIds": req.SiteIDs,
		"organisation": req.Organisation, "stationIds": req.StationIDs})
	if req.Organisation != "" || access.Role(req.Role) == access.HQ {
		s.grantOrganisationRole(w, r, req)
		return
	}
	pid, ok := s.administeredProject(w, r, req.Project)
	if !ok {
		return
	}
	if !validSetup(w, setup.CheckRole(req.Role)) {
		return
	}
	t, ok := s.grantTarget(w, r, username)
	if !ok {
		return
	}
	if len(req.SiteIDs) > 0 {
		in, err := operator.SitesInProject(r.Context(), s.cfg.DB, pid, req.SiteIDs)
		if err != nil || !in {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "siteIds: every id must be a site of project "+req.Project, "siteIds")
			return
		}
	}
	if len(req.StationIDs) > 0 {
		in, err := operator.StationsInProject(r.Context(), s.cfg.DB, pid, req.StationIDs)
		if err != nil || !in {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "stationIds: every id must be a charging station of project "+req.Project, "stationIds")
			return
		}
	}
	if err := operator.AddRole(r.Context(), s.cfg.DB, t.ID, operator.Grant{ProjectID: pid, Role: req.Role, SiteIDs: req.SiteIDs, StationIDs: req.StationIDs}); err != nil {
		s.internal(w, r, err)
		return
	}
	sites := req.SiteIDs
	if sites == nil {
		sites = []string{}
	}
	stations := req.StationIDs
	if stations == nil {
		stations = []string{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"username": t.Username, "project": req.Project, "role": req.Role, "siteIds": sites,
		"stationIds": stations})
}

// grantTarget finds a person operator to grant a role to: a project admin
// may grant to any operator (it then manages it in that project).
func (s *Server) grantTarget(w http.ResponseWriter, r *http.Request, username string) (operator.Operator, bool) {
	t, err := operator.ByUsername(r.Context(), s.cfg.DB, username)
	if err == nil && t.Kind != "person" {
		err = operator.ErrNotFound
	}
	if errors.Is(err, operator.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "operator "+username+" not found")
		return t, false
	}
	if err != nil {
		s.internal(w, r, err)
		return t, false
	}
	return t, true
}

func (s *Server) revokeRole(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	username := chi.URLParam(r, "username")
	setAudit(r, "", username, map[string]any{"project": q.Get("project"), "role": q.Get("role"), "organisation": q.Get("organisation")})
	if q.Get("organisation") != "" {
		s.revokeOrganisationRole(w, r)
		return
	}
	pid, ok := s.administeredProject(w, r, q.Get("project"))
	if !ok {
		return
	}
	t, ok := s.grantTarget(w, r, username)
	if !ok {
		return
	}
	err := operator.RemoveRole(r.Context(), s.cfg.DB, t.ID, pid, q.Get("role"))
	if errors.Is(err, operator.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, username+" does not hold role "+q.Get("role")+" in "+q.Get("project"))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setOperatorDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.targetOperator(w, r)
		if !ok {
			return
		}
		if t.ID == operatorFrom(r.Context()).ID {
			writeProblem(w, http.StatusForbidden, CodeForbidden, "an operator cannot disable or enable itself")
			return
		}
		if err := operator.SetDisabled(r.Context(), s.cfg.DB, t.ID, disabled); err != nil {
			s.internal(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// ResetPasswordRequest is POST /api/v1/operators/{username}/password.
type ResetPasswordRequest struct {
	Password string `json:"password"`
}

// resetPassword sets a temporary password; the operator must change it at
// its next login, and its sessions end now.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var req ResetPasswordRequest
	if !decode(w, r, &req) {
		return
	}
	t, ok := s.targetOperator(w, r)
	if !ok {
		return
	}
	if err := access.CheckPassword(t.Username, req.Password); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeWeakPassword, err.Error(), "password")
		return
	}
	if !s.setPassword(w, r, t.ID, req.Password, true, nil) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setPassword stores a password and ends the operator's sessions but keep.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, id, password string, mustChange bool, keep []byte) bool {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err == nil {
		err = operator.SetPassword(r.Context(), s.cfg.DB, id, string(hash), mustChange)
	}
	if err == nil {
		err = operator.EndSessions(r.Context(), s.cfg.DB, id, keep)
	}
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	return true
}

func (s *Server) endOperatorSessions(w http.ResponseWriter, r *http.Request) {
	t, ok := s.targetOperator(w, r)
	if !ok {
		return
	}
	if err := operator.EndSessions(r.Context(), s.cfg.DB, t.ID, nil); err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ChangePasswordRequest is POST /api/v1/auth/password.
type ChangePasswordRequest struct {
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

// changePassword changes the caller's own password; its other sessions end.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req ChangePasswordRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", op.Username, nil)
	if op.tokenHash == nil {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "an API key has no password")
		return
	}
	o, err := operator.ByID(r.Context(), s.cfg.DB, op.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte(req.OldPassword)) != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeBadCredentials, "oldPassword is not the current password", "oldPassword")
		return
	}
	if err := access.CheckPassword(o.Username, req.NewPassword); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeWeakPassword, err.Error(), "newPassword")
		return
	}
	if req.NewPassword == req.OldPassword {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeWeakPassword, "newPassword: must differ from the old one", "newPassword")
		return
	}
	if !s.setPassword(w, r, op.ID, req.NewPassword, false, op.tokenHash) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Session is one of the caller's login sessions.
type Session struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Current   bool      `json:"current"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	ss, err := operator.Sessions(r.Context(), s.cfg.DB, op.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	items := make([]Session, 0, len(ss))
	for _, x := range ss {
		items = append(items, Session{ID: strconv.FormatInt(x.ID, 10), CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt,
			Current: x.ID == op.sessionID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	setAudit(r, "", "session "+chi.URLParam(r, "id"), nil)
	// A session id that is not a number names no session: 404, like an unknown one.
	err := operator.ErrNotFound
	if id, perr := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64); perr == nil && id > 0 {
		err = operator.EndSession(r.Context(), s.cfg.DB, op.ID, id)
	}
	if err != nil && !errors.Is(err, operator.ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	if err != nil {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no session "+chi.URLParam(r, "id")+" of yours")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listAuditLog answers the audit log: a platform administrator sees every
// entry, a project admin those of its projects. format=xlsx exports.
func (s *Server) listAuditLog(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	q := r.URL.Query()
	f := audit.Filter{Operator: q.Get("operator"), Action: q.Get("action"), Subject: q.Get("subject"), Limit: 100}
	if !op.PlatformAdmin {
		f.Projects = op.adminProjects()
		if len(f.Projects) == 0 {
			writeProblem(w, http.StatusForbidden, CodeForbidden, "the audit log needs the admin role")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "limit: 1–10000", "limit")
			return
		}
		f.Limit = n
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeProblemField(w, http.StatusBadRequest, CodeInvalidField, p.name+": RFC 3339 time", p.name)
				return
			}
			*p.to = t
		}
	}
	items, err := audit.List(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	switch q.Get("format") {
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	case "xlsx":
		s.writeAuditXLSX(w, r, items)
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "format: json or xlsx", "format")
	}
}

func (s *Server) writeAuditXLSX(w http.ResponseWriter, r *http.Request, items []audit.Entry) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	const sheet = "Sheet1"
	rows := [][]any{{"时间 At", "操作员 Operator", "操作 Action", "对象 Subject", "状态 Status"}}
	for _, e := range items {
		rows = append(rows, []any{e.At.Format(time.RFC3339), e.Operator, e.Action, e.Subject, e.Status})
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-log.xlsx"`)
	if err := f.Write(w); err != nil {
		s.log.Error("write audit xlsx", "error", err)
	}
}

// CreateAPIKeyRequest is POST /api/v1/projects/{project}/api-keys.
type CreateAPIKeyRequest struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req CreateAPIKeyRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", req.Name, map[string]any{"roles": req.Roles})
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "name: required", "name")
		return
	}
	if len(req.Roles) == 0 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "roles: at least one", "roles")
		return
	}
	for _, role := range req.Roles {
		if !access.Role(role).Valid() {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "roles: "+role+" is not a role", "roles")
			return
		}
	}
	org, err := operator.OrganisationOfProject(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	id, key, err := apikey.Create(r.Context(), s.cfg.DB, pid, org, req.Name, req.Roles, operatorFrom(r.Context()).ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, pid, "api-key "+id, map[string]any{"name": req.Name, "roles": req.Roles})
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "key": key})
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	ks, err := apikey.List(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ks})
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	setAudit(r, "", "api-key "+id, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	err := apikey.Revoke(r.Context(), s.cfg.DB, pid, id)
	if errors.Is(err, apikey.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "API key "+id+" not found in this project")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
