package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/identifier"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	"github.com/voltflow/voltflow/workflows/names"
)

// maxBatchMeters caps one batch; larger sweeps are several batches.
const maxBatchMeters = 10_000

type meterCommandRequest struct {
	Command string `json:"command"`
}

type meterCommandAccepted struct {
	ID         string             `json:"id"`
	Status     metercmddom.Status `json:"status"`
	WorkflowID string             `json:"workflowId"`
}

// idempotencyKey reads the optional Idempotency-Key header; it writes the
// problem and returns false when the header is malformed.
func idempotencyKey(w http.ResponseWriter, r *http.Request) (*string, bool) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return nil, true
	}
	if len(k) > 128 || strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"Idempotency-Key must be 1-128 printable ASCII characters", "Idempotency-Key")
		return nil, false
	}
	return &k, true
}

func parseCommand(w http.ResponseWriter, name string) (metercmddom.Command, bool) {
	c, err := metercmddom.Parse(name)
	if err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeUnknownCommand, err.Error(), "command")
		return "", false
	}
	return c, true
}

// createMeterCommand is POST /meters/{meterNo}/commands.
func (s *Server) createMeterCommand(w http.ResponseWriter, r *http.Request) {
	var req meterCommandRequest
	if !decode(w, r, &req) {
		return
	}
	cmd, ok := parseCommand(w, req.Command)
	if !ok {
		return
	}
	c, ok := s.commandMeter(w, r, chi.URLParam(r, "meterNo"), cmd)
	if !ok {
		return
	}
	writeJSON(w, http.StatusAccepted, meterCommandAccepted{ID: c.ID, Status: c.Status, WorkflowID: c.WorkflowID})
}

// commandMeter records one command to a meter and starts its workflow,
// idempotent by the Idempotency-Key header (the operator API and the open
// API share it). It writes the problem and returns false on failure.
func (s *Server) commandMeter(w http.ResponseWriter, r *http.Request, meterNo string, cmd metercmddom.Command) (metercmdstore.Command, bool) {
	op := operatorFrom(r.Context())
	m, err := s.findMeter(r.Context(), op.Grants.Projects(), meterNo)
	if !s.found(w, r, err, pgx.ErrNoRows, "meter "+meterNo+" not found") {
		return metercmdstore.Command{}, false
	}
	setAudit(r, m.projectID, meterNo, map[string]any{"command": cmd})
	if !op.Grants.Can(m.projectID, access.ControlMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "meter commands need the cashier, maintenance or admin role")
		return metercmdstore.Command{}, false
	}
	key, ok := idempotencyKey(w, r)
	if !ok {
		return metercmdstore.Command{}, false
	}
	id := uuid.NewString()
	c, created, err := metercmdstore.CreateCommand(r.Context(), s.cfg.DB, metercmdstore.Command{
		ID: id, ProjectID: m.projectID, MeterID: m.id, MeterNo: m.meterNo, Command: string(cmd),
		Args: metercmdstore.ArgsOf(cmd), WorkflowID: metercmdwf.CommandWorkflowID(id), IdempotencyKey: key, CreatedBy: op.ID,
	})
	if err != nil {
		s.internal(w, r, err)
		return metercmdstore.Command{}, false
	}
	if !created && (c.MeterID != m.id || c.Command != string(cmd) || c.BatchID != nil) {
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse,
			"Idempotency-Key was used for a different meter command", "Idempotency-Key")
		return metercmdstore.Command{}, false
	}
	in := metercmdwf.CommandInput{CommandID: c.ID, ProjectID: c.ProjectID, MeterID: c.MeterID, MeterNo: c.MeterNo,
		Command: c.Command, DispatchWindow: s.cfg.DispatchWindow}
	// On the interactive lane: an operator waits for it (issue 20 §11).
	if err := names.StartInteractive(r.Context(), s.cfg.Temporal, c.WorkflowID, metercmdwf.KindCommand, names.Attributes(m.projectCode, metercmdwf.KindCommand, c.MeterNo, string(metercmddom.Pending)), in); err != nil {
		s.log.Error("start meter command workflow", "command", c.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the command is recorded; send the same request with the same Idempotency-Key again to start it")
		return metercmdstore.Command{}, false
	}
	return c, true
}

