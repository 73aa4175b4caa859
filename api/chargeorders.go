package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/identifier"
	"github.com/voltflow/voltflow/store"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/report"
	chargeorderwf "github.com/voltflow/voltflow/workflows/chargeorder"
	"github.com/voltflow/voltflow/workflows/names"
)

// Problem codes of charging orders and pricing.
const (
	CodeInvalidPricing  = "invalid_pricing"
	CodeInvalidGroup    = "invalid_customer_group"
	CodeOrderNotRunning = "order_not_running"
	CodeCannotStart     = "cannot_start_charging"
	CodeCardExists      = "card_exists"
)

// listChargingOrders is GET /charging-orders?cardNo=&stationId=&status=&from=&to=&limit=&cursor=.
func (s *Server) listChargingOrders(w http.ResponseWriter, r *http.Request) {
	q, ok := orderQuery(w, r)
	if !ok {
		return
	}
	q.Projects = operatorFrom(r.Context()).projectsFor(access.ViewData)
	items, err := chargeorderstore.List(r.Context(), s.cfg.DB, q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, q.Limit, func(last chargeorderstore.Order) (time.Time, string) { return last.CreatedAt, last.ID })
}

func orderQuery(w http.ResponseWriter, r *http.Request) (chargeorderstore.Query, bool) {
	v := r.URL.Query()
	q := chargeorderstore.Query{CardNo: v.Get("cardNo"), VIN: v.Get("vin"), StationID: v.Get("stationId"), Status: v.Get("status"),
		Scope: operatorFrom(r.Context()).stationScope()}
	if q.Status != "" && !slices.Contains([]string{"charging", "completed", "failed"}, q.Status) {
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be charging, completed or failed", "status")
		return q, false
	}
	for _, p := range []struct {
		name string
		t    **time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				writeProblemField(w, http.StatusBadRequest, CodeInvalidField, p.name+" must be an RFC 3339 time", p.name)
				return q, false
			}
			*p.t = &t
		}
	}
	pg, ok := pageParams(w, r)
	if !ok {
		return q, false
	}
	q.Limit, q.Before, q.BeforeID = pg.limit, pg.before, pg.beforeID
	return q, true
}

func (s *Server) getChargingOrder(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	o, err := chargeorderstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "id"))
	if err == nil && !op.seesStation(o.ProjectID, o.StationID) {
		err = chargeorderstore.ErrNotFound // another station's order: as if unknown
	}
	s.writeFound(w, r, o, err, chargeorderstore.ErrNotFound, "charging order not found")
}

// stopChargingOrder is POST /charging-orders/{id}/stop: the order's
// workflow sends RemoteStopTransaction and settles when the charger stops.
func (s *Server) stopChargingOrder(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	o, err := chargeorderstore.Get(r.Context(), s.cfg.DB, op.projectsFor(access.SellEnergy), chi.URLParam(r, "id"))
	if !s.found(w, r, err, chargeorderstore.ErrNotFound, "charging order not found") {
		return
	}
	if o.Status != "charging" {
		writeProblem(w, http.StatusConflict, CodeOrderNotRunning, "charging order is "+o.Status)
		return
	}
	if err := s.cfg.Temporal.SignalWorkflow(r.Context(), o.WorkflowID, "", chargeorderwf.SignalStop, chargeorderwf.StopRequest{By: op.ID}); err != nil {
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, err.Error())
		return
	}
	setAudit(r, o.ProjectID, "charging-order/"+o.ID, map[string]any{"stop": true})
	writeJSON(w, http.StatusAccepted, map[string]string{"id": o.ID, "status": "stopping", "workflowId": o.WorkflowID})
}

// writeProject is the project a write goes to: the one asked for, or the
// caller's only one.
func writeProject(w http.ResponseWriter, r *http.Request, asked string) (string, bool) {
	projects := operatorFrom(r.Context()).projectsFor(access.SellEnergy)
	switch {
	case asked != "" && slices.Contains(projects, asked):
		return asked, true
	case asked == "" && len(projects) == 1:
		return projects[0], true
	case asked == "":
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "projectId is required", "projectId")
	default:
		writeProblem(w, http.StatusNotFound, CodeNotFound, "project not found")
	}
	return "", false
}

