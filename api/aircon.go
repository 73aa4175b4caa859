package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	aircondom "github.com/voltflow/voltflow/domain/aircon"
	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	"github.com/voltflow/voltflow/store"
	airconstore "github.com/voltflow/voltflow/store/aircon"
	airconwf "github.com/voltflow/voltflow/workflows/aircon"
	"github.com/voltflow/voltflow/workflows/names"
)

// Central air-conditioning billing (中央空调计费, M14): AC systems (a plant
// meter and indoor units tied to units and to unit ids on the system's
// controller), their allocation rule, and the billing of a month as the
// workflow aircon/<project>.<system>/<YYYY-MM>.

// CodeAirconSystemExists: the system code is used in the project.
const CodeAirconSystemExists = "aircon_system_exists"

// CodeAirconBoundsNotRead: the period is past and the controller was not
// read at its bounds; reading it now would bill figures of another time.
const CodeAirconBoundsNotRead = "aircon_bounds_not_read"

// AirconClosingGrace is how long after a period's end a missing closing
// reading may still be taken (the workflow reads at once): the counters
// have moved little. Later, the figures would be wrong.
const AirconClosingGrace = 24 * time.Hour

func (s *Server) airconRoutes(r chi.Router) {
	r.Get("/projects/{project}/aircon-systems", s.listAirconSystems)
	r.With(s.audit("aircon.system.create")).Post("/projects/{project}/aircon-systems", s.createAirconSystem)
	r.With(s.audit("aircon.system.method")).Put("/projects/{project}/aircon-systems/{code}/method", s.setAirconMethod)
	r.With(s.audit("aircon.allocate")).Post("/projects/{project}/aircon-systems/{code}/allocations", s.allocateAircon)
	r.Get("/projects/{project}/aircon-systems/{code}/allocations/{period}", s.getAirconAllocation)
}

// AirconIndoorUnit is an indoor unit (室内机) in requests and answers.
type AirconIndoorUnit struct {
	ID             string `json:"id,omitempty"`
	Code           string `json:"code"`
	UnitID         string `json:"unitId"`
	ControllerUnit int    `json:"controllerUnit"`
}

// AirconSystemRequest is POST …/aircon-systems.
type AirconSystemRequest struct {
	Code              string             `json:"code"`
	Name              string             `json:"name"`
	PlantMeterNo      string             `json:"plantMeterNo"`
	ControllerAddress string             `json:"controllerAddress"`
	Profile           string             `json:"profile"`
	Method            string             `json:"method"`
	IndoorUnits       []AirconIndoorUnit `json:"indoorUnits"`
}

// AirconSystems answers GET …/aircon-systems.
type AirconSystems struct {
	Items []airconstore.System `json:"items"`
}

// AirconMethodRequest is PUT …/aircon-systems/{code}/method.
type AirconMethodRequest struct {
	Method string `json:"method"`
}

func (s *Server) writeAirconErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, airconstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, airconstore.ErrConflict):
		writeProblem(w, http.StatusConflict, CodeAirconSystemExists, err.Error())
	case errors.Is(err, airconstore.ErrInvalid):
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
	default:
		s.internal(w, r, err)
	}
}

func (s *Server) listAirconSystems(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	got, err := airconstore.Systems(r.Context(), s.cfg.DB, pid, "")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AirconSystems{Items: got})
}

// createAirconSystem registers a system (admin).
func (s *Server) createAirconSystem(w http.ResponseWriter, r *http.Request) {
	var req AirconSystemRequest
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	setAudit(r, pid, "aircon system "+req.Code, map[string]any{"plantMeterNo": req.PlantMeterNo,
		"controllerAddress": req.ControllerAddress, "method": req.Method, "indoorUnits": req.IndoorUnits})
	if !aircondom.Method(req.Method).Valid() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "method must be runtime_capacity or valve_time", "method")
		return
	}
	sys := airconstore.System{Code: req.Code, Name: req.Name, PlantMeterNo: req.PlantMeterNo,
		ControllerAddress: req.ControllerAddress, Profile: req.Profile, Method: aircondom.Method(req.Method)}
	for _, iu := range req.IndoorUnits {
		sys.IndoorUnits = append(sys.IndoorUnits, airconstore.IndoorUnit{Code: iu.Code, UnitID: iu.UnitID,
			ControllerUnit: iu.ControllerUnit})
	}
	created, err := airconstore.CreateSystem(r.Context(), s.cfg.DB, pid, sys)
	if err != nil {
		s.writeAirconErr(w, r, err)
		return
	}
	// Every month from the next on is billed by the system's monthly
	// Schedule; the month under way is started by hand (its opening is
	// read then: the system is commissioned mid-month).
	if err := airconwf.EnsureSchedule(r.Context(), s.cfg.Temporal, created.ID, chi.URLParam(r, "project"), req.Code); err != nil {
		s.internal(w, r, err)
		return
	}
	got, err := airconstore.SystemByCode(r.Context(), s.cfg.DB, pid, req.Code)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

