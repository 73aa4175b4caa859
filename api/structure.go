package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	closingstore "github.com/voltflow/voltflow/store/closing"
	"github.com/voltflow/voltflow/store/customer"
	"github.com/voltflow/voltflow/store/organisation"
	"github.com/voltflow/voltflow/store/site"
)

// Problem codes of changing the project structure.
const (
	CodeSiteCycle   = "site_cycle"
	CodeSiteTooDeep = "site_too_deep"
)

// structureRoutes change what setupRoutes created: rename organisations
// and projects, rename and move sites and units, read a unit with its
// meters and accounts, close an account with all its meters (issue 17).
func (s *Server) structureRoutes(r chi.Router) {
	r.With(s.audit("organisation.update")).Patch("/organisations/{code}", s.updateOrganisation)
	r.With(s.audit("project.update")).Patch("/projects/{project}", s.updateProject)
	r.With(s.audit("site.update")).Patch("/projects/{project}/sites/{id}", s.updateSite)
	r.With(s.audit("unit.update")).Patch("/projects/{project}/units/{id}", s.updateUnit)
	r.Get("/projects/{project}/units/{id}", s.getUnit)
	r.With(s.audit("account.close")).Post("/projects/{project}/accounts/{id}/close", s.closeWholeAccount)
}

// NameRequest is PATCH of an organisation or a project.
type NameRequest struct {
	Name string `json:"name"`
}

func (s *Server) updateOrganisation(w http.ResponseWriter, r *http.Request) {
	var req NameRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "code")
	setAudit(r, "", "organisation "+code, map[string]any{"name": req.Name})
	if !s.platformAdmin(w, r, "renaming an organisation") || !validName(w, req.Name) {
		return
	}
	o, err := organisation.Rename(r.Context(), s.cfg.DB, code, req.Name)
	s.writeFound(w, r, o, err, organisation.ErrNotFound, "organisation "+code+" not found")
}

func validName(w http.ResponseWriter, name string) bool {
	if name == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "name is required", "name")
		return false
	}
	return true
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) {
	var req NameRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "project "+chi.URLParam(r, "project"), map[string]any{"name": req.Name})
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok || !validName(w, req.Name) {
		return
	}
	setAudit(r, pid, "project "+chi.URLParam(r, "project"), map[string]any{"name": req.Name})
	p, err := organisation.RenameProject(r.Context(), s.cfg.DB, pid, req.Name)
	s.writeFound(w, r, p, err, organisation.ErrNotFound, "project not found")
}

// optionalID is a JSON field that may be absent, null or an id: a PATCH
// tells "leave" (absent) from "clear" (null).
type optionalID struct {
	set bool
	v   *string
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.v)
}

// UpdateSiteRequest is PATCH /api/v1/projects/{project}/sites/{id}: a new
// name, a new parent (null: to level 1), or both.
type UpdateSiteRequest struct {
	Name     *string    `json:"name"`
	ParentID optionalID `json:"parentId"`
}

func (s *Server) updateSite(w http.ResponseWriter, r *http.Request) {
	var req UpdateSiteRequest
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, "", "site "+id, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok || (req.Name != nil && !validName(w, *req.Name)) {
		return
	}
	if req.ParentID.v != nil && uuid.Validate(*req.ParentID.v) != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "parentId: not a site id", "parentId")
		return
	}
	setAudit(r, pid, "site "+id, map[string]any{"name": req.Name, "move": req.ParentID.set, "parentId": req.ParentID.v})
	st, err := site.Update(r.Context(), s.cfg.DB, pid, id, site.Change{Name: req.Name, Move: req.ParentID.set, Parent: req.ParentID.v})
	switch {
	case errors.Is(err, site.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "site "+id+" not found")
	case errors.Is(err, site.ErrParent):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "parentId: not a site of this project", "parentId")
	case errors.Is(err, site.ErrCycle):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeSiteCycle, "parentId: a site cannot move under itself or its own sites", "parentId")
	case errors.Is(err, site.ErrTooDeep):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeSiteTooDeep, "parentId: the moved sites would pass level 4", "parentId")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

// UpdateUnitRequest is PATCH /api/v1/projects/{project}/units/{id}.
type UpdateUnitRequest struct {
	Name   *string `json:"name"`
	SiteID *string `json:"siteId"`
}

