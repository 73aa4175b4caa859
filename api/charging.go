package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
)

// Charger is the API view of an OCPP charge point with its connectors.
type Charger struct {
	ID              string             `json:"id"`
	Online          bool               `json:"online"`
	Enabled         bool               `json:"enabled"`
	LastSeenAt      *time.Time         `json:"lastSeenAt"`
	ConnectedAt     *time.Time         `json:"connectedAt"`
	DisconnectedAt  *time.Time         `json:"disconnectedAt"`
	Vendor          *string            `json:"vendor"`
	Model           *string            `json:"model"`
	FirmwareVersion *string            `json:"firmwareVersion"`
	Status          *string            `json:"status"` // OCPP status of connector 0
	Connectors      []ChargerConnector `json:"connectors"`
}

// ChargerConnector is one connector's registry status (table 8 code).
type ChargerConnector struct {
	ConnectorID string    `json:"connectorId"`
	Status      int       `json:"status"`
	ChangedAt   time.Time `json:"changedAt"`
}

// chargerProject checks the charger is visible to the caller (its project
// among those the caller may view).
func (s *Server) chargerVisible(r *http.Request, id string) (bool, error) {
	var ok bool
	sc := operatorFrom(r.Context()).stationScope()
	err := s.cfg.DB.QueryRow(r.Context(), `select exists(select 1 from ocpp_charge_points where equipment_id=$1
		and project_id::text = any($2)
		and `+store.StationScope{}.SQL("project_id", "(select e.station_id from charging_equipment e where e.equipment_id=$1)", 3)+`)`,
		id, operatorFrom(r.Context()).projectsFor(access.ViewData), sc.Args()[0], sc.Args()[1]).Scan(&ok)
	return ok, err
}

func (s *Server) getCharger(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	c := Charger{ID: id, Connectors: []ChargerConnector{}}
	sc := operatorFrom(r.Context()).stationScope()
	err := s.cfg.DB.QueryRow(r.Context(), `select online, enabled, last_seen_at, connected_at, disconnected_at, vendor, model,
		firmware_version, status from ocpp_charge_points where equipment_id=$1 and project_id::text = any($2)
		and `+store.StationScope{}.SQL("project_id", "(select e.station_id from charging_equipment e where e.equipment_id=$1)", 3),
		id, operatorFrom(r.Context()).projectsFor(access.ViewData), sc.Args()[0], sc.Args()[1]).Scan(&c.Online, &c.Enabled, &c.LastSeenAt,
		&c.ConnectedAt, &c.DisconnectedAt, &c.Vendor, &c.Model, &c.FirmwareVersion, &c.Status)
	if !s.found(w, r, err, pgx.ErrNoRows, "charger not found") {
		return
	}
	rows, err := s.cfg.DB.Query(r.Context(), `select c.connector_id, coalesce(st.status, 0), coalesce(st.changed_at, c.updated_at)
		from charging_connectors c left join connector_status st using (connector_id)
		where c.equipment_id=$1 order by c.connector_id`, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	c.Connectors, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ChargerConnector, error) {
		var k ChargerConnector
		err := row.Scan(&k.ConnectorID, &k.Status, &k.ChangedAt)
		return k, err
	})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// listChargerMessages is the device message log (设备报文查看) of one
// charger: GET /chargers/{id}/messages?from=&to=&limit=&cursor=, oldest first.
func (s *Server) listChargerMessages(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	q := charger.MessageQuery{ChargePointID: id}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeProblemField(w, http.StatusBadRequest, CodeInvalidField, p.name+" must be an RFC 3339 time", p.name)
				return
			}
			*p.t = t
		}
	}
	pg, ok := pageParams(w, r)
	if !ok {
		return
	}
	q.Limit = pg.limit
	if pg.beforeID != "" {
		after, err := strconv.ParseInt(pg.beforeID, 10, 64)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, CodeMalformed, "bad cursor")
			return
		}
		q.AfterID = after
	}
	visible, err := s.chargerVisible(r, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !visible {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "charger not found")
		return
	}
	items, err := charger.Messages(r.Context(), s.cfg.DB, q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, q.Limit, func(last charger.Message) (time.Time, string) {
		return last.At, strconv.FormatInt(last.ID, 10)
	})
}

func (s *Server) getCard(w http.ResponseWriter, r *http.Request) {
	c, err := charger.GetCard(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData), chi.URLParam(r, "cardNo"))
	s.writeFound(w, r, c, err, charger.ErrCardNotFound, "card not found")
}

type cardStatusRequest struct {
	Reason string `json:"reason"`
}

// setCardStatus is POST /cards/{cardNo}/freeze and /unfreeze (冻结, 解冻).
// The card desk is the cashier's: the roles that sell may freeze. Repeating
// a freeze answers the same card, unchanged.
func (s *Server) setCardStatus(to card.Status) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req cardStatusRequest
		if r.ContentLength != 0 && !decode(w, r, &req) {
			return
		}
		op := operatorFrom(r.Context())
		cardNo := chi.URLParam(r, "cardNo")
		c, err := charger.SetCardStatus(r.Context(), s.cfg.DB, charger.StatusChange{CardNo: cardNo,
			Projects: op.projectsFor(access.SellEnergy), To: to, OperatorID: op.ID, Reason: req.Reason})
		switch {
		case errors.Is(err, charger.ErrCardNotFound):
			writeProblem(w, http.StatusNotFound, CodeNotFound, "card not found")
			return
		case errors.Is(err, card.ErrFinal):
			writeProblem(w, http.StatusConflict, CodeCardVoid, "card "+cardNo+" is void")
			return
		case err != nil:
			s.internal(w, r, err)
			return
		}
		setAudit(r, c.ProjectID, "card/"+cardNo, map[string]any{"status": c.Status, "reason": req.Reason})
		writeJSON(w, http.StatusOK, c)
	}
}
