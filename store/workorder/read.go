package workorder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrNotFound: no such work order in the caller's projects.
var ErrNotFound = errors.New("work order not found")

// WorkOrder is one work order as the API shows it.
type WorkOrder struct {
	ID             string     `json:"id"`
	ProjectID      string     `json:"projectId"`
	WorkflowID     string     `json:"workflowId"`
	ChargePointID  string     `json:"chargePointId"`
	Connector      int        `json:"connector"`
	FaultKey       string     `json:"faultKey"`
	Source         string     `json:"source"`
	AlarmCode      *int       `json:"alarmCode,omitempty"`
	OCPPCode       string     `json:"ocppCode,omitempty"`
	Title          string     `json:"title"`
	Status         string     `json:"status"`
	FaultActive    bool       `json:"faultActive"`
	AssigneeID     *string    `json:"assigneeId,omitempty"`
	Escalations    []string   `json:"escalations"`
	OpenedAt       time.Time  `json:"openedAt"`
	AcknowledgedAt *time.Time `json:"acknowledgedAt,omitempty"`
	AcknowledgedBy *string    `json:"acknowledgedBy,omitempty"`
	RecoveredAt    *time.Time `json:"recoveredAt,omitempty"`
	ClosedAt       *time.Time `json:"closedAt,omitempty"`
	ClosedBy       *string    `json:"closedBy,omitempty"`
	Resolution     string     `json:"resolution,omitempty"`
	Events         []Event    `json:"events,omitempty"`
	// Faults is the order's fault history (charger_faults episodes).
	Faults []Episode `json:"faults,omitempty"`
}

// Event is one step in a work order's history.
type Event struct {
	Kind       string    `json:"kind"`
	FaultID    *int64    `json:"faultId,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	OperatorID *string   `json:"operatorId,omitempty"`
	At         time.Time `json:"at"`
}

// Episode is one fault episode: start, recovery and duration.
type Episode struct {
	FaultID         int64      `json:"faultId"`
	OCPPCode        string     `json:"ocppCode"`
	AlarmCode       int        `json:"alarmCode"`
	StartedAt       time.Time  `json:"startedAt"`
	RecoveredAt     *time.Time `json:"recoveredAt,omitempty"`
	DurationSeconds int64      `json:"durationSeconds"` // until recovery, or until now
}

const columns = `w.id::text, coalesce(w.project_id::text,''), w.workflow_id, w.equipment_id, w.connector_no, w.fault_key, w.source,
	w.alarm_code, w.ocpp_code, w.title, w.status, w.fault_active, w.assignee_id::text, w.escalations, w.opened_at, w.acknowledged_at,
	w.acknowledged_by::text, w.recovered_at, w.closed_at, w.closed_by::text, w.resolution`

func scan(row pgx.Row) (WorkOrder, error) {
	var o WorkOrder
	err := row.Scan(&o.ID, &o.ProjectID, &o.WorkflowID, &o.ChargePointID, &o.Connector, &o.FaultKey, &o.Source, &o.AlarmCode,
		&o.OCPPCode, &o.Title, &o.Status, &o.FaultActive, &o.AssigneeID, &o.Escalations, &o.OpenedAt, &o.AcknowledgedAt,
		&o.AcknowledgedBy, &o.RecoveredAt, &o.ClosedAt, &o.ClosedBy, &o.Resolution)
	if o.Escalations == nil {
		o.Escalations = []string{}
	}
	return o, err
}

// Get reads one work order with its events and fault history.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (WorkOrder, error) {
	o, err := scan(db.QueryRow(ctx, `select `+columns+` from work_orders w where w.id::text=$1 and w.project_id::text = any($2)`,
		id, projects))
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("work order %s: %w", id, err)
	}
	rows, err := db.Query(ctx, `select kind, fault_id, detail, operator_id::text, at from work_order_events
		where work_order_id=$1 order by id`, o.ID)
	if err != nil {
		return o, err
	}
	o.Events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		return e, r.Scan(&e.Kind, &e.FaultID, &e.Detail, &e.OperatorID, &e.At)
	})
	if err != nil {
		return o, err
	}
	rows, err = db.Query(ctx, `select f.id, f.ocpp_code, f.alarm_code, f.started_at, f.recovered_at,
		extract(epoch from coalesce(f.recovered_at, now()) - f.started_at)::bigint
		from charger_faults f where f.id in (select fault_id from work_order_events where work_order_id=$1 and fault_id is not null)
		order by f.started_at`, o.ID)
	if err != nil {
		return o, err
	}
	o.Faults, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Episode, error) {
		var e Episode
		return e, r.Scan(&e.FaultID, &e.OCPPCode, &e.AlarmCode, &e.StartedAt, &e.RecoveredAt, &e.DurationSeconds)
	})
	return o, err
}

// Filter selects work orders, newest first.
type Filter struct {
	Projects      []string
	Status        string // "" = all; "active" = not closed
	ChargePointID string
	AssigneeID    string
	Limit         int
	Before        *time.Time
	BeforeID      string
	Scope         store.StationScope // a station-scoped caller sees its stations' chargers' orders only
}

// List reads a page of work orders.
func List(ctx context.Context, db *store.DB, f Filter) ([]WorkOrder, error) {
	rows, err := db.Query(ctx, `select `+columns+` from work_orders w
		where w.project_id::text = any($1)
		and ($2 = '' or w.status = $2 or ($2 = 'active' and w.status <> 'closed'))
		and ($3 = '' or w.equipment_id = $3)
		and ($4 = '' or w.assignee_id::text = $4)
		and ($5::timestamptz is null or (w.opened_at, w.id::text) < ($5, $6))
		and `+f.Scope.SQL("w.project_id", "(select e.station_id from charging_equipment e where e.equipment_id = w.equipment_id)", 8)+`
		order by w.opened_at desc, w.id desc limit $7`,
		f.Projects, f.Status, f.ChargePointID, f.AssigneeID, f.Before, f.BeforeID, f.Limit, f.Scope.Args()[0], f.Scope.Args()[1])
	if err != nil {
		return nil, fmt.Errorf("list work orders: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (WorkOrder, error) { return scan(r) })
}
