package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/identifier"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/setup"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
	"github.com/voltflow/voltflow/store/customer"
	"github.com/voltflow/voltflow/store/organisation"
	"github.com/voltflow/voltflow/store/site"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// Problem codes of setting up.
const (
	CodeOrganisationExists = "organisation_exists"
	CodeProjectExists      = "project_exists"
	CodeUnitExists         = "unit_exists"
	CodeMeterInAccount     = "meter_in_account"
)

// setupRoutes are organisations, projects, the site tree, units, customers,
// accounts (开户) and project settings (issue 17, M1, M4, S4).
func (s *Server) setupRoutes(r chi.Router) {
	r.With(s.audit("organisation.create")).Post("/organisations", s.createOrganisation)
	r.Get("/organisations", s.listOrganisations)
	r.With(s.audit("project.create")).Post("/projects", s.createProject)
	r.Get("/projects", s.listProjects)
	r.With(s.audit("site.create")).Post("/projects/{project}/sites", s.createSite)
	r.Get("/projects/{project}/sites", s.siteTree)
	r.With(s.audit("unit.create")).Post("/projects/{project}/units", s.createUnit)
	r.With(s.audit("customer.create")).Post("/projects/{project}/customers", s.createCustomer)
	r.With(s.audit("account.open")).Post("/projects/{project}/accounts", s.openAccount)
	r.With(s.audit("project.settings")).Put("/projects/{project}/settings", s.putSettings)
	r.Get("/projects/{project}/settings", s.getSettings)
	r.With(s.audit("account.overdraft")).Put("/projects/{project}/accounts/{id}/overdraft", s.setAccountOverdraft)
	r.With(s.audit("meter.overdraft")).Put("/meters/{meterNo}/overdraft", s.setMeterOverdraft)
	r.With(s.audit("site.alarm-recipients")).Put("/projects/{project}/sites/{siteId}/alarm-recipients", s.putSiteRecipients)
	r.Get("/projects/{project}/sites/{siteId}/alarm-recipients", s.getSiteRecipients)
}

// CodeNameRequest is POST /api/v1/organisations.
type CodeNameRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Server) platformAdmin(w http.ResponseWriter, r *http.Request, what string) bool {
	if !operatorFrom(r.Context()).PlatformAdmin {
		writeProblem(w, http.StatusForbidden, CodeForbidden, what+" needs a platform administrator")
		return false
	}
	return true
}

// validCode refuses a bad code or an empty name (domain/setup.CheckCode).
func validCode(w http.ResponseWriter, code, name string) bool {
	return validSetup(w, setup.CheckCode(code, name))
}

// validSetup answers a domain/setup problem, if any, as invalid_field.
func validSetup(w http.ResponseWriter, p *setup.Problem) bool {
	if p != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, p.Detail, p.Field)
		return false
	}
	return true
}

func (s *Server) createOrganisation(w http.ResponseWriter, r *http.Request) {
	var req CodeNameRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "organisation "+req.Code, nil)
	if !s.platformAdmin(w, r, "creating an organisation") || !validCode(w, req.Code, req.Name) {
		return
	}
	o, err := organisation.Create(r.Context(), s.cfg.DB, req.Code, req.Name)
	if errors.Is(err, organisation.ErrExists) {
		writeProblemField(w, http.StatusConflict, CodeOrganisationExists, "organisation "+req.Code+" exists", "code")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) listOrganisations(w http.ResponseWriter, r *http.Request) {
	if !s.platformAdmin(w, r, "listing organisations") {
		return
	}
	os, err := organisation.List(r.Context(), s.cfg.DB)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": os})
}

