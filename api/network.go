package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/network"
)

// Problem codes of the network set-up.
const (
	CodeConnectorPaused  = "connector_paused"
	CodeNetworkIDExists  = "network_id_exists"
	CodeChargePointKnown = "charge_point_exists"
)

// networkRoutes are the charging network set-up (issue 19, C1): stations,
// equipment and connectors in the T/CEC model, their operating switch,
// and charge point registration. Writes need the admin role of the
// station's project; each registry change owes the regulator a
// notification_stationInfo.
func (s *Server) networkRoutes(r chi.Router) {
	r.With(s.audit("station.create")).Post("/projects/{project}/charging-stations", s.createStation)
	r.Get("/charging-stations/{id}", s.getStation)
	r.With(s.audit("station.update")).Patch("/charging-stations/{id}", s.patchStation)
	r.With(s.audit("station.start")).Post("/charging-stations/{id}/start", s.pauseStation(false))
	r.With(s.audit("station.pause")).Post("/charging-stations/{id}/pause", s.pauseStation(true))
	r.With(s.audit("equipment.create")).Post("/charging-stations/{id}/equipment", s.createEquipment)
	r.With(s.audit("concentrator.create")).Post("/charging-stations/{id}/concentrators", s.saveConcentrator(true))
	r.Get("/charging-stations/{id}/concentrators", s.listConcentrators)
	r.With(s.audit("concentrator.update")).Put("/charging-stations/{id}/concentrators/{code}", s.saveConcentrator(false))
	r.Get("/charging-equipment/{equipmentId}", s.getEquipment)
	r.With(s.audit("equipment.update")).Patch("/charging-equipment/{equipmentId}", s.patchEquipment)
	r.Get("/charging-connectors/{connectorId}", s.getConnector)
	r.With(s.audit("connector.update")).Patch("/charging-connectors/{connectorId}", s.patchConnector)
	r.With(s.audit("connector.start")).Post("/charging-connectors/{connectorId}/start", s.pauseConnector(false))
	r.With(s.audit("connector.pause")).Post("/charging-connectors/{connectorId}/pause", s.pauseConnector(true))
	r.With(s.audit("charge-point.register")).Post("/projects/{project}/charge-points", s.registerChargePoint)
	r.With(s.audit("charge-point.password")).Post("/projects/{project}/charge-points/{id}/password", s.rotateChargePointPassword)
}

// stationAccess resolves a station's project for the caller: 404 when
// unknown or outside the caller's projects, 403 when admin is needed and
// the caller only sees it.
func (s *Server) stationAccess(w http.ResponseWriter, r *http.Request, stationID, subject string, admin bool) (string, bool) {
	pid, err := network.StationProject(r.Context(), s.cfg.DB, stationID)
	op := operatorFrom(r.Context())
	if errors.Is(err, network.ErrNotFound) || (err == nil && !op.PlatformAdmin &&
		(!op.Grants.Can(pid, access.ViewData) || !op.seesStation(pid, stationID))) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "charging station "+stationID+" not found")
		return "", false
	}
	if err != nil {
		s.internal(w, r, err)
		return "", false
	}
	setAudit(r, pid, subject, nil)
	if admin && !op.administers(pid) {
		writeProblem(w, http.StatusForbidden, CodeForbidden, "changing the charging network needs the admin role in the project")
		return "", false
	}
	return pid, true
}

// networkProblem answers a store error of the network package.
func (s *Server) networkProblem(w http.ResponseWriter, r *http.Request, err error) {
	var inv *network.InvalidError
	switch {
	case errors.As(err, &inv):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, inv.Error(), inv.Field)
	case errors.Is(err, network.ErrExists):
		writeProblem(w, http.StatusConflict, CodeNetworkIDExists, err.Error())
	case errors.Is(err, network.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, err.Error())
	default:
		s.internal(w, r, err)
	}
}

// pushStationInfo records the notification_stationInfo the change owes;
// the regulator pump sends it (woken by the outbox insert). Should this
// fail, the change is committed anyway and the pump's periodic sweep
// records what the station owes (push.Activities.stationInfoOwed), so the
// push is not lost.
func (s *Server) pushStationInfo(r *http.Request, stationID string) {
	if _, err := push.RecordStationInfo(r.Context(), s.cfg.DB, push.DefaultRegulator, stationID, time.Now()); err != nil {
		s.log.Warn("station info push not recorded; the pump's sweep will", "station", stationID, "error", err)
	}
}