type strategyRequest struct {
	chargeprice.Strategy
	ProjectID  string   `json:"projectId"`
	StationIDs []string `json:"stationIds"`
}

// savePricingStrategy is POST /pricing-strategies: a strategy with its
// versions, bound to stations; the same code replaces it.
func (s *Server) savePricingStrategy(w http.ResponseWriter, r *http.Request) {
	var req strategyRequest
	if !decode(w, r, &req) {
		return
	}
	req.Strategy.ID = ""
	savePricing(s, w, r, req.ProjectID, chargeprice.ErrInvalid, CodeInvalidPricing,
		func(ctx context.Context, project string) (chargeprice.Strategy, error) {
			return chargeorderstore.SaveStrategy(ctx, s.cfg.DB, project, req.Strategy, req.StationIDs)
		}, func(st chargeprice.Strategy) (string, map[string]any) {
			return "pricing-strategy/" + st.Code, map[string]any{"versions": len(st.Versions)}
		})
}

func (s *Server) listPricingStrategies(w http.ResponseWriter, r *http.Request) {
	listPricing(s, w, r, chargeorderstore.ListStrategies)
}

// savePricing is what the pricing POSTs share: the project written to, the
// save, 422 with code for its invalid error, the audit (subject and
// details of what was saved) and 201 with it.
func savePricing[T any](s *Server, w http.ResponseWriter, r *http.Request, projectID string, invalid error, code string,
	save func(ctx context.Context, project string) (T, error), audit func(T) (string, map[string]any)) {
	project, ok := writeProject(w, r, projectID)
	if !ok {
		return
	}
	saved, err := save(r.Context(), project)
	if errors.Is(err, invalid) {
		writeProblem(w, http.StatusUnprocessableEntity, code, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	subject, details := audit(saved)
	setAudit(r, project, subject, details)
	writeJSON(w, http.StatusCreated, saved)
}

// listPricing answers the pricing lists of the projects the caller may view.
func listPricing[T any](s *Server, w http.ResponseWriter, r *http.Request, list func(context.Context, *store.DB, []string) ([]T, error)) {
	items, err := list(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

type groupRequest struct {
	chargeorderstore.Group
	ProjectID string `json:"projectId"`
}

// saveCustomerGroup is POST /customer-groups (person or enterprise groups).
func (s *Server) saveCustomerGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !decode(w, r, &req) {
		return
	}
	req.Group.ID = ""
	savePricing(s, w, r, req.ProjectID, chargeorderstore.ErrInvalidGroup, CodeInvalidGroup,
		func(ctx context.Context, project string) (chargeorderstore.Group, error) {
			return chargeorderstore.SaveGroup(ctx, s.cfg.DB, project, req.Group)
		}, func(g chargeorderstore.Group) (string, map[string]any) {
			return "customer-group/" + g.ID, map[string]any{"name": g.Name, "members": len(g.Customers)}
		})
}

func (s *Server) listCustomerGroups(w http.ResponseWriter, r *http.Request) {
	listPricing(s, w, r, chargeorderstore.ListGroups)
}

type discountRequest struct {
	chargeprice.Discount
	ProjectID string `json:"projectId"`
}

// saveDiscount is POST /charging-discounts (bound to groups and stations).
func (s *Server) saveDiscount(w http.ResponseWriter, r *http.Request) {
	var req discountRequest
	if !decode(w, r, &req) {
		return
	}
	req.Discount.ID = ""
	savePricing(s, w, r, req.ProjectID, chargeprice.ErrInvalid, CodeInvalidPricing,
		func(ctx context.Context, project string) (chargeprice.Discount, error) {
			return chargeorderstore.SaveDiscount(ctx, s.cfg.DB, project, req.Discount)
		}, func(d chargeprice.Discount) (string, map[string]any) {
			return "charging-discount/" + d.ID, map[string]any{"kind": d.Kind, "percent": d.Percent.String()}
		})
}

type appStartRequest struct {
	CardNo      string `json:"cardNo"`
	ConnectorID string `json:"connectorId"`
}

// createChargingOrder is POST /charging-orders {"cardNo","connectorId"}: an
// app start. 202 with the order (status starting); the charger's
// StartTransaction moves it to charging.
func (s *Server) createChargingOrder(w http.ResponseWriter, r *http.Request) {
	var req appStartRequest
	if !decode(w, r, &req) {
		return
	}
	if req.CardNo == "" || req.ConnectorID == "" {
		writeProblem(w, http.StatusBadRequest, CodeInvalidField, "cardNo and connectorId are required")
		return
	}
	if !checkFormat(w, "cardNo", req.CardNo, identifier.CardNo) {
		return
	}
	op := operatorFrom(r.Context())
	o, err := chargeorderstore.CreateAppOrder(r.Context(), s.cfg.DB, op.projectsFor(access.SellEnergy),
		chargeorderstore.AppStart{CardNo: req.CardNo, ConnectorID: req.ConnectorID}, chargeorderwf.AppStartID)
	switch {
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "connector not found")
		return
	case errors.Is(err, chargeorderstore.ErrPaused):
		writeProblemField(w, http.StatusConflict, CodeConnectorPaused, err.Error(), "connectorId")
		return
	case errors.Is(err, chargeorderstore.ErrCannotStart):
		writeProblem(w, http.StatusConflict, CodeCannotStart, err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	_, err = s.cfg.Temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{ID: o.WorkflowID, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes(o.ProjectID, chargeorderwf.KindAppStart, o.ID, "starting")}, chargeorderwf.KindAppStart,
		chargeorderwf.AppStartInput{OrderID: o.ID, ChargePointID: o.EquipmentID, Connector: o.Connector, IdTag: req.CardNo})
	if err != nil {
		_ = chargeorderstore.FailStart(r.Context(), s.cfg.DB, o.ID, "temporal_unavailable")
		writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, err.Error())
		return
	}
	setAudit(r, o.ProjectID, "charging-order/"+o.ID, map[string]any{"start": req.ConnectorID, "cardNo": req.CardNo})
	writeJSON(w, http.StatusAccepted, map[string]string{"id": o.ID, "status": o.Status, "workflowId": o.WorkflowID})
}

// orderRow adapts an order to report.Row.
type orderRow struct{ o chargeorderstore.Order }

func (r orderRow) Cursor() string    { return r.o.ID }
func (r orderRow) Headers() []string { return chargeorderstore.OrderHeaders() }
func (r orderRow) Cells() []any      { return chargeorderstore.OrderCells(r.o) }

// exportChargingOrders is GET /charging-orders/export?status=&stationId=&from=&to=:
// every order the filter selects (all, completed, or failed with reasons)
// as a streamed xlsx.
func (s *Server) exportChargingOrders(w http.ResponseWriter, r *http.Request) {
	q, ok := orderQuery(w, r)
	if !ok {
		return
	}
	q.Projects, q.Limit = operatorFrom(r.Context()).projectsFor(access.ViewData), 500
	sheet, err := report.NewSheet("orders", chargeorderstore.OrderHeaders())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	for {
		items, err := chargeorderstore.List(r.Context(), s.cfg.DB, q)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, o := range items {
			if err := sheet.Add(orderRow{o}); err != nil {
				s.internal(w, r, err)
				return
			}
		}
		if len(items) < q.Limit {
			break
		}
		last := items[len(items)-1]
		q.Before, q.BeforeID = &last.CreatedAt, last.ID
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="charging-orders.xlsx"`)
	_, _ = sheet.WriteTo(w)
}

// touStats is GET /charging-orders/tou-stats?stationId=&from=&to=&format=json|xlsx
// (充电记录尖峰平谷信息): kWh and fees per station and TOU period.
func (s *Server) touStats(w http.ResponseWriter, r *http.Request) {
	q, ok := orderQuery(w, r)
	if !ok {
		return
	}
	rows, err := chargeorderstore.TOUStats(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData),
		q.Scope, q.StationID, q.From, q.To)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if r.URL.Query().Get("format") != "xlsx" {
		writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(rows)})
		return
	}
	sheet, err := report.NewSheet("tou", chargeorderstore.TOURow{}.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	for _, row := range rows {
		if err := sheet.Add(row); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="charging-tou.xlsx"`)
	_, _ = sheet.WriteTo(w)
}

type activateCardRequest struct {
	CardNo    string `json:"cardNo"`
	Holder    string `json:"holder"`
	Phone     string `json:"phone"`
	ProjectID string `json:"projectId"`
}

// activateCard is POST /cards: issues an active card with a prepaid account
// (balance 0.00; money comes by recharge). An existing card number → 409.
func (s *Server) activateCard(w http.ResponseWriter, r *http.Request) {
	var req activateCardRequest
	if !decode(w, r, &req) {
		return
	}
	if req.CardNo == "" || len(req.CardNo) > 32 || req.Holder == "" {
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, "cardNo (≤ 32 chars) and holder are required")
		return
	}
	if !checkFormat(w, "cardNo", req.CardNo, identifier.CardNo) {
		return
	}
	project, ok := writeProject(w, r, req.ProjectID)
	if !ok {
		return
	}
	var exists bool
	if err := s.cfg.DB.QueryRow(r.Context(), `select exists(select 1 from cards where card_no=$1)`, req.CardNo).Scan(&exists); err != nil {
		s.internal(w, r, err)
		return
	}
	if exists {
		writeProblem(w, http.StatusConflict, CodeCardExists, "card "+req.CardNo+" exists")
		return
	}
	if err := charger.IssueCard(r.Context(), s.cfg.DB, charger.NewCard{ProjectID: project, CardNo: req.CardNo,
		Holder: req.Holder, Phone: req.Phone}); err != nil {
		s.internal(w, r, err)
		return
	}
	c, err := charger.GetCard(r.Context(), s.cfg.DB, []string{project}, req.CardNo)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, project, "card/"+req.CardNo, map[string]any{"status": c.Status, "holder": req.Holder})
	writeJSON(w, http.StatusCreated, c)
}