// CreateProjectRequest is POST /api/v1/projects.
type CreateProjectRequest struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Organisation string `json:"organisation"`
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var req CreateProjectRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "project "+req.Code, map[string]any{"organisation": req.Organisation})
	if !s.platformAdmin(w, r, "creating a project") || !validCode(w, req.Code, req.Name) {
		return
	}
	op := operatorFrom(r.Context())
	if op.tokenHash == nil {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "an API key cannot create projects")
		return
	}
	p, err := organisation.CreateProject(r.Context(), s.cfg.DB, req.Organisation, req.Code, req.Name, op.ID)
	switch {
	case errors.Is(err, organisation.ErrNotFound):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "organisation "+req.Organisation+" not found", "organisation")
	case errors.Is(err, organisation.ErrExists):
		writeProblemField(w, http.StatusConflict, CodeProjectExists, "project "+req.Code+" exists", "code")
	case err != nil:
		s.internal(w, r, err)
	default:
		setAudit(r, p.ID, "project "+req.Code, map[string]any{"organisation": req.Organisation})
		writeJSON(w, http.StatusCreated, p)
	}
}

// listProjects answers the caller's projects: every one for a platform
// administrator, else those where it holds a role.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	ps, err := organisation.Projects(r.Context(), s.cfg.DB, op.Grants.Projects(), op.PlatformAdmin)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ps})
}

// CreateSiteRequest is POST /api/v1/projects/{project}/sites.
type CreateSiteRequest struct {
	Name     string  `json:"name"`
	Level    int     `json:"level"`
	ParentID *string `json:"parentId"`
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request) {
	var req CreateSiteRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "site "+req.Name, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	if !validSetup(w, setup.CheckSite(req.Name, req.Level)) {
		return
	}
	if req.ParentID != nil && uuid.Validate(*req.ParentID) != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "parentId: not a site id", "parentId")
		return
	}
	st, err := site.Create(r.Context(), s.cfg.DB, pid, req.Name, req.Level, req.ParentID)
	if errors.Is(err, site.ErrParent) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"parentId: null at level 1, else a site of the level above in this project", "parentId")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, pid, "site "+st.ID, map[string]any{"name": req.Name, "level": req.Level})
	writeJSON(w, http.StatusCreated, st)
}

// SiteNode is a site with the sites under it.
type SiteNode struct {
	site.Site
	Children []*SiteNode `json:"children"`
}

func (s *Server) siteTree(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	sites, err := site.List(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// Parents come first, so each child finds its parent's node.
	nodes := map[string]*SiteNode{}
	roots := []*SiteNode{}
	for _, st := range sites {
		n := &SiteNode{Site: st, Children: []*SiteNode{}}
		nodes[st.ID] = n
		if p := nodes[deref(st.ParentID)]; p != nil {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": roots})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateUnitRequest is POST /api/v1/projects/{project}/units.
type CreateUnitRequest struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	SiteID string `json:"siteId"`
}

func (s *Server) createUnit(w http.ResponseWriter, r *http.Request) {
	var req CreateUnitRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "unit "+req.Code, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok || !validCode(w, req.Code, req.Name) {
		return
	}
	err := site.ErrNotFound // an id that is not a uuid names no site
	var unit site.Unit
	if uuid.Validate(req.SiteID) == nil {
		unit, err = site.CreateUnit(r.Context(), s.cfg.DB, pid, site.Unit{Code: req.Code, Name: req.Name, SiteID: req.SiteID})
	}
	switch {
	case errors.Is(err, site.ErrNotFound):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "siteId: not a site of this project", "siteId")
	case errors.Is(err, site.ErrExists):
		writeProblemField(w, http.StatusConflict, CodeUnitExists, "unit "+req.Code+" exists in this project", "code")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, unit)
	}
}

// CreateCustomerRequest is POST /api/v1/projects/{project}/customers.
type CreateCustomerRequest struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Kind  string `json:"kind"`
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) {
	var req CreateCustomerRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "customer "+req.Name, nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	if !validSetup(w, setup.CheckCustomer(req.Name, req.Phone, req.Kind)) {
		return
	}
	c, err := customer.Create(r.Context(), s.cfg.DB, pid, customer.Customer{Name: req.Name, Phone: req.Phone, Kind: req.Kind})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, pid, "customer "+c.ID, map[string]any{"name": req.Name})
	writeJSON(w, http.StatusCreated, c)
}