func (s *Server) getMeterCommand(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	c, err := metercmdstore.GetCommand(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil {
		err = s.meterInScope(r, c.ProjectID, c.MeterNo, metercmdstore.ErrNotFound)
	}
	s.writeFound(w, r, c, err, metercmdstore.ErrNotFound, "meter command not found")
}

// redispatchMeterCommand sends a failed single command again (an Update to
// its workflow). Commands of a batch are re-dispatched with their batch.
func (s *Server) redispatchMeterCommand(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	c, err := metercmdstore.GetCommand(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, metercmdstore.ErrNotFound, "meter command not found") {
		return
	}
	setAudit(r, c.ProjectID, c.ID, map[string]any{"meterNo": c.MeterNo, "command": c.Command})
	if !op.Grants.Can(c.ProjectID, access.ControlMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "meter commands need the cashier, maintenance or admin role")
		return
	}
	if c.BatchID != nil {
		writeProblem(w, http.StatusConflict, CodeNotRedispatchable,
			"the command belongs to batch "+*c.BatchID+"; re-dispatch the batch")
		return
	}
	if c.Status != metercmddom.Failed {
		writeProblem(w, http.StatusConflict, CodeNotRedispatchable, "meter command is "+string(c.Status)+", not failed")
		return
	}
	var status metercmddom.Status
	if !s.update(w, r, c.WorkflowID, metercmdwf.UpdateRedispatch, metercmdwf.Redispatch{OperatorID: op.ID, Roles: op.Grants[c.ProjectID]}, &status) {
		return
	}
	writeJSON(w, http.StatusAccepted, meterCommandAccepted{ID: c.ID, Status: status, WorkflowID: c.WorkflowID})
}

type meterBatchRequest struct {
	Command  string   `json:"command"`
	MeterNos []string `json:"meterNos"`
}

type meterBatchAccepted struct {
	ID           string                  `json:"id"`
	Status       metercmddom.BatchStatus `json:"status"`
	Total        int                     `json:"total"`
	WorkflowID   string                  `json:"workflowId"`
	RedispatchOf *string                 `json:"redispatchOf,omitempty"`
}

type batchMeter struct {
	id, projectID, projectCode, meterNo string
}

// createMeterBatch is POST /meter-batches: one command to many meters of one project.
func (s *Server) createMeterBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	var req meterBatchRequest
	if !decode(w, r, &req) {
		return
	}
	cmd, ok := parseCommand(w, req.Command)
	if !ok {
		return
	}
	if len(req.MeterNos) == 0 || len(req.MeterNos) > maxBatchMeters {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			fmt.Sprintf("meterNos must list 1 to %d meters", maxBatchMeters), "meterNos")
		return
	}
	for i, no := range req.MeterNos {
		if !checkFormat(w, fmt.Sprintf("meterNos[%d]", i), no, identifier.MeterNo) {
			return
		}
	}
	sorted := slices.Clone(req.MeterNos)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meterNos lists "+sorted[i]+" twice", "meterNos")
			return
		}
	}
	ms, err := s.findBatchMeters(r.Context(), op.Grants.Projects(), sorted)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(ms) != len(sorted) {
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "meters not found: "+missing(sorted, ms), "meterNos")
		return
	}
	project := ms[0].projectID
	for _, m := range ms {
		if m.projectID != project {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "a batch holds meters of one project", "meterNos")
			return
		}
	}
	setAudit(r, project, string(cmd), map[string]any{"command": cmd, "meters": len(ms)})
	if !op.Grants.Can(project, access.ControlMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "meter commands need the cashier, maintenance or admin role")
		return
	}
	key, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	sum := sha256.Sum256([]byte(string(cmd) + "\n" + strings.Join(sorted, "\n")))
	hash := hex.EncodeToString(sum[:])
	meters := make([]metercmdstore.BatchMeter, len(ms))
	for i, m := range ms {
		meters[i] = metercmdstore.BatchMeter{ID: m.id, MeterNo: m.meterNo}
	}
	id := uuid.NewString()
	b, created, err := metercmdstore.CreateBatch(r.Context(), s.cfg.DB, metercmdstore.Batch{ID: id, ProjectID: project, Command: string(cmd),
		WorkflowID: metercmdwf.BatchWorkflowID(id), IdempotencyKey: key, RequestHash: hash, CreatedBy: op.ID}, meters)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !created && b.RequestHash != hash {
		writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse,
			"Idempotency-Key was used for a different batch", "Idempotency-Key")
		return
	}
	s.startBatch(w, r, b, ms[0].projectCode)
}

func (s *Server) startBatch(w http.ResponseWriter, r *http.Request, b metercmdstore.Batch, projectCode string) {
	in := metercmdwf.BatchInput{BatchID: b.ID, ProjectID: b.ProjectID, Command: b.Command, DispatchWindow: s.cfg.DispatchWindow}
	subject := fmt.Sprintf("%s x%d", b.Command, b.Total)
	if err := names.StartOnce(r.Context(), s.cfg.Temporal, b.WorkflowID, metercmdwf.KindBatch, names.Attributes(projectCode, metercmdwf.KindBatch, subject, string(metercmddom.BatchRunning)), in); err != nil {
		s.log.Error("start meter batch workflow", "batch", b.ID, "error", err)
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"the batch is recorded; send the same request again to start it")
		return
	}
	writeJSON(w, http.StatusAccepted, meterBatchAccepted{ID: b.ID, Status: b.Status, Total: b.Total,
		WorkflowID: b.WorkflowID, RedispatchOf: b.RedispatchOf})
}

