package charger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Station is a charging station as the console's list and map show it:
// where it is (longitude / latitude from the registry record) and how many
// charge points and connectors of the caller's projects it has.
type Station struct {
	StationID  string  `json:"stationId"`
	Name       string  `json:"name"`
	Address    string  `json:"address"`
	Lng        float64 `json:"lng"`
	Lat        float64 `json:"lat"`
	Status     int     `json:"status"` // registry station status (table 3)
	Chargers   int     `json:"chargers"`
	Connectors int     `json:"connectors"`
}

// Stations lists the stations with at least one charge point in projects,
// by station id.
func Stations(ctx context.Context, db *store.DB, projects []string) ([]Station, error) {
	rows, err := db.Query(ctx, `select trim(s.station_id), s.station_name, s.address, s.station_lng::float8,
			s.station_lat::float8, s.station_status, count(distinct e.equipment_id)::int, count(c.connector_id)::int
		from charging_stations s join charging_equipment e on e.station_id=s.station_id
		join ocpp_charge_points p on p.equipment_id=e.equipment_id
		left join charging_connectors c on c.equipment_id=e.equipment_id
		where p.project_id::text = any($1)
		group by s.station_id order by s.station_id`, projects)
	if err != nil {
		return nil, fmt.Errorf("list stations: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Station])
	if err != nil {
		return nil, fmt.Errorf("list stations: %w", err)
	}
	return out, nil
}