// OpenAccountRequest is POST /api/v1/projects/{project}/accounts (开户).
type OpenAccountRequest struct {
	CustomerID string   `json:"customerId"`
	UnitID     string   `json:"unitId"`
	Meters     []string `json:"meters"`
}

func (s *Server) openAccount(w http.ResponseWriter, r *http.Request) {
	var req OpenAccountRequest
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "customer "+req.CustomerID, map[string]any{"unitId": req.UnitID, "meters": req.Meters})
	// The service desk opens accounts: the project's admin or a cashier,
	// a site-scoped one on units and meters of its sites only.
	pid, ok := s.projectWhere(w, r, chi.URLParam(r, "project"), "the admin or cashier role", func(op *Operator, id string) bool {
		return op.administers(id) || op.Grants.Can(id, access.OpenAccount)
	})
	if !ok {
		return
	}
	if len(req.Meters) == 0 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meters: at least one meter number", "meters")
		return
	}
	for _, no := range req.Meters {
		if !checkFormat(w, "meters", no, identifier.MeterNo) {
			return
		}
	}
	a, err := customer.OpenAccount(r.Context(), s.cfg.DB, pid, customer.Account{CustomerID: req.CustomerID, UnitID: req.UnitID, Meters: req.Meters,
		Sites: operatorFrom(r.Context()).scopeIn(pid)})
	var p *customer.Problem
	switch {
	case errors.As(err, &p) && errors.Is(err, customer.ErrMeterInAccount):
		writeProblemField(w, http.StatusConflict, CodeMeterInAccount, "meter "+p.Value+" is already in an open account", p.Field)
	case errors.As(err, &p):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, p.Field+": "+p.Value+" not found in this project", p.Field)
	case err != nil:
		s.internal(w, r, err)
	default:
		setAudit(r, pid, "account "+a.ID, map[string]any{"customerId": req.CustomerID, "unitId": req.UnitID, "meters": req.Meters})
		writeJSON(w, http.StatusCreated, a)
	}
}

// ProjectSettings is PUT and GET /api/v1/projects/{project}/settings. A
// null is "not set": the server's default reading interval and alarm scan
// interval, no hoarding cap, no default price, no overdraft. Quiet hours
// are the project's alarm policy: a PUT without them leaves them as they
// are, and GET answers them always (the default 22:00–08:00 until set).
type ProjectSettings struct {
	ReadingInterval   *string              `json:"readingInterval"`
	AutoApproveUpTo   money.Amount         `json:"autoApproveUpTo"`
	HoardingCap       *money.Amount        `json:"hoardingCap"`
	DefaultPrice      *money.Price         `json:"defaultPrice"`
	Alarm1            money.Amount         `json:"alarm1"`
	Alarm2            money.Amount         `json:"alarm2"`
	Overdraft         *money.Amount        `json:"overdraft"`
	AlarmScanInterval *string              `json:"alarmScanInterval"`
	QuietHours        *alarmdom.QuietHours `json:"quietHours"`
	// SettlementDay (月底结算日) is "1".."28" or "last"; like quiet hours
	// a PUT without it leaves it as it is (api/settlement.go).
	SettlementDay *string `json:"settlementDay"`
	// ReadingRetentionMonths (1–120): months of readings kept in
	// PostgreSQL before the archive moves them to files; null: all.
	ReadingRetentionMonths *int `json:"readingRetentionMonths"`
}

// stored is the part kept with the project.
func (p ProjectSettings) stored() organisation.Settings {
	return organisation.Settings{ReadingInterval: p.ReadingInterval, AutoApproveUpTo: p.AutoApproveUpTo,
		HoardingCap: p.HoardingCap, DefaultPrice: p.DefaultPrice, Alarm1: p.Alarm1, Alarm2: p.Alarm2,
		Overdraft: p.Overdraft, AlarmScanInterval: p.AlarmScanInterval, ReadingRetentionMonths: p.ReadingRetentionMonths}
}

