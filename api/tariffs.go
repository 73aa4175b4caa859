package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/domain/access"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/setup"
	"github.com/voltflow/voltflow/domain/tariff"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	"github.com/voltflow/voltflow/store/tariffs"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	meterpricewf "github.com/voltflow/voltflow/workflows/meterprice"
	"github.com/voltflow/voltflow/workflows/names"
)

// Tariffs of platform-side prepaid (主站费控): a project's tariffs are data
// (domain/tariff: single, TOU 尖峰平谷, tiered 阶梯); a platform-side meter
// is priced by the tariff assigned to it, or by its own price without one.

// Tariff is the API view of a stored tariff.
type Tariff struct {
	Code      string        `json:"code"`
	Name      string        `json:"name"`
	Tariff    tariff.Tariff `json:"tariff"`
	Meters    int           `json:"meters"` // meters assigned to it
	CreatedAt time.Time     `json:"createdAt"`
}

// TariffRequest creates a tariff.
type TariffRequest struct {
	Code   string         `json:"code"`
	Name   string         `json:"name"`
	Tariff *tariff.Tariff `json:"tariff"`
}

// MeterTariffRequest assigns a tariff (by code) to a meter.
type MeterTariffRequest struct {
	Tariff string `json:"tariff"`
}

// projectFor finds a project by code among those where the caller may do
// the action; "" if none.
func (s *Server) projectFor(r *http.Request, code string, a access.Action) (string, error) {
	var id string
	err := s.cfg.DB.QueryRow(r.Context(), `select id::text from projects where code=$1 and id::text = any($2)`,
		code, operatorFrom(r.Context()).projectsFor(a)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (s *Server) listTariffs(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return
	}
	rows, err := s.cfg.DB.Query(r.Context(), `select t.code, t.name, t.spec, t.created_at,
			(select count(*) from meter_tariffs mt where mt.tariff_id=t.id)
		from tariffs t where t.project_id=$1 order by t.code`, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer rows.Close()
	items := []Tariff{}
	for rows.Next() {
		var t Tariff
		var spec []byte
		if err := rows.Scan(&t.Code, &t.Name, &spec, &t.CreatedAt, &t.Meters); err != nil {
			s.internal(w, r, err)
			return
		}
		if err := json.Unmarshal(spec, &t.Tariff); err != nil {
			s.internal(w, r, fmt.Errorf("tariff %s: %w", t.Code, err))
			return
		}
		items = append(items, t)
	}
	if err := rows.Err(); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// createTariff stores a new tariff of the project; only its admins may.
// viewProject is the {project} of the path, if the caller may see its
// data; false when a problem (404) was written.
func (s *Server) viewProject(w http.ResponseWriter, r *http.Request) (string, bool) {
	pid, err := s.projectFor(r, chi.URLParam(r, "project"), access.ViewData)
	if err != nil {
		s.internal(w, r, err)
		return "", false
	}
	if pid == "" {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "project not found")
		return "", false
	}
	return pid, true
}

// adminProject is the {project} of the path for a change that needs the
// admin role there (what: "configuring tariffs"); false when a problem
// was written: 404 for a project the caller cannot see, 403 for one it
// may only view.
func (s *Server) adminProject(w http.ResponseWriter, r *http.Request, what string) (string, bool) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return "", false
	}
	if !operatorFrom(r.Context()).Grants.Has(pid, access.Admin) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, what+" needs the admin role in the project")
		return "", false
	}
	return pid, true
}

func (s *Server) createTariff(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.adminProject(w, r, "configuring tariffs")
	if !ok {
		return
	}
	var req TariffRequest
	if !decode(w, r, &req) {
		return
	}
	if !validSetup(w, setup.CheckTariffCode(req.Code)) {
		return
	}
	if req.Tariff == nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "tariff is required", "tariff")
		return
	}
	if err := req.Tariff.Validate(); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidTariff, err.Error(), "tariff")
		return
	}
	created, err := tariffs.Create(r.Context(), s.cfg.DB, pid, req.Code, req.Name, *req.Tariff)
	if errors.Is(err, tariffs.ErrExists) {
		writeProblemField(w, http.StatusConflict, CodeTariffExists, "the project already has tariff "+req.Code, "code")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, Tariff{Code: req.Code, Name: req.Name, Tariff: *req.Tariff, CreatedAt: created})
}

// setMeterTariff assigns one of the project's tariffs to a platform-side
// meter; billing prices its next interval with it.
func (s *Server) setMeterTariff(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), chi.URLParam(r, "meterNo"))
	if !s.found(w, r, err, pgx.ErrNoRows, "meter not found") {
		return
	}
	if !op.Grants.Has(m.projectID, access.Admin) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "configuring tariffs needs the admin role in the project")
		return
	}
	var req MeterTariffRequest
	if !decode(w, r, &req) {
		return
	}
	err = tariffs.Assign(r.Context(), s.cfg.DB, m.projectID, m.meterNo, req.Tariff)
	switch {
	case errors.Is(err, tariffs.ErrNotFound):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "the project has no tariff "+fmt.Sprintf("%q", req.Tariff), "tariff")
		return
	case errors.Is(err, tariffs.ErrNotPlatform):
		// A meter-side meter prices its consumption itself: the tariff is
		// downloaded into its price block where its profile has one.
		s.downloadTariff(w, r, m, req.Tariff)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"meterNo": m.meterNo, "tariff": req.Tariff})
}

