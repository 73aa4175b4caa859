package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/access"
	allowancedom "github.com/voltflow/voltflow/domain/allowance"
	allowancestore "github.com/voltflow/voltflow/store/allowance"
	allowancewf "github.com/voltflow/voltflow/workflows/allowance"
	"github.com/voltflow/voltflow/workflows/names"
)

// AllowanceSetting is a monthly allowance (月补电量): basis kwh (kWh on the
// meter's register, credited at price × CT × PT) or money, quantity a
// decimal string with two places ("0.00" is none).
type AllowanceSetting struct {
	Basis    string `json:"basis"`
	Quantity string `json:"quantity"`
}

// ProjectAllowance is a project's allowance (null: none set).
type ProjectAllowance struct {
	Project   string            `json:"project"`
	Allowance *AllowanceSetting `json:"allowance"`
}

// MeterAllowance is a meter's own allowance, the one in force (its own,
// else its project's: source) and what a month credits it at today's price.
type MeterAllowance struct {
	MeterNo   string            `json:"meterNo"`
	Allowance *AllowanceSetting `json:"allowance"`
	Effective *AllowanceSetting `json:"effective"`
	Source    string            `json:"source"`
	Amount    *string           `json:"amount"`
}

// AllowanceRunRequest starts a month's run by hand.
type AllowanceRunRequest struct {
	Month string `json:"month"`
}

// AllowanceRun is a started run.
type AllowanceRun struct {
	WorkflowID string `json:"workflowId"`
	Month      string `json:"month"`
}

// allowanceRoutes: settings and runs are the project admin's; the grants
// are for whoever views the project's data.
func (s *Server) allowanceRoutes(r chi.Router) {
	r.Get("/projects/{project}/allowance", s.getProjectAllowance)
	r.With(s.audit("project.allowance")).Put("/projects/{project}/allowance", s.putProjectAllowance)
	r.Get("/meters/{meterNo}/allowance", s.getMeterAllowance)
	r.With(s.audit("meter.allowance")).Put("/meters/{meterNo}/allowance", s.putMeterAllowance)
	r.Get("/projects/{project}/allowance-grants", s.listAllowanceGrants)
	r.With(s.audit("project.allowance_run")).Post("/projects/{project}/allowance-runs", s.startAllowanceRun)
}

func allowanceOut(st allowancedom.Setting) *AllowanceSetting {
	return &AllowanceSetting{Basis: string(st.Basis), Quantity: st.Quantity.StringFixed(2)}
}

// allowanceIn checks a request; it writes the problem and returns false
// when it is not valid.
func allowanceIn(w http.ResponseWriter, req AllowanceSetting) (allowancedom.Setting, bool) {
	q, err := decimal.NewFromString(req.Quantity)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, allowancedom.ErrQuantity.Error(), "quantity")
		return allowancedom.Setting{}, false
	}
	st := allowancedom.Setting{Basis: allowancedom.Basis(req.Basis), Quantity: q}
	if err := st.Validate(); err != nil {
		field := "quantity"
		if errors.Is(err, allowancedom.ErrBasis) {
			field = "basis"
		}
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return st, false
	}
	return st, true
}

func (s *Server) getProjectAllowance(w http.ResponseWriter, r *http.Request) {
	if pid, ok := s.viewProject(w, r); ok {
		s.writeProjectAllowance(w, r, pid)
	}
}

func (s *Server) writeProjectAllowance(w http.ResponseWriter, r *http.Request, pid string) {
	out := ProjectAllowance{Project: chi.URLParam(r, "project")}
	st, err := allowancestore.Get(r.Context(), s.cfg.DB, pid, "")
	switch {
	case err == nil:
		out.Allowance = allowanceOut(st)
	case !errors.Is(err, allowancestore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) putProjectAllowance(w http.ResponseWriter, r *http.Request) {
	var req AllowanceSetting
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	setAudit(r, "", "project "+code, nil)
	pid, ok := s.adminProject(w, r, "the monthly allowance")
	if !ok {
		return
	}
	setAudit(r, pid, "project "+code, map[string]any{"basis": req.Basis, "quantity": req.Quantity})
	st, ok := allowanceIn(w, req)
	if !ok {
		return
	}
	if err := allowancestore.Put(r.Context(), s.cfg.DB, pid, "", st, operatorFrom(r.Context()).ID); err != nil {
		s.internal(w, r, err)
		return
	}
	// The project's monthly run starts with its first setting.
	if err := allowancewf.EnsureSchedule(r.Context(), s.cfg.Temporal, pid, code); err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeProjectAllowance(w, r, pid)
}

// allowanceMeter finds the meter of the path; admin: the change needs the
// admin role in its project. False when a problem was written.
func (s *Server) allowanceMeter(w http.ResponseWriter, r *http.Request, admin bool) (meterRef, bool) {
	op := operatorFrom(r.Context())
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), chi.URLParam(r, "meterNo"))
	if errors.Is(err, pgx.ErrNoRows) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "meter not found")
		return m, false
	}
	if err != nil {
		s.internal(w, r, err)
		return m, false
	}
	if admin && !op.Grants.Has(m.projectID, access.Admin) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "the monthly allowance needs the admin role in the project")
		return m, false
	}
	return m, true
}