// settingsOf is the API view of a project's settings and quiet hours.
func settingsOf(st organisation.Settings, quiet alarmdom.Quiet) ProjectSettings {
	h := quiet.Hours()
	return ProjectSettings{ReadingInterval: st.ReadingInterval, AutoApproveUpTo: st.AutoApproveUpTo,
		HoardingCap: st.HoardingCap, DefaultPrice: st.DefaultPrice, Alarm1: st.Alarm1, Alarm2: st.Alarm2,
		Overdraft: st.Overdraft, AlarmScanInterval: st.AlarmScanInterval, QuietHours: &h,
		ReadingRetentionMonths: st.ReadingRetentionMonths}
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	var req ProjectSettings
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "settings", nil)
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	if req.ReadingInterval != nil {
		d, err := time.ParseDuration(*req.ReadingInterval)
		if err != nil || d < time.Second || d > 24*time.Hour {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "readingInterval: a duration from 1s to 24h, e.g. \"15m\"", "readingInterval")
			return
		}
		norm := d.String()
		req.ReadingInterval = &norm
	}
	for _, f := range []struct {
		name string
		v    money.Amount
	}{{"autoApproveUpTo", req.AutoApproveUpTo}, {"alarm1", req.Alarm1}, {"alarm2", req.Alarm2}} {
		if f.v.IsNegative() {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, f.name+": must not be negative", f.name)
			return
		}
	}
	if req.HoardingCap != nil && !req.HoardingCap.IsPositive() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "hoardingCap: must be positive", "hoardingCap")
		return
	}
	if req.DefaultPrice != nil && req.DefaultPrice.Decimal().IsNegative() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidAmount, "defaultPrice: must not be negative", "defaultPrice")
		return
	}
	if !validAlarmSettings(w, &req) || !validSettlementDay(w, &req) {
		return
	}
	if err := organisation.SetProjectSettings(r.Context(), s.cfg.DB, pid, req.stored()); err != nil {
		s.internal(w, r, err)
		return
	}
	if req.QuietHours != nil {
		if err := alarmstore.SetProjectQuiet(r.Context(), s.cfg.DB, pid, *req.QuietHours); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	setAudit(r, pid, "settings", map[string]any{"readingInterval": req.ReadingInterval, "autoApproveUpTo": req.AutoApproveUpTo,
		"hoardingCap": req.HoardingCap, "defaultPrice": req.DefaultPrice, "alarm1": req.Alarm1, "alarm2": req.Alarm2,
		"overdraft": req.Overdraft, "alarmScanInterval": req.AlarmScanInterval, "quietHours": req.QuietHours,
		"settlementDay": req.SettlementDay, "readingRetentionMonths": req.ReadingRetentionMonths})
	if !s.applyReadingInterval(w, r, pid, req.ReadingInterval) || !s.applyAlarmScanInterval(w, r, pid, req.AlarmScanInterval) ||
		!s.applySettlementDay(w, r, pid, req.SettlementDay) {
		return
	}
	if !s.applyRetention(w, r, pid, req.ReadingRetentionMonths) {
		return
	}
	quiet, err := alarmstore.ProjectQuiet(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out, err := s.withSettlementDay(r, pid, settingsOf(req.stored(), quiet))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// applyReadingInterval brings the project's sweep Schedule to its reading
// interval (the server's when unset) at once. It runs on every PUT, not
// only on a change, so repeating a PUT whose Schedule update failed heals it.
func (s *Server) applyReadingInterval(w http.ResponseWriter, r *http.Request, pid string, setting *string) bool {
	if s.cfg.Temporal == nil {
		return true
	}
	every, err := sweepwf.ProjectInterval(setting, s.cfg.SweepInterval)
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	p := sweepwf.Project{ID: pid, Code: chi.URLParam(r, "project")}
	if _, err := sweepwf.UpdateSchedule(r.Context(), s.cfg.Temporal, p, every); err != nil {
		s.log.Error("project settings: update the sweep schedule", "project", p.Code, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the settings are saved; send the same request again to apply the reading interval")
		return false
	}
	return true
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	st, err := organisation.ProjectSettings(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	quiet, err := alarmstore.ProjectQuiet(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out, err := s.withSettlementDay(r, pid, settingsOf(st, quiet))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
