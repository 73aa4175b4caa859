package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/access"
	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	commonareastore "github.com/voltflow/voltflow/store/commonarea"
	commonareawf "github.com/voltflow/voltflow/workflows/commonarea"
	"github.com/voltflow/voltflow/workflows/names"
)

// Master/sub and common-area (公摊) meters (M9): the sub meters of a master
// meter, the floor area of units, the rule per common-area meter, and the
// allocation of a billing month as the workflow common-area/<project>/<YYYY-MM>.

// closingReadingLag is how long after a period's end its allocation waits
// for the closing readings (the sweep reads every meter well within it).
const closingReadingLag = time.Hour

func (s *Server) commonAreaRoutes(r chi.Router) {
	r.With(s.audit("meter.sub-meters")).Put("/meters/{meterNo}/sub-meters", s.setSubMeters)
	r.With(s.audit("unit.area")).Put("/projects/{project}/units/{id}/area", s.setUnitArea)
	r.Get("/projects/{project}/common-area-rules", s.listCommonAreaRules)
	r.With(s.audit("common-area.rules")).Put("/projects/{project}/common-area-rules", s.setCommonAreaRules)
	r.With(s.audit("common-area.allocate")).Post("/projects/{project}/common-area-allocations", s.allocateCommonArea)
	r.Get("/projects/{project}/common-area-allocations/{period}", s.getCommonAreaAllocations)
}

// SubMetersRequest is PUT /api/v1/meters/{meterNo}/sub-meters.
type SubMetersRequest struct {
	Meters []string `json:"meters"`
	// Merged (合并账户): the master's wallet pays the sub meters'
	// platform-side consumption and its arrears switch them all off.
	Merged bool `json:"merged"`
}

// SubMeters answers it: the master's sub meters now.
type SubMeters struct {
	MeterNo string   `json:"meterNo"`
	Meters  []string `json:"meters"`
	Merged  bool     `json:"merged"`
}

// writeCommonAreaErr maps the store's refusals to problems.
func (s *Server) writeCommonAreaErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, commonareastore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, commonareastore.ErrInvalid):
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
	default:
		s.internal(w, r, err)
	}
}

// setSubMeters replaces a master meter's sub meters (admin).
func (s *Server) setSubMeters(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req SubMetersRequest
	if !decode(w, r, &req) {
		return
	}
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), chi.URLParam(r, "meterNo"))
	if !s.found(w, r, err, pgx.ErrNoRows, "meter not found") {
		return
	}
	setAudit(r, m.projectID, "meter "+m.meterNo, map[string]any{"subMeters": req.Meters, "merged": req.Merged})
	if !op.administers(m.projectID) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "setting sub meters needs the admin role in the project")
		return
	}
	if err := commonareastore.SetSubMeters(r.Context(), s.cfg.DB, m.projectID, m.meterNo, req.Meters, req.Merged); err != nil {
		s.writeCommonAreaErr(w, r, err)
		return
	}
	subs, merged, err := commonareastore.SubMeters(r.Context(), s.cfg.DB, m.projectID, m.meterNo)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SubMeters{MeterNo: m.meterNo, Meters: subs, Merged: merged})
}

// UnitAreaRequest is PUT /api/v1/projects/{project}/units/{id}/area.
type UnitAreaRequest struct {
	Area string `json:"area"`
}

// UnitArea answers it.
type UnitArea struct {
	UnitID string `json:"unitId"`
	Area   string `json:"area"`
}

func (s *Server) setUnitArea(w http.ResponseWriter, r *http.Request) {
	var req UnitAreaRequest
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "unit "+id, map[string]any{"area": req.Area})
	area, err := decimal.NewFromString(req.Area)
	if err != nil || area.IsNegative() || area.Exponent() < -2 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"area must be a non-negative decimal string (m², at most 2 places)", "area")
		return
	}
	if err := commonareastore.SetUnitArea(r.Context(), s.cfg.DB, pid, id, area); err != nil {
		s.writeCommonAreaErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, UnitArea{UnitID: id, Area: area.StringFixed(2)})
}

// CommonAreaRuleUnit is a unit sharing a common-area meter; ratio is
// read by the ratio method only.
type CommonAreaRuleUnit struct {
	UnitID string `json:"unitId"`
	Ratio  string `json:"ratio,omitempty"`
}

// CommonAreaRule is a common-area meter's rule.
type CommonAreaRule struct {
	MeterNo string               `json:"meterNo"`
	Method  string               `json:"method"`
	Units   []CommonAreaRuleUnit `json:"units"`
}

