package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
)

// LiveConnector is a connector as it stands now, with its running order.
type LiveConnector struct {
	ConnectorID string    `json:"connectorId"`
	EquipmentID string    `json:"equipmentId"`
	Online      bool      `json:"online"`
	Status      int       `json:"status"` // T/CEC connector status code (table 8)
	SOC         int       `json:"soc"`
	ChangedAt   time.Time `json:"changedAt"`
	OrderID     *string   `json:"orderId"`
	OrderStatus *string   `json:"orderStatus"`
}

// chargingStationLive is GET /charging-stations/{id}/live: every connector
// of the station with its charger's presence, status and running order.
func (s *Server) chargingStationLive(w http.ResponseWriter, r *http.Request) {
	sc := operatorFrom(r.Context()).stationScope()
	rows, err := s.cfg.DB.Query(r.Context(), `select c.connector_id, c.equipment_id, coalesce(p.online, false),
		coalesce(st.status, 0), coalesce(st.soc, 0), coalesce(st.changed_at, c.updated_at), o.id::text, o.status
		from charging_connectors c join charging_equipment e on e.equipment_id=c.equipment_id
		join ocpp_charge_points p on p.equipment_id=c.equipment_id
		left join connector_status st on st.connector_id=c.connector_id
		left join lateral (select id, status from charging_orders o where o.equipment_id=c.equipment_id
			and o.connector_no=right(c.connector_id, 3)::int and o.status in ('starting','charging')
			order by created_at desc limit 1) o on true
		where e.station_id=$1 and p.project_id::text = any($2) and `+store.StationScope{}.SQL("p.project_id", "e.station_id", 3)+`
		order by c.connector_id`,
		chi.URLParam(r, "id"), operatorFrom(r.Context()).projectsFor(access.ViewData), sc.Args()[0], sc.Args()[1])
	if err != nil {
		s.internal(w, r, err)
		return
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LiveConnector, error) {
		var k LiveConnector
		return k, row.Scan(&k.ConnectorID, &k.EquipmentID, &k.Online, &k.Status, &k.SOC, &k.ChangedAt, &k.OrderID, &k.OrderStatus)
	})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(items) == 0 {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "charging station not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stationId": chi.URLParam(r, "id"), "connectors": items})
}