func (s *Server) createStation(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	st := network.Station{CountryCode: "CN", OpratorType: 1, Pictures: []string{}}
	if !decode(w, r, &st) {
		return
	}
	setAudit(r, pid, "charging-station/"+st.StationID, map[string]any{"stationName": st.StationName})
	if st.OperatorID == "" {
		op, err := network.DefaultOperator(r.Context(), s.cfg.DB)
		if err != nil {
			s.networkProblem(w, r, err)
			return
		}
		st.OperatorID = op
	}
	if st.EquipmentOwnerID == "" {
		st.EquipmentOwnerID = st.OperatorID
	}
	if st.StationTel == "" {
		st.StationTel = st.ServiceTel
	}
	if err := network.SaveStation(r.Context(), s.cfg.DB, pid, st, true); err != nil {
		s.networkProblem(w, r, err)
		return
	}
	for _, e := range st.Equipment {
		e.StationID = st.StationID
		if err := network.SaveEquipment(r.Context(), s.cfg.DB, equipmentDefaults(e, st.EquipmentOwnerID), true); err != nil {
			s.pushStationInfo(r, st.StationID)
			s.networkProblem(w, r, err)
			return
		}
	}
	if st.Paused {
		if err := network.SetStationPaused(r.Context(), s.cfg.DB, st.StationID, true); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	s.pushStationInfo(r, st.StationID)
	s.writeStation(w, r, http.StatusCreated, st.StationID)
}

func (s *Server) writeStation(w http.ResponseWriter, r *http.Request, status int, id string) {
	st, err := network.GetStation(r.Context(), s.cfg.DB, id)
	if err != nil {
		s.networkProblem(w, r, err)
		return
	}
	for i := range st.Equipment {
		withQRCodes(&st.Equipment[i])
	}
	writeJSON(w, status, st)
}

// withQRCodes fills in each connector's appendix A URI.
func withQRCodes(e *network.Equipment) {
	for i, c := range e.Connectors {
		e.Connectors[i].QRCode = registry.QRCode(c.ConnectorID, c.OperatorID, "")
	}
}

func (s *Server) getStation(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, ok := s.stationAccess(w, r, id, "charging-station/"+id, false); !ok {
		return
	}
	s.writeStation(w, r, http.StatusOK, id)
}

// overlay applies a partial JSON object to v (absent fields stay as they
// are), refusing the fields that are not the patch's to change. It writes
// the problem and reports false on failure.
func overlay(w http.ResponseWriter, patch map[string]json.RawMessage, v any, fixed ...string) bool {
	for _, f := range fixed {
		if _, ok := patch[f]; ok {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, f+" cannot be changed here", f)
			return false
		}
	}
	raw, err := json.Marshal(patch)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		field, detail := decodeDetail(err)
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, detail, field)
		return false
	}
	return true
}

// patchStation changes a station's T/CEC fields; absent fields stay.
func (s *Server) patchStation(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pid, ok := s.stationAccess(w, r, id, "charging-station/"+id, true)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if !decode(w, r, &patch) {
		return
	}
	st, err := network.GetStation(r.Context(), s.cfg.DB, id)
	if err != nil {
		s.networkProblem(w, r, err)
		return
	}
	if !overlay(w, patch, &st, "stationId", "paused", "equipmentInfos") {
		return
	}
	setAudit(r, pid, "charging-station/"+id, map[string]any{"fields": slices.Sorted(maps.Keys(patch))})
	if err := network.SaveStation(r.Context(), s.cfg.DB, pid, st, false); err != nil {
		s.networkProblem(w, r, err)
		return
	}
	s.pushStationInfo(r, id)
	s.writeStation(w, r, http.StatusOK, id)
}

// pauseStation is 暂停运营 (true) / 开始运营 (false) of a whole station.
func (s *Server) pauseStation(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if _, ok := s.stationAccess(w, r, id, "charging-station/"+id, true); !ok {
			return
		}
		if err := network.SetStationPaused(r.Context(), s.cfg.DB, id, paused); err != nil {
			s.networkProblem(w, r, err)
			return
		}
		s.pushStationInfo(r, id)
		s.pushPauseEvent(r, paused, id, "", "")
		s.writeStation(w, r, http.StatusOK, id)
	}
}

