package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/access"
	workorderdom "github.com/voltflow/voltflow/domain/workorder"
	"github.com/voltflow/voltflow/store/report"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
	workorderwf "github.com/voltflow/voltflow/workflows/workorder"
)

// Work orders (运维工单) and the O&M views:
//   GET  /api/v1/work-orders?status=open|acknowledged|closed|active&chargePointId=&assigneeId=&limit=&cursor=
//   GET  /api/v1/work-orders/{id}
//   POST /api/v1/work-orders/{id}/ack {"note"}
//   POST /api/v1/work-orders/{id}/resolve {"resolution"}
//   GET  /api/v1/om/{failure-records|concentrator-offline|terminal-status|station-failure-rate}?format=json|xlsx
// Acknowledging and resolving need the maintenance (or admin) role in the
// order's project; the workflow's validator has the last word.

// Problem codes of work orders.
const (
	CodeWorkOrderClosed       = "work_order_closed"
	CodeWorkOrderAcknowledged = "work_order_acknowledged"
)

func (s *Server) workOrderRoutes(r chi.Router) {
	r.Get("/work-orders", s.listWorkOrders)
	r.Get("/work-orders/{id}", s.getWorkOrder)
	r.With(s.audit("work_order.ack")).Post("/work-orders/{id}/ack", s.ackWorkOrder)
	r.With(s.audit("work_order.resolve")).Post("/work-orders/{id}/resolve", s.resolveWorkOrder)
	r.Get("/om/{name}", s.omView)
}

func (s *Server) listWorkOrders(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := workorderstore.Filter{Projects: nonNil(op.projectsFor(access.ViewData)), Scope: op.stationScope(), Status: q.Get("status"),
		ChargePointID: q.Get("chargePointId"), AssigneeID: q.Get("assigneeId"), Limit: p.limit, Before: p.before, BeforeID: p.beforeID}
	switch f.Status {
	case "", "active", workorderdom.Open, workorderdom.Acknowledged, workorderdom.Closed:
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be open, acknowledged, closed or active", "status")
		return
	}
	if f.AssigneeID != "" {
		if _, err := uuid.Parse(f.AssigneeID); err != nil {
			writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "assigneeId must be an operator id", "assigneeId")
			return
		}
	}
	items, err := workorderstore.List(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, p.limit, func(last workorderstore.WorkOrder) (time.Time, string) { return last.OpenedAt, last.ID })
}

func (s *Server) findWorkOrder(w http.ResponseWriter, r *http.Request, projects []string) (workorderstore.WorkOrder, bool) {
	id := chi.URLParam(r, "id")
	if _, err := uuid.Parse(id); err != nil {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "work order not found")
		return workorderstore.WorkOrder{}, false
	}
	o, err := workorderstore.Get(r.Context(), s.cfg.DB, nonNil(projects), id)
	if !s.found(w, r, err, workorderstore.ErrNotFound, "work order not found") {
		return o, false
	}
	return o, true
}

func (s *Server) getWorkOrder(w http.ResponseWriter, r *http.Request) {
	if o, ok := s.findWorkOrder(w, r, operatorFrom(r.Context()).projectsFor(access.ViewData)); ok {
		writeJSON(w, http.StatusOK, o)
	}
}

type ackRequest struct {
	Note string `json:"note"`
}

type resolveRequest struct {
	Resolution string `json:"resolution"`
}

func (s *Server) ackWorkOrder(w http.ResponseWriter, r *http.Request) {
	var req ackRequest
	if r.ContentLength != 0 && !decode(w, r, &req) {
		return
	}
	if len(req.Note) > 2000 {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "note longer than 2000 characters", "note")
		return
	}
	s.workOrderUpdate(w, r, workorderwf.UpdateAck, func(op *Operator, o workorderstore.WorkOrder) any {
		return workorderwf.Ack{WorkOrderID: o.ID, OperatorID: op.ID, Roles: op.Grants[o.ProjectID], Note: req.Note}
	}, map[string]any{"note": req.Note})
}