func (s *Server) updateUnit(w http.ResponseWriter, r *http.Request) {
	var req UpdateUnitRequest
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, "", "unit "+id, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok || (req.Name != nil && !validName(w, *req.Name)) {
		return
	}
	setAudit(r, pid, "unit "+id, map[string]any{"name": req.Name, "siteId": req.SiteID})
	var u site.Unit
	err := site.ErrNotFound // an id that is not a uuid names no site
	if req.SiteID == nil || uuid.Validate(*req.SiteID) == nil {
		u, err = site.UpdateUnit(r.Context(), s.cfg.DB, pid, id, site.UnitChange{Name: req.Name, SiteID: req.SiteID})
	}
	switch {
	case errors.Is(err, site.ErrUnitNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "unit "+id+" not found")
	case errors.Is(err, site.ErrNotFound):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "siteId: not a site of this project", "siteId")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, u)
	}
}

// getUnit answers a unit with its meters and accounts; a site-scoped
// caller sees only units under its sites.
func (s *Server) getUnit(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	u, err := site.GetUnit(r.Context(), s.cfg.DB, pid, chi.URLParam(r, "id"), operatorFrom(r.Context()).scopeIn(pid))
	s.writeFound(w, r, u, err, site.ErrUnitNotFound, "unit not found")
}

// AccountClosing is the answer of closing an account: one closing per meter.
type AccountClosing struct {
	AccountID string                 `json:"accountId"`
	Closings  []closingstore.Closing `json:"closings"`
}

// closeWholeAccount closes an account (销户) from the account: each of its
// meters goes through the per-meter closing (refund of the remainder, then
// settlement), each with transactionNo "<transactionNo>-<meterNo>", so a
// repeated request repeats nothing. A meter closed before is left out; a
// busy meter answers 409 account_busy, the closings started before it stay,
// and the same request once it is free closes the rest.
func (s *Server) closeWholeAccount(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req closeRequest
	if !decode(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, "", "account "+id, map[string]any{"transactionNo": req.TransactionNo, "reason": req.Reason})
	pid, ok := s.projectWhere(w, r, chi.URLParam(r, "project"), "the cashier role", func(op *Operator, p string) bool {
		return op.Grants.Can(p, access.SellEnergy)
	})
	if !ok || !checkTransactionNo(w, req.TransactionNo) {
		return
	}
	if len(req.Reason) > 500 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "reason longer than 500 characters", "reason")
		return
	}
	setAudit(r, pid, "account "+id, map[string]any{"transactionNo": req.TransactionNo, "reason": req.Reason})
	_, meters, err := customer.AccountMeters(r.Context(), s.cfg.DB, pid, id, op.scopeIn(pid))
	if !s.found(w, r, err, customer.ErrNotFound, "account "+id+" not found") {
		return
	}
	if len(meters) == 0 {
		writeProblem(w, http.StatusConflict, CodeAccountClosed, "account "+id+" has no meter to close")
		return
	}
	refs := make([]meterRef, 0, len(meters))
	for _, no := range meters {
		if !transactionNoOK(req.TransactionNo + "-" + no) {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
				"transactionNo: too long to name each meter's closing (<transactionNo>-<meterNo> must fit 64)", "transactionNo")
			return
		}
		m, err := s.findMeter(r.Context(), []string{pid}, no)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		refs = append(refs, m)
	}
	out := AccountClosing{AccountID: id, Closings: []closingstore.Closing{}}
	for _, m := range refs {
		c, err := s.startClosing(r, op, m, req.TransactionNo+"-"+m.meterNo, req.Reason)
		if errors.Is(err, closingstore.ErrAlreadyClosed) {
			continue // closed before, or by an earlier attempt of this request
		}
		if !s.closingStarted(w, r, err, req.TransactionNo+"-"+m.meterNo) {
			return
		}
		out.Closings = append(out.Closings, c)
	}
	if len(out.Closings) == 0 {
		writeProblem(w, http.StatusConflict, CodeAccountClosed, "every meter of account "+id+" is closed already")
		return
	}
	writeJSON(w, http.StatusAccepted, out)
}

// meterInScope is nil when the caller's site scope shows the meter of a
// row it found by id, notFound when it hides it (a recharge or refund of
// another building is as unknown as that building's meter).
func (s *Server) meterInScope(r *http.Request, projectID, meterNo string, notFound error) error {
	if operatorFrom(r.Context()).scopeIn(projectID) == nil {
		return nil
	}
	_, err := s.findMeter(r.Context(), []string{projectID}, meterNo)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	return err
}