// pushPauseEvent records the notification_eventInfo of operation paused
// or resumed (a station, or one connector when equipmentID is set). Like
// pushStationInfo, a failure is logged: the change itself is committed.
func (s *Server) pushPauseEvent(r *http.Request, paused bool, stationID, equipmentID, connectorID string) {
	kind := chargefault.OperationResumed
	if paused {
		kind = chargefault.OperationPaused
	}
	var err error
	if equipmentID == "" {
		_, err = push.RecordStationEvent(r.Context(), s.cfg.DB, push.DefaultRegulator, kind, stationID, time.Now())
	} else {
		_, err = push.RecordOperatingEvent(r.Context(), s.cfg.DB, push.DefaultRegulator, kind, chargefault.Alarm{},
			equipmentID, connectorID, time.Now())
	}
	if err != nil {
		s.log.Warn("pause event push not recorded", "station", stationID, "connector", connectorID, "error", err)
	}
}

// equipmentDefaults fills what the contract lets a caller leave out.
func equipmentDefaults(e network.Equipment, owner string) network.Equipment {
	if e.ManufacturerID == "" {
		e.ManufacturerID = owner
	}
	if e.EquipmentName == "" {
		e.EquipmentName = e.EquipmentID
	}
	if e.EquipmentStatus == 0 {
		e.EquipmentStatus = 50
	}
	if e.EquipmentPower == 0 {
		e.EquipmentPower = e.Power
	}
	if e.NewNationalStandard == 0 {
		e.NewNationalStandard = 2
	}
	for i, c := range e.Connectors {
		if c.ConnectorName == "" && len(c.ConnectorID) >= 2 {
			c.ConnectorName = c.ConnectorID[len(c.ConnectorID)-2:] + "#"
		}
		if c.Voltage == 0 {
			c.Voltage = c.VoltageUpperLimits
		}
		e.Connectors[i] = c
	}
	return e
}

func (s *Server) createEquipment(w http.ResponseWriter, r *http.Request) {
	station := chi.URLParam(r, "id")
	pid, ok := s.stationAccess(w, r, station, "charging-station/"+station, true)
	if !ok {
		return
	}
	var e network.Equipment
	if !decode(w, r, &e) {
		return
	}
	setAudit(r, pid, "charging-equipment/"+e.EquipmentID, map[string]any{"stationId": station, "connectors": len(e.Connectors)})
	st, err := network.GetStation(r.Context(), s.cfg.DB, station)
	if err != nil {
		s.networkProblem(w, r, err)
		return
	}
	e.StationID = station
	if err := network.SaveEquipment(r.Context(), s.cfg.DB, equipmentDefaults(e, st.EquipmentOwnerID), true); err != nil {
		s.networkProblem(w, r, err)
		return
	}
	s.pushStationInfo(r, station)
	s.writeEquipment(w, r, http.StatusCreated, e.EquipmentID)
}

func (s *Server) writeEquipment(w http.ResponseWriter, r *http.Request, status int, id string) {
	e, err := network.GetEquipment(r.Context(), s.cfg.DB, id)
	if err != nil {
		s.networkProblem(w, r, err)
		return
	}
	withQRCodes(&e)
	writeJSON(w, status, e)
}

// equipmentAccess finds equipment and checks its station's project.
func (s *Server) equipmentAccess(w http.ResponseWriter, r *http.Request, admin bool) (network.Equipment, string, bool) {
	id := chi.URLParam(r, "equipmentId")
	e, err := network.GetEquipment(r.Context(), s.cfg.DB, id)
	if errors.Is(err, network.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "charging equipment "+id+" not found")
		return e, "", false
	}
	if err != nil {
		s.internal(w, r, err)
		return e, "", false
	}
	pid, ok := s.stationAccess(w, r, e.StationID, "charging-equipment/"+id, admin)
	return e, pid, ok
}

func (s *Server) getEquipment(w http.ResponseWriter, r *http.Request) {
	e, _, ok := s.equipmentAccess(w, r, false)
	if !ok {
		return
	}
	withQRCodes(&e)
	writeJSON(w, http.StatusOK, e)
}

