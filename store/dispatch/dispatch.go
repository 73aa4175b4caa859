// Package dispatch holds the queries and writes of charging dispatch: what
// runs on a station's connectors now (active transactions with their last
// SOC), where a connector is, and the dispatch plans. The API and the
// activities (activities/dispatch) share them.
package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrUnknownConnector is Locate's error for a connector id that is not registered.
var ErrUnknownConnector = errors.New("unknown connector")

// Target is a connector of a charger.
type Target struct {
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector"`
}

// Active is a running transaction on a connector.
type Active struct {
	Target
	TransactionID int  `json:"transactionId"`
	SOC           *int `json:"soc,omitempty"` // last reported, percent
}

// SnapshotInput names the chargers to look at.
type SnapshotInput struct {
	ChargePointIDs []string `json:"chargePointIds"`
}

// DispatchSnapshot lists the active transactions of the chargers with the
// last SOC each reported: the planner's view of who is plugged in.
func DispatchSnapshot(ctx context.Context, db *store.DB, in SnapshotInput) ([]Active, error) {
	rows, err := db.Query(ctx, `select t.equipment_id, t.connector_no, t.id,
		(select m.soc from ocpp_meter_values m where m.transaction_id = t.id and m.soc is not null
		  order by m.at desc, m.id desc limit 1)
		from ocpp_transactions t where t.status = 'active' and t.equipment_id = any($1)
		order by t.equipment_id, t.connector_no, t.id`, in.ChargePointIDs)
	if err != nil {
		return nil, fmt.Errorf("dispatch snapshot: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Active, error) {
		var x Active
		err := r.Scan(&x.ChargePointID, &x.Connector, &x.TransactionID, &x.SOC)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch snapshot: %w", err)
	}
	return out, nil
}

// Place is where a connector is.
type Place struct {
	Target
	StationID   string `json:"stationId"`
	ConnectorID string `json:"connectorId"`
}

// Locate finds a connector by its registry id (<equipment id><3-digit connector no>).
func Locate(ctx context.Context, db *store.DB, connectorID string) (Place, error) {
	p := Place{ConnectorID: connectorID}
	err := db.QueryRow(ctx, `select c.equipment_id, e.station_id from charging_connectors c
		join charging_equipment e on e.equipment_id = c.equipment_id where c.connector_id = $1`, connectorID).
		Scan(&p.ChargePointID, &p.StationID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("connector %q is not registered: %w", connectorID, ErrUnknownConnector)
	}
	if err != nil {
		return p, fmt.Errorf("locate connector %s: %w", connectorID, err)
	}
	if len(connectorID) != len(p.ChargePointID)+3 {
		return p, fmt.Errorf("connector %q has no connector number: %w", connectorID, ErrUnknownConnector)
	}
	_, err = fmt.Sscanf(connectorID[len(p.ChargePointID):], "%03d", &p.Connector)
	if err != nil {
		return p, fmt.Errorf("connector %q has no connector number: %w", connectorID, ErrUnknownConnector)
	}
	return p, nil
}