// CommonAreaRules is the body of PUT and GET …/common-area-rules.
type CommonAreaRules struct {
	Rules []CommonAreaRule `json:"rules"`
}

func (s *Server) listCommonAreaRules(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	s.writeCommonAreaRules(w, r, pid)
}

func (s *Server) writeCommonAreaRules(w http.ResponseWriter, r *http.Request, pid string) {
	rules, err := commonareastore.Rules(r.Context(), s.cfg.DB, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := CommonAreaRules{Rules: []CommonAreaRule{}}
	for _, rule := range rules {
		c := CommonAreaRule{MeterNo: rule.MeterNo, Method: string(rule.Method)}
		for _, u := range rule.Units {
			c.Units = append(c.Units, CommonAreaRuleUnit{UnitID: u.UnitID, Ratio: u.Ratio.String()})
		}
		out.Rules = append(out.Rules, c)
	}
	writeJSON(w, http.StatusOK, out)
}

// setCommonAreaRules sets the rules of the meters named (admin); other
// meters' rules stay.
func (s *Server) setCommonAreaRules(w http.ResponseWriter, r *http.Request) {
	var req CommonAreaRules
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	setAudit(r, pid, "common-area rules", map[string]any{"rules": req.Rules})
	var rules []commonareastore.Rule
	for _, c := range req.Rules {
		rule := commonareastore.Rule{MeterNo: c.MeterNo, Method: commonareadom.Method(c.Method)}
		if !rule.Method.Valid() {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "method must be area, consumption or ratio", "method")
			return
		}
		for _, u := range c.Units {
			ratio := decimal.Zero
			if u.Ratio != "" {
				var err error
				if ratio, err = decimal.NewFromString(u.Ratio); err != nil || ratio.IsNegative() {
					writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "ratio must be a non-negative decimal string", "ratio")
					return
				}
			}
			rule.Units = append(rule.Units, commonareastore.RuleUnit{UnitID: u.UnitID, Ratio: ratio})
		}
		rules = append(rules, rule)
	}
	if err := commonareastore.SetRules(r.Context(), s.cfg.DB, pid, rules); err != nil {
		s.writeCommonAreaErr(w, r, err)
		return
	}
	s.writeCommonAreaRules(w, r, pid)
}

// AllocateRequest is POST …/common-area-allocations.
type AllocateRequest struct {
	Period string `json:"period"`
}

// AllocationStarted answers it.
type AllocationStarted struct {
	Period     string `json:"period"`
	WorkflowID string `json:"workflowId"`
	NotBefore  string `json:"notBefore"`
}

// allocateCommonArea starts (once) the period's allocation workflow; it
// waits for the period's end when that is still ahead.
func (s *Server) allocateCommonArea(w http.ResponseWriter, r *http.Request) {
	var req AllocateRequest
	if !decode(w, r, &req) {
		return
	}
	code := chi.URLParam(r, "project")
	pid, ok := s.administeredProject(w, r, code)
	if !ok {
		return
	}
	setAudit(r, pid, "common-area "+req.Period, nil)
	p, err := commonareadom.ParsePeriod(req.Period)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "period must be YYYY-MM", "period")
		return
	}
	loc, err := time.LoadLocation(commonareastore.Location)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	_, end := p.Bounds(loc)
	in := commonareawf.Input{ProjectID: pid, ProjectCode: code, Period: req.Period, NotBefore: end.Add(closingReadingLag).UTC()}
	id := commonareawf.WorkflowID(code, req.Period)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, id, commonareawf.Kind,
		names.Attributes(code, commonareawf.Kind, req.Period, commonareawf.StatusWaiting), in); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, AllocationStarted{Period: req.Period, WorkflowID: id,
		NotBefore: in.NotBefore.Format(time.RFC3339)})
}

// CommonAreaAllocations answers GET …/common-area-allocations/{period}:
// the figures and the booked shares (empty until the period is allocated).
type CommonAreaAllocations struct {
	Period      string                       `json:"period"`
	Allocations []commonareastore.Allocation `json:"allocations"`
}

func (s *Server) getCommonAreaAllocations(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	period := chi.URLParam(r, "period")
	if _, err := commonareadom.ParsePeriod(period); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "period must be YYYY-MM", "period")
		return
	}
	got, err := commonareastore.Allocations(r.Context(), s.cfg.DB, pid, period)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CommonAreaAllocations{Period: period, Allocations: got})
}