// patchEquipment changes a charger's fields; connectorInfos listed are
// added or replaced (whole connectors), the others stay.
func (s *Server) patchEquipment(w http.ResponseWriter, r *http.Request) {
	e, pid, ok := s.equipmentAccess(w, r, true)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if !decode(w, r, &patch) {
		return
	}
	current := e.Connectors
	e.Connectors = nil
	if !overlay(w, patch, &e, "equipmentId", "stationId") {
		return
	}
	if e.Connectors == nil {
		e.Connectors = current
	}
	setAudit(r, pid, "charging-equipment/"+e.EquipmentID, map[string]any{"fields": slices.Sorted(maps.Keys(patch))})
	if err := network.SaveEquipment(r.Context(), s.cfg.DB, e, false); err != nil {
		s.networkProblem(w, r, err)
		return
	}
	s.pushStationInfo(r, e.StationID)
	s.writeEquipment(w, r, http.StatusOK, e.EquipmentID)
}

// ConnectorView is a connector with where it is.
type ConnectorView struct {
	network.Connector
	EquipmentID string `json:"equipmentId"`
	StationID   string `json:"stationId"`
}

// connectorAccess finds a connector and checks its station's project.
func (s *Server) connectorAccess(w http.ResponseWriter, r *http.Request, admin bool) (ConnectorView, string, bool) {
	id := chi.URLParam(r, "connectorId")
	station, _, err := network.ConnectorPlace(r.Context(), s.cfg.DB, id)
	if errors.Is(err, network.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "connector "+id+" not found")
		return ConnectorView{}, "", false
	}
	if err != nil {
		s.internal(w, r, err)
		return ConnectorView{}, "", false
	}
	pid, ok := s.stationAccess(w, r, station, "connector/"+id, admin)
	if !ok {
		return ConnectorView{}, "", false
	}
	v, err := s.connectorView(r, id)
	if err != nil {
		s.internal(w, r, err)
		return v, "", false
	}
	return v, pid, true
}

func (s *Server) connectorView(r *http.Request, id string) (ConnectorView, error) {
	if len(id) < 4 {
		return ConnectorView{}, network.ErrNotFound
	}
	e, err := network.GetEquipment(r.Context(), s.cfg.DB, id[:len(id)-3])
	if err != nil {
		return ConnectorView{}, err
	}
	withQRCodes(&e)
	for _, c := range e.Connectors {
		if c.ConnectorID == id {
			return ConnectorView{Connector: c, EquipmentID: e.EquipmentID, StationID: e.StationID}, nil
		}
	}
	return ConnectorView{}, network.ErrNotFound
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) {
	v, _, ok := s.connectorAccess(w, r, false)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) patchConnector(w http.ResponseWriter, r *http.Request) {
	v, pid, ok := s.connectorAccess(w, r, true)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if !decode(w, r, &patch) {
		return
	}
	c := v.Connector
	if !overlay(w, patch, &c, "connectorId", "paused", "qrCode", "equipmentId", "stationId") {
		return
	}
	setAudit(r, pid, "connector/"+c.ConnectorID, map[string]any{"fields": slices.Sorted(maps.Keys(patch))})
	if err := network.UpdateConnector(r.Context(), s.cfg.DB, c); err != nil {
		s.networkProblem(w, r, err)
		return
	}
	s.pushStationInfo(r, v.StationID)
	s.writeConnector(w, r, c.ConnectorID)
}