func (s *Server) findBatchMeters(ctx context.Context, projects, meterNos []string) ([]batchMeter, error) {
	rows, err := s.cfg.DB.Query(ctx, `select m.id, m.project_id, p.code, m.meter_no from meters m
		join projects p on p.id=m.project_id where m.meter_no = any($1) and m.project_id::text = any($2)
		order by m.meter_no`, meterNos, projects)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (batchMeter, error) {
		var m batchMeter
		return m, r.Scan(&m.id, &m.projectID, &m.projectCode, &m.meterNo)
	})
}

// missing names up to ten requested meters that were not found.
func missing(want []string, found []batchMeter) string {
	have := make(map[string]bool, len(found))
	for _, m := range found {
		have[m.meterNo] = true
	}
	var out []string
	for _, n := range want {
		if !have[n] {
			out = append(out, n)
		}
	}
	if len(out) > 10 {
		return strings.Join(out[:10], ", ") + fmt.Sprintf(" and %d more", len(out)-10)
	}
	return strings.Join(out, ", ")
}

type meterBatchView struct {
	metercmdstore.Batch
	Items      []metercmdstore.Item `json:"items"`
	NextCursor string               `json:"nextCursor,omitempty"`
}

// getMeterBatch is GET /meter-batches/{id}: totals and per-meter outcomes,
// in meter number order (?status=done|failed|pending|dispatching, ?limit=
// up to 10,000, default 1,000, ?cursor=).
func (s *Server) getMeterBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	b, err := metercmdstore.GetBatch(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if !s.found(w, r, err, metercmdstore.ErrNotFound, "meter batch not found") {
		return
	}
	q := r.URL.Query()
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxBatchMeters {
			writeProblem(w, http.StatusBadRequest, CodeMalformed, fmt.Sprintf("limit must be 1..%d", maxBatchMeters))
			return
		}
		limit = n
	}
	status := q.Get("status")
	switch metercmddom.Status(status) {
	case "", metercmddom.Pending, metercmddom.Dispatching, metercmddom.Done, metercmddom.Failed:
	default:
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "status must be pending, dispatching, done or failed")
		return
	}
	after := ""
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || textRule(string(raw), false) != "" {
			writeProblem(w, http.StatusBadRequest, CodeMalformed, "bad cursor")
			return
		}
		after = string(raw)
	}
	items, err := metercmdstore.Items(r.Context(), s.cfg.DB, b.ID, status, after, limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := meterBatchView{Batch: b, Items: nonNil(items)}
	if len(items) == limit {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(items[len(items)-1].MeterNo))
	}
	writeJSON(w, http.StatusOK, out)
}

// redispatchMeterBatch is POST /meter-batches/{id}/redispatch: a new batch
// over the meters that failed. Asking twice returns the same new batch.
func (s *Server) redispatchMeterBatch(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	orig, err := metercmdstore.GetBatch(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
	if !s.found(w, r, err, metercmdstore.ErrNotFound, "meter batch not found") {
		return
	}
	setAudit(r, orig.ProjectID, orig.ID, map[string]any{"command": orig.Command, "failed": orig.Failed})
	if !op.Grants.Can(orig.ProjectID, access.ControlMeter) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "meter commands need the cashier, maintenance or admin role")
		return
	}
	if !orig.Status.Final() {
		writeProblem(w, http.StatusConflict, CodeNotRedispatchable, "the batch is still running")
		return
	}
	id := uuid.NewString()
	b, _, err := metercmdstore.CreateRedispatch(r.Context(), s.cfg.DB, orig, metercmdstore.Batch{ID: id,
		WorkflowID: metercmdwf.BatchWorkflowID(id), CreatedBy: op.ID})
	if errors.Is(err, metercmdstore.ErrNothingToRedispatch) {
		writeProblem(w, http.StatusConflict, CodeNotRedispatchable, "no meter of the batch failed")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var projectCode string
	if err := s.cfg.DB.QueryRow(r.Context(), `select code from projects where id=$1`, b.ProjectID).Scan(&projectCode); err != nil {
		s.internal(w, r, err)
		return
	}
	s.startBatch(w, r, b, projectCode)
}