// MeterDownload is the meter command that writes a setting block into a
// meter (set_tariff, set_safety_limits).
type MeterDownload struct {
	CommandID  string `json:"commandId"`
	WorkflowID string `json:"workflowId"`
	Status     string `json:"status"`
}

// downloadTariff assigns a tariff to a meter-side meter and sends it to the
// meter as a set_tariff command (visible, retried and logged like every
// meter command); a profile without the price block is refused (409).
func (s *Server) downloadTariff(w http.ResponseWriter, r *http.Request, m meterRef, code string) {
	block := false
	check := func(name string, t tariff.Tariff) error {
		p, err := profile.Load(name)
		switch {
		case err == nil && p.Supports(profile.CmdSetTariff):
			block = true
			return nil
		case err == nil && p.Supports(profile.CmdSetUnitPrice):
			// No block: the unit price is rewritten at each boundary.
			_, _, err := tariff.RateAt(t, 1, time.Now())
			return err
		}
		return tariffs.ErrNoPriceBlock
	}
	d, err := tariffs.AssignMeterSide(r.Context(), s.cfg.DB, m.projectID, m.meterNo, code, check)
	switch {
	case errors.Is(err, tariff.ErrNotFollowable):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meter "+m.meterNo+
			" has no price block: only single and time-of-use tariffs can be kept by rewriting its unit price", "tariff")
		return
	case errors.Is(err, tariffs.ErrNoPriceBlock):
		writeProblem(w, http.StatusConflict, CodeMeterNotPlatform, "meter "+m.meterNo+
			" keeps its balance itself (meter-side prepaid) and its profile has no price block to take a tariff")
		return
	case errors.Is(err, tariffs.ErrNotFound):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "the project has no tariff "+fmt.Sprintf("%q", code), "tariff")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if !block {
		s.followTariff(w, r, m, code)
		return
	}
	values, err := tariff.MeterBlock(d.Tariff, d.Ratio)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "tariff")
		return
	}
	dl, ok := s.sendDownload(w, r, m, metercmddom.SetTariff, values)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"meterNo": m.meterNo, "tariff": code, "download": dl})
}

// sendDownload records a download command with its register values as args
// and starts its meter-command workflow; false when a problem was written.
func (s *Server) sendDownload(w http.ResponseWriter, r *http.Request, m meterRef, cmd metercmddom.Command, values map[string]int64) (MeterDownload, bool) {
	args, err := json.Marshal(values)
	if err != nil {
		s.internal(w, r, err)
		return MeterDownload{}, false
	}
	id := uuid.NewString()
	c, _, err := metercmdstore.CreateCommand(r.Context(), s.cfg.DB, metercmdstore.Command{
		ID: id, ProjectID: m.projectID, MeterID: m.id, MeterNo: m.meterNo, Command: string(cmd), Args: args,
		WorkflowID: metercmdwf.CommandWorkflowID(id), CreatedBy: operatorFrom(r.Context()).ID})
	if err != nil {
		s.internal(w, r, err)
		return MeterDownload{}, false
	}
	in := metercmdwf.CommandInput{CommandID: c.ID, ProjectID: c.ProjectID, MeterID: c.MeterID, MeterNo: c.MeterNo,
		Command: c.Command, DispatchWindow: s.cfg.DispatchWindow}
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, c.WorkflowID, metercmdwf.KindCommand,
		names.Attributes(m.projectCode, metercmdwf.KindCommand, c.MeterNo, string(metercmddom.Pending)), in); err != nil {
		s.log.Error("start download workflow", "command", c.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the download is recorded but not started; send the request again")
		return MeterDownload{}, false
	}
	return MeterDownload{CommandID: c.ID, WorkflowID: c.WorkflowID, Status: string(c.Status)}, true
}

// followTariff starts (or wakes) meter-price/<meterNo>, which writes the
// tariff's price in force into the meter's unit price register at each
// boundary.
func (s *Server) followTariff(w http.ResponseWriter, r *http.Request, m meterRef, code string) {
	id := meterpricewf.WorkflowID(m.meterNo)
	err := names.StartOnce(r.Context(), s.cfg.Temporal, id, meterpricewf.Kind, names.Attributes(m.projectCode, meterpricewf.Kind, m.meterNo, "started"),
		meterpricewf.Input{ProjectID: m.projectID, ProjectCode: m.projectCode, MeterID: m.id, MeterNo: m.meterNo, DispatchWindow: s.cfg.DispatchWindow})
	if err == nil {
		// Already running: price the new tariff now, not at the old boundary.
		err = s.cfg.Temporal.SignalWorkflow(r.Context(), id, "", meterpricewf.SignalTariffChanged, nil)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			err = nil // it ended meanwhile (the tariff it had was removed)
		}
	}
	if err != nil {
		s.log.Error("start meter price workflow", "workflow", id, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the tariff is assigned; send the request again to start following it")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"meterNo": m.meterNo, "tariff": code, "follow": map[string]string{"workflowId": id}})
}