func (s *Server) writeConnector(w http.ResponseWriter, r *http.Request, id string) {
	v, err := s.connectorView(r, id)
	if err != nil {
		s.networkProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// pauseConnector pauses (true) or starts (false) one connector: a paused
// connector refuses app and dispatch starts (409 connector_paused) and a
// charger's own StartTransaction on it (idTagInfo Blocked).
func (s *Server) pauseConnector(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, _, ok := s.connectorAccess(w, r, true)
		if !ok {
			return
		}
		if err := network.SetConnectorPaused(r.Context(), s.cfg.DB, v.ConnectorID, paused); err != nil {
			s.networkProblem(w, r, err)
			return
		}
		s.pushStationInfo(r, v.StationID)
		s.pushPauseEvent(r, paused, v.StationID, v.EquipmentID, v.ConnectorID)
		s.writeConnector(w, r, v.ConnectorID)
	}
}

// ChargePointRequest registers a charge point (contracts.md, "Setting up").
type ChargePointRequest struct {
	ChargePointID string `json:"chargePointId"`
	EquipmentID   string `json:"equipmentId"`
	Protocol      string `json:"protocol"`
	Model         string `json:"model"`
	Vendor        string `json:"vendor"`
	Firmware      string `json:"firmware"`
}

// ChargePointSecret is the only answer that carries a charge point's
// password.
type ChargePointSecret struct {
	ChargePointID string `json:"chargePointId"`
	Password      string `json:"password"`
}

// registerChargePoint allow-lists a charge point with a generated
// basic-auth password, shown only in this answer. The OCPP identity is the
// equipment id (its connectors are <id><3-digit connector>), so
// chargePointId and equipmentId name the same thing.
func (s *Server) registerChargePoint(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	var req ChargePointRequest
	if !decode(w, r, &req) {
		return
	}
	if req.EquipmentID == "" {
		req.EquipmentID = req.ChargePointID
	}
	if req.Protocol == "" {
		req.Protocol = "ocpp1.6j"
	}
	setAudit(r, pid, "charge-point/"+req.ChargePointID, map[string]any{"equipmentId": req.EquipmentID, "protocol": req.Protocol})
	if req.ChargePointID == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "chargePointId is required", "chargePointId")
		return
	}
	if req.EquipmentID != req.ChargePointID {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField,
			"chargePointId is the equipment's id (its connectors are <id><3-digit connector>)", "equipmentId")
		return
	}
	password := charger.NewPassword()
	err := charger.Register(r.Context(), s.cfg.DB, charger.ChargePoint{ID: req.ChargePointID, ProjectID: pid,
		Protocol: req.Protocol, Model: req.Model, Vendor: req.Vendor, Firmware: req.Firmware}, password)
	switch {
	case errors.Is(err, charger.ErrUnknownEquipment):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "equipment "+req.EquipmentID+
			" is not in a charging station of the project", "equipmentId")
		return
	case errors.Is(err, charger.ErrChargePointExists):
		writeProblemField(w, http.StatusConflict, CodeChargePointKnown, "charge point "+req.ChargePointID+
			" is registered; rotate its password instead", "chargePointId")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ChargePointSecret{ChargePointID: req.ChargePointID, Password: password})
}

// rotateChargePointPassword gives a charge point a new generated password
// (shown only here); the old one stops working at once.
func (s *Server) rotateChargePointPassword(w http.ResponseWriter, r *http.Request) {
	pid, ok := s.administeredProject(w, r, chi.URLParam(r, "project"))
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	setAudit(r, pid, "charge-point/"+id, nil)
	password := charger.NewPassword()
	err := charger.RotatePassword(r.Context(), s.cfg.DB, pid, id, password)
	if errors.Is(err, charger.ErrUnknownEquipment) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "charge point "+id+" not found")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ChargePointSecret{ChargePointID: id, Password: password})
}

// saveConcentrator creates (POST) or replaces (PUT …/{code}) a station's
// concentrator (集控器) with the chargers on its CAN bus.
func (s *Server) saveConcentrator(create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		station := chi.URLParam(r, "id")
		pid, ok := s.stationAccess(w, r, station, "charging-station/"+station, true)
		if !ok {
			return
		}
		var c network.Concentrator
		if !decode(w, r, &c) {
			return
		}
		if !create {
			if c.Code != "" && c.Code != chi.URLParam(r, "code") {
				writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "code is the path's", "code")
				return
			}
			c.Code = chi.URLParam(r, "code")
		}
		c.StationID = station
		if c.Chargers == nil {
			c.Chargers = []network.ConcentratorSlot{}
		}
		setAudit(r, pid, "concentrator/"+station+"/"+c.Code, map[string]any{"chargers": len(c.Chargers)})
		if err := network.SaveConcentrator(r.Context(), s.cfg.DB, c, create); err != nil {
			s.networkProblem(w, r, err)
			return
		}
		out, err := network.GetConcentrator(r.Context(), s.cfg.DB, station, c.Code)
		if err != nil {
			s.networkProblem(w, r, err)
			return
		}
		status := http.StatusOK
		if create {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	}
}

func (s *Server) listConcentrators(w http.ResponseWriter, r *http.Request) {
	station := chi.URLParam(r, "id")
	if _, ok := s.stationAccess(w, r, station, "charging-station/"+station, false); !ok {
		return
	}
	items, err := network.Concentrators(r.Context(), s.cfg.DB, station)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
