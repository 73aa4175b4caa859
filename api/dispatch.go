package api

import (
	"errors"
	"math"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"

	"github.com/voltflow/voltflow/domain/access"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
	"github.com/voltflow/voltflow/store/network"
	dispatchwf "github.com/voltflow/voltflow/workflows/dispatch"
	"github.com/voltflow/voltflow/workflows/names"
)

type dispatchCommandRequest struct {
	ConnectorID string   `json:"connectorId"`
	Command     string   `json:"command"`
	PowerKW     *float64 `json:"powerKw"`
	IdTag       string   `json:"idTag"`
}

type dispatchCommandAccepted struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflowId"`
}

// createDispatchCommand is POST /dispatch/commands: a manual dispatch
// command (start, stop, limit, release) to one connector, run as the
// one-shot plan dispatch/<stationId>/cmd-<id>; the charger's answer is
// logged in charger_commands.
func (s *Server) createDispatchCommand(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req dispatchCommandRequest
	if !decode(w, r, &req) {
		return
	}
	cmd := dispatchwf.Command{Command: req.Command, IdTag: req.IdTag}
	switch req.Command {
	case dispatchwf.CmdStart, dispatchwf.CmdStop, dispatchwf.CmdLimit, dispatchwf.CmdRelease:
	default:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeUnknownCommand,
			"command must be start, stop, limit or release", "command")
		return
	}
	if req.PowerKW != nil {
		if *req.PowerKW < 0 || *req.PowerKW > 10_000 || math.IsNaN(*req.PowerKW) {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "powerKw must be 0–10000", "powerKw")
			return
		}
		cmd.PowerKW = *req.PowerKW
	}
	if req.Command == dispatchwf.CmdLimit && req.PowerKW == nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "limit needs powerKw", "powerKw")
		return
	}
	if req.Command == dispatchwf.CmdStart && req.IdTag == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "start needs idTag", "idTag")
		return
	}
	if req.ConnectorID == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "connectorId is required", "connectorId")
		return
	}
	place, err := dispatchstore.Locate(r.Context(), s.cfg.DB, req.ConnectorID)
	if errors.Is(err, dispatchstore.ErrUnknownConnector) {
		err = pgx.ErrNoRows
	}
	var projectID, projectCode string
	if err == nil {
		err = s.cfg.DB.QueryRow(r.Context(), `select p.id::text, p.code from ocpp_charge_points c
			join projects p on p.id = c.project_id where c.equipment_id = $1`, place.ChargePointID).Scan(&projectID, &projectCode)
	}
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !op.Grants.Can(projectID, access.ViewData)) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "connector "+req.ConnectorID+" not found", "connectorId")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, projectID, req.ConnectorID, map[string]any{"command": req.Command, "powerKw": cmd.PowerKW})
	if req.Command == dispatchwf.CmdStart {
		paused, err := network.Paused(r.Context(), s.cfg.DB, req.ConnectorID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if paused {
			writeProblemField(w, http.StatusConflict, CodeConnectorPaused, "connector "+req.ConnectorID+" is paused (暂停运营)", "connectorId")
			return
		}
	}
	if !op.Grants.Can(projectID, access.DispatchStation) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "dispatch commands need the maintenance or admin role")
		return
	}
	id := uuid.NewString()
	cmd.Target = place.Target
	planID := "cmd-" + id
	wid := dispatchwf.WorkflowID(place.StationID, planID)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, wid, dispatchwf.KindCommand, names.Attributes(projectCode, dispatchwf.KindCommand, req.ConnectorID, "pending"), dispatchwf.CommandInput{ProjectID: projectID, StationID: place.StationID, PlanID: planID, Command: cmd}); err != nil {
		s.log.Error("start dispatch command", "connector", req.ConnectorID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the command was not sent; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, dispatchCommandAccepted{ID: id, Status: "pending", WorkflowID: wid})
}

type siteLimitRequest struct {
	KW *float64 `json:"kw"`
}

// setSiteLimit is POST /dispatch/plans/{stationId}/{planId}/site-limit: a
// new site power limit for a running smart plan, which re-plans at once.
func (s *Server) setSiteLimit(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req siteLimitRequest
	if !decode(w, r, &req) {
		return
	}
	if req.KW == nil || *req.KW < 0 || *req.KW > 100_000 || math.IsNaN(*req.KW) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "kw must be 0–100000", "kw")
		return
	}
	station, plan := chi.URLParam(r, "stationId"), chi.URLParam(r, "planId")
	st, err := dispatchstore.FindStation(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), station)
	if err == nil && !op.seesStation(st.ProjectID, station) {
		err = dispatchstore.ErrNotFound // outside the caller's stations
	}
	if !s.found(w, r, err, dispatchstore.ErrNotFound, "station "+station+" not found") {
		return
	}
	projectID := st.ProjectID
	setAudit(r, projectID, station+"/"+plan, map[string]any{"kw": *req.KW})
	if !op.Grants.Can(projectID, access.DispatchStation) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "dispatch needs the maintenance or admin role")
		return
	}
	err = s.cfg.Temporal.SignalWorkflow(r.Context(), dispatchwf.WorkflowID(station, plan), "", dispatchwf.SignalSiteLimit,
		dispatchwf.SiteLimit{KW: *req.KW})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no running plan "+plan+" at station "+station)
		return
	}
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the limit was not delivered; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"stationId": station, "planId": plan, "siteLimitKw": *req.KW})
}