// setAirconMethod chooses the system's allocation rule (admin); periods
// allocated before keep theirs.
func (s *Server) setAirconMethod(w http.ResponseWriter, r *http.Request) {
	var req AirconMethodRequest
	if !decode(w, r, &req) {
		return
	}
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	code := chi.URLParam(r, "code")
	setAudit(r, pid, "aircon system "+code, map[string]any{"method": req.Method})
	if !aircondom.Method(req.Method).Valid() {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "method must be runtime_capacity or valve_time", "method")
		return
	}
	if err := airconstore.SetMethod(r.Context(), s.cfg.DB, pid, code, aircondom.Method(req.Method)); err != nil {
		s.writeAirconErr(w, r, err)
		return
	}
	got, err := airconstore.SystemByCode(r.Context(), s.cfg.DB, pid, code)
	if err != nil {
		s.writeAirconErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// AirconAllocationStarted answers POST …/allocations.
type AirconAllocationStarted struct {
	Period     string `json:"period"`
	WorkflowID string `json:"workflowId"`
	From       string `json:"from"`
	To         string `json:"to"`
	NotBefore  string `json:"notBefore"`
}

// allocateAircon starts (once) the period's billing workflow (admin): it
// reads the controller at the period's start and end and allocates an
// hour after the end (airconwf.ClosingReadingLag, as common-area).
func (s *Server) allocateAircon(w http.ResponseWriter, r *http.Request) {
	var req AllocateRequest
	if !decode(w, r, &req) {
		return
	}
	project := chi.URLParam(r, "project")
	pid, ok := s.administeredProject(w, r, project)
	if !ok {
		return
	}
	code := chi.URLParam(r, "code")
	setAudit(r, pid, "aircon system "+code+" "+req.Period, nil)
	p, err := commonareadom.ParsePeriod(req.Period)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "period must be YYYY-MM", "period")
		return
	}
	sys, err := airconstore.SystemByCode(r.Context(), s.cfg.DB, pid, code)
	if err != nil {
		s.writeAirconErr(w, r, err)
		return
	}
	loc, err := time.LoadLocation(airconstore.Location)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	from, to := p.Bounds(loc)
	if problem, err := airconBoundsProblem(r.Context(), s.cfg.DB, sys.ID, from, to, time.Now()); err != nil {
		s.internal(w, r, err)
		return
	} else if problem != "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeAirconBoundsNotRead, problem, "period")
		return
	}
	in := airconwf.Input{SystemID: sys.ID, ProjectCode: project, SystemCode: code, Period: req.Period,
		From: from.UTC(), To: to.UTC(), NotBefore: to.Add(airconwf.ClosingReadingLag).UTC()}
	id := airconwf.WorkflowID(project, code, req.Period)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, id, airconwf.Kind,
		names.Attributes(project, airconwf.Kind, code+"/"+req.Period, airconwf.StatusWaiting), in); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, AirconAllocationStarted{Period: req.Period, WorkflowID: id,
		From: in.From.Format(time.RFC3339), To: in.To.Format(time.RFC3339), NotBefore: in.NotBefore.Format(time.RFC3339)})
}

// airconBoundsProblem says why a period cannot be allocated any more ("" if
// it can). The workflow reads a bound not read yet at once: right for the
// month under way (its opening read at commissioning) and for a month that
// just ended, wrong for one long past: the counters read now are not the
// month's. A past month whose bounds were read (a rerun) allocates.
func airconBoundsProblem(ctx context.Context, db *store.DB, systemID string, from, to, now time.Time) (string, error) {
	if !now.After(to) {
		return "", nil
	}
	_, opened, err := airconstore.ControllerOf(ctx, db, systemID, from.UTC())
	if err != nil {
		return "", err
	}
	_, closed, err := airconstore.ControllerOf(ctx, db, systemID, to.UTC())
	if err != nil {
		return "", err
	}
	switch {
	case !opened:
		return fmt.Sprintf("the controller was not read at the start of the period (%s), which has ended: it cannot be allocated",
			from.Format(time.RFC3339)), nil
	case !closed && now.Sub(to) > AirconClosingGrace:
		return fmt.Sprintf("the controller was not read at the end of the period (%s), more than %s ago: it cannot be allocated",
			to.Format(time.RFC3339), AirconClosingGrace), nil
	}
	return "", nil
}

// getAirconAllocation shows a period's allocation: the plant's boundary
// registers, CT × PT, price and total; each indoor unit's counters at both
// bounds (with when they were read), capacity, weight and booked share.
func (s *Server) getAirconAllocation(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	period := chi.URLParam(r, "period")
	if _, err := commonareadom.ParsePeriod(period); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "period must be YYYY-MM", "period")
		return
	}
	code := chi.URLParam(r, "code")
	if _, err := airconstore.SystemByCode(r.Context(), s.cfg.DB, pid, code); err != nil {
		s.writeAirconErr(w, r, err)
		return
	}
	a, found, err := airconstore.AllocationOf(r.Context(), s.cfg.DB, pid, code, period)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !found {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "period "+period+" of "+code+" is not allocated (yet)")
		return
	}
	writeJSON(w, http.StatusOK, a)
}
