package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/fleet"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
)

// CodeRouteExists is a bus route code already used in the project.
const CodeRouteExists = "route_exists"

// vehicleRoutes are vehicles and fleets (C6): bus routes bound to
// vehicles, the vehicle list and export, per-vehicle charging statistics.
func (s *Server) vehicleRoutes(r chi.Router) {
	r.With(s.audit("bus-route.create")).Post("/bus-routes", s.createBusRoute)
	r.Get("/bus-routes", s.listBusRoutes)
	r.Get("/vehicles", s.listVehicles)
	r.Get("/vehicles/export", s.exportVehicles)
	r.With(s.audit("vehicle.route")).Put("/vehicles/{vin}/route", s.bindVehicleRoute)
	r.Get("/vehicles/{vin}/stats", s.vehicleStats)
}

type busRouteRequest struct {
	ProjectID string `json:"projectId"`
	Code      string `json:"code"`
	Name      string `json:"name"`
}

// createBusRoute is POST /bus-routes: a route (公交线路) vehicles are bound to.
func (s *Server) createBusRoute(w http.ResponseWriter, r *http.Request) {
	var req busRouteRequest
	if !decode(w, r, &req) {
		return
	}
	projectID, _, ok := s.applyingProject(w, r, req.ProjectID, "creating a bus route needs the cashier role")
	if !ok {
		return
	}
	route := fleet.Route{Code: req.Code, Name: strings.TrimSpace(req.Name)}
	if field, err := route.Validate(); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), field)
		return
	}
	setAudit(r, projectID, "bus-route/"+route.Code, map[string]any{"name": route.Name})
	out, err := chargeorderstore.CreateRoute(r.Context(), s.cfg.DB, projectID, route)
	switch {
	case errors.Is(err, chargeorderstore.ErrRouteExists):
		writeProblemField(w, http.StatusConflict, CodeRouteExists, err.Error(), "code")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, out)
	}
}

// listBusRoutes is GET /bus-routes.
func (s *Server) listBusRoutes(w http.ResponseWriter, r *http.Request) {
	items, err := chargeorderstore.ListRoutes(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}

type vehicleRouteRequest struct {
	RouteID string `json:"routeId"` // "" unbinds
}

// bindVehicleRoute is PUT /vehicles/{vin}/route {"routeId"}.
func (s *Server) bindVehicleRoute(w http.ResponseWriter, r *http.Request) {
	var req vehicleRouteRequest
	if !decode(w, r, &req) {
		return
	}
	vin := chi.URLParam(r, "vin")
	if req.RouteID != "" && uuid.Validate(req.RouteID) != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "routeId is not a route id", "routeId")
		return
	}
	v, err := chargeorderstore.BindRoute(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.SellEnergy), vin, req.RouteID)
	switch {
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	setAudit(r, v.ProjectID, "vehicle/"+vin, map[string]any{"routeId": req.RouteID})
	writeJSON(w, http.StatusOK, v)
}

func vehicleQuery(w http.ResponseWriter, r *http.Request) (chargeorderstore.VehicleQuery, bool) {
	q := chargeorderstore.VehicleQuery{Projects: operatorFrom(r.Context()).projectsFor(access.ViewData), RouteID: r.URL.Query().Get("routeId")}
	pg, ok := pageParams(w, r)
	q.Limit, q.Before, q.BeforeID = pg.limit, pg.before, pg.beforeID
	return q, ok
}

// listVehicles is GET /vehicles?routeId=: newest first, paged.
func (s *Server) listVehicles(w http.ResponseWriter, r *http.Request) {
	q, ok := vehicleQuery(w, r)
	if !ok {
		return
	}
	items, err := chargeorderstore.ListVehicles(r.Context(), s.cfg.DB, q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, q.Limit, func(last chargeorderstore.Vehicle) (time.Time, string) { return last.CreatedAt, last.VIN })
}

// exportVehicles is GET /vehicles/export?routeId=: every vehicle as Excel.
func (s *Server) exportVehicles(w http.ResponseWriter, r *http.Request) {
	q, ok := vehicleQuery(w, r)
	if !ok {
		return
	}
	exportKeyset(s, w, r, "vehicles", "vehicles.xlsx", func(after *chargeorderstore.Vehicle, limit int) ([]chargeorderstore.Vehicle, error) {
		q.Limit, q.Before, q.BeforeID = limit, nil, ""
		if after != nil {
			q.Before, q.BeforeID = &after.CreatedAt, after.VIN
		}
		return chargeorderstore.ListVehicles(r.Context(), s.cfg.DB, q)
	})
}

// vehicleStats is GET /vehicles/{vin}/stats?from=&to=: the vehicle's
// completed orders (count, kWh, amount) in total and by TOU period.
func (s *Server) vehicleStats(w http.ResponseWriter, r *http.Request) {
	q, ok := orderQuery(w, r)
	if !ok {
		return
	}
	st, err := chargeorderstore.StatsOfVehicle(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData),
		chi.URLParam(r, "vin"), q.From, q.To)
	switch {
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, st)
	}
}