func (s *Server) writeMeterAllowance(w http.ResponseWriter, r *http.Request, m meterRef) {
	out := MeterAllowance{MeterNo: m.meterNo, Source: "none"}
	own, err := allowancestore.Get(r.Context(), s.cfg.DB, m.projectID, m.id)
	switch {
	case err == nil:
		out.Allowance = allowanceOut(own)
	case !errors.Is(err, allowancestore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	eff, source, err := allowancestore.Effective(r.Context(), s.cfg.DB, m.projectID, m.id)
	switch {
	case err == nil:
		out.Effective, out.Source = allowanceOut(eff), source
		if a, err := allowancestore.AmountOf(r.Context(), s.cfg.DB, m.id, eff); err == nil {
			v := a.String()
			out.Amount = &v
		}
	case !errors.Is(err, allowancestore.ErrNotFound):
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMeterAllowance(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.allowanceMeter(w, r, false); ok {
		s.writeMeterAllowance(w, r, m)
	}
}

func (s *Server) putMeterAllowance(w http.ResponseWriter, r *http.Request) {
	var req AllowanceSetting
	if !decode(w, r, &req) {
		return
	}
	setAudit(r, "", "meter "+chi.URLParam(r, "meterNo"), nil)
	m, ok := s.allowanceMeter(w, r, true)
	if !ok {
		return
	}
	setAudit(r, m.projectID, "meter "+m.meterNo, map[string]any{"basis": req.Basis, "quantity": req.Quantity})
	st, ok := allowanceIn(w, req)
	if !ok {
		return
	}
	if err := allowancestore.Put(r.Context(), s.cfg.DB, m.projectID, m.id, st, operatorFrom(r.Context()).ID); err != nil {
		s.internal(w, r, err)
		return
	}
	if err := allowancewf.EnsureSchedule(r.Context(), s.cfg.Temporal, m.projectID, m.projectCode); err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeMeterAllowance(w, r, m)
}

func (s *Server) listAllowanceGrants(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	period, err := allowancedom.ParsePeriod(r.URL.Query().Get("month"))
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "month")
		return
	}
	lines, err := allowancestore.List(r.Context(), s.cfg.DB, pid, period)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if lines == nil {
		lines = []allowancestore.Line{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": lines})
}

// startAllowanceRun starts monthly-allowance/<project>/<month> by hand (a
// month the Schedule missed, or a first month mid-way); a run of the month
// started before answers with its ID, and grants nothing twice anyway.
func (s *Server) startAllowanceRun(w http.ResponseWriter, r *http.Request) {
	var req AllowanceRunRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	setAudit(r, "", "project "+code, nil)
	pid, ok := s.adminProject(w, r, "an allowance run")
	if !ok {
		return
	}
	setAudit(r, pid, "project "+code, map[string]any{"month": req.Month})
	period, err := allowancedom.ParsePeriod(req.Month)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "month")
		return
	}
	id := allowancewf.WorkflowID(code, period)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, id, allowancewf.Kind, names.Attributes(code, allowancewf.Kind, code, "started"),
		allowancewf.Input{ProjectID: pid, ProjectCode: code, Period: period, DispatchWindow: s.cfg.DispatchWindow}); err != nil {
		s.log.Error("start allowance run", "workflow", id, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "Temporal is not reachable; send the request again")
		return
	}
	writeJSON(w, http.StatusAccepted, AllowanceRun{WorkflowID: id, Month: period})
}