func (s *Server) resolveWorkOrder(w http.ResponseWriter, r *http.Request) {
	var req resolveRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Resolution == "":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "resolution is required", "resolution")
		return
	case len(req.Resolution) > 2000:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "resolution longer than 2000 characters", "resolution")
		return
	}
	s.workOrderUpdate(w, r, workorderwf.UpdateResolve, func(op *Operator, o workorderstore.WorkOrder) any {
		return workorderwf.Resolve{WorkOrderID: o.ID, OperatorID: op.ID, Roles: op.Grants[o.ProjectID], Resolution: req.Resolution}
	}, map[string]any{"resolution": req.Resolution})
}

// workOrderUpdate checks role and state, sends the Update to the order's
// workflow and answers the order as it is afterwards.
func (s *Server) workOrderUpdate(w http.ResponseWriter, r *http.Request, name string, arg func(*Operator, workorderstore.WorkOrder) any, detail map[string]any) {
	op := operatorFrom(r.Context())
	o, ok := s.findWorkOrder(w, r, op.Grants.Projects())
	if !ok {
		return
	}
	detail["workflowId"] = o.WorkflowID
	setAudit(r, o.ProjectID, o.ID, detail)
	if !op.Grants.Has(o.ProjectID, access.Maintenance) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "work orders are acknowledged and resolved by maintenance")
		return
	}
	switch {
	case o.Status == workorderdom.Closed:
		writeProblem(w, http.StatusConflict, CodeWorkOrderClosed, "work order is closed")
		return
	case name == workorderwf.UpdateAck && o.Status == workorderdom.Acknowledged:
		writeProblem(w, http.StatusConflict, CodeWorkOrderAcknowledged, "work order already acknowledged")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout)
	defer cancel()
	h, err := s.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: o.WorkflowID, UpdateName: name,
		Args: []any{arg(op, o)}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		switch updateDetail(err) {
		case workorderwf.ErrClosed.Error():
			writeProblem(w, http.StatusConflict, CodeWorkOrderClosed, "work order is closed")
		case workorderwf.ErrAcknowledged.Error():
			writeProblem(w, http.StatusConflict, CodeWorkOrderAcknowledged, "work order already acknowledged")
		case workorderwf.ErrNotMaintenance.Error():
			writeProblem(w, http.StatusForbidden, CodeForbidden, err.Error())
		case workorderwf.ErrEmptyResolution.Error():
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "resolution is required", "resolution")
		default:
			status, code := updateProblem(ctx, err)
			if status == http.StatusInternalServerError {
				s.internal(w, r, err)
				return
			}
			if code == CodeTaskDecided { // the workflow is gone: the order closed meanwhile
				code = CodeWorkOrderClosed
			}
			writeProblem(w, status, code, updateDetail(err))
		}
		return
	}
	o, err = workorderstore.Get(r.Context(), s.cfg.DB, []string{o.ProjectID}, o.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// omView answers the O&M views as JSON pages or streamed xlsx.
func (s *Server) omView(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq, ok := reportParams(w, r)
	if !ok {
		return
	}
	rq.projects = nonNil(rq.projects)
	name := chi.URLParam(r, "name")
	var err error
	switch name {
	case "failure-records", "concentrator-offline":
		f := workorderstore.FaultFilter{Projects: rq.projects, ChargePointID: q.Get("chargePointId")}
		if f.Period, err = optionalPeriod(r); err != nil {
			writeBad(w, err)
			return
		}
		if name == "failure-records" {
			err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(workorderstore.FailureRecord) error) error {
				return workorderstore.FailureRecords(ctx, s.cfg.DB, f, p, fn)
			}, nil)
		} else {
			err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(workorderstore.OfflineRecord) error) error {
				return workorderstore.ConcentratorOffline(ctx, s.cfg.DB, f, p, fn)
			}, nil)
		}
	case "terminal-status":
		f := workorderstore.TerminalFilter{Projects: rq.projects, ChargePointID: q.Get("chargePointId"), StationID: q.Get("stationId")}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(workorderstore.TerminalStatus) error) error {
			return workorderstore.TerminalStatuses(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "station-failure-rate":
		f := workorderstore.RateFilter{Projects: rq.projects}
		if f.Period, err = period(r, true); err != nil {
			writeBad(w, err)
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(workorderstore.StationFailureRate) error) error {
			return workorderstore.StationFailureRates(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	default:
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no O&M view "+name)
		return
	}
	s.reportAnswered(w, r, err)
}
