package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/domain/access"
	sweepstore "github.com/voltflow/voltflow/store/sweep"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// readMeter is POST /api/v1/meters/{meterNo}/read: read the meter now
// (workflow meter-read/<meterNo>/<id>, through the sweep's write path) and
// answer with its fresh state, as GET /meters/{meterNo} shows it.
func (s *Server) readMeter(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	meterNo := chi.URLParam(r, "meterNo")
	m, err := s.findMeter(r.Context(), op.projectsFor(access.ViewData), meterNo)
	if !s.found(w, r, err, pgx.ErrNoRows, "meter "+meterNo+" not found") {
		return
	}
	workflowID := sweepwf.MeterReadWorkflowID(m.meterNo, uuid.NewString())
	setAudit(r, m.projectID, m.meterNo, map[string]any{"workflowId": workflowID})

	// The read itself is milliseconds; the margin covers a slow or timing
	// out meter (two tries) before we tell the caller no worker answered.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout+10*time.Second)
	defer cancel()
	run, err := s.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		// The interactive lane: the operator waits for the answer.
		ID: workflowID, TaskQueue: names.InteractiveQueue, WorkflowExecutionTimeout: time.Minute,
		TypedSearchAttributes: names.Attributes(m.projectCode, sweepwf.KindMeterRead, m.meterNo, "reading"),
	}, sweepwf.KindMeterRead, sweepwf.MeterReadInput{ProjectID: m.projectID, MeterID: m.id, MeterNo: m.meterNo})
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "start the read: "+err.Error())
		return
	}
	var reading sweepstore.MeterReading
	if err := run.Get(ctx, &reading); err != nil {
		if ctx.Err() != nil {
			writeProblem(w, http.StatusServiceUnavailable, CodeWorkerUnavailable, "no worker read the meter in time")
			return
		}
		writeProblem(w, http.StatusBadGateway, CodeMeterUnreachable, readFailure(err))
		return
	}
	view, err := scanMeter(s.cfg.DB.QueryRow(r.Context(), `select `+meterColumns+` from meters m
		join gateways g on g.id=m.gateway_id left join meter_state s on s.meter_id=m.id where m.id=$1`, m.id))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// readFailure is the meter's own words, without Temporal's wrapping.
func readFailure(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