type holderRequest struct {
	Holder string `json:"holder"`
	Phone  string `json:"phone"`
}

// assignCardHolder is PUT /cards/{cardNo}/holder.
func (s *Server) assignCardHolder(w http.ResponseWriter, r *http.Request) {
	var req holderRequest
	if !decode(w, r, &req) {
		return
	}
	op := operatorFrom(r.Context())
	c, err := charger.AssignHolder(r.Context(), s.cfg.DB, op.projectsFor(access.SellEnergy), chi.URLParam(r, "cardNo"),
		req.Holder, req.Phone, op.ID)
	switch {
	case errors.Is(err, charger.ErrNoHolder):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "holder")
		return
	case errors.Is(err, charger.ErrCardNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "card not found")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	setAudit(r, c.ProjectID, "card/"+c.CardNo, map[string]any{"holder": req.Holder})
	writeJSON(w, http.StatusOK, c)
}

// cardHistory is GET /cards/{cardNo}/history (every status and holder change).
func (s *Server) cardHistory(w http.ResponseWriter, r *http.Request) {
	items, err := charger.CardHistory(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData), chi.URLParam(r, "cardNo"))
	s.writeFound(w, r, map[string]any{"items": nonNil(items)}, err, charger.ErrCardNotFound, "card not found")
}

type vehicleRequest struct {
	VIN    string `json:"vin"`
	CardNo string `json:"cardNo"`
	Plate  string `json:"plate"`
}

// registerVehicle is POST /vehicles {"vin","cardNo","plate"}: start by VIN.
func (s *Server) registerVehicle(w http.ResponseWriter, r *http.Request) {
	var req vehicleRequest
	if !decode(w, r, &req) || !checkFormat(w, "vin", req.VIN, identifier.VIN) ||
		!checkFormat(w, "cardNo", req.CardNo, identifier.CardNo) || !checkFormat(w, "plate", req.Plate, identifier.Plate) {
		return
	}
	err := chargeorderstore.RegisterVehicle(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.SellEnergy),
		req.VIN, req.CardNo, req.Plate)
	switch {
	case errors.Is(err, chargeorderstore.ErrInvalidVehicle):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "vin")
		return
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "card not found")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}
