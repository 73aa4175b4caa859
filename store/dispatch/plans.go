package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is a station or plan unknown in the caller's projects.
var ErrNotFound = errors.New("not found")

// Station is a charging station as dispatch sees it: its project and connectors.
type Station struct {
	ID          string
	ProjectID   string
	ProjectCode string
}

// FindStation finds the station among the projects' chargers.
func FindStation(ctx context.Context, db *store.DB, projects []string, stationID string) (Station, error) {
	s := Station{ID: stationID}
	err := db.QueryRow(ctx, `select p.id::text, p.code from ocpp_charge_points c
		join charging_equipment e on e.equipment_id = c.equipment_id join projects p on p.id = c.project_id
		where e.station_id = $1 and c.project_id::text = any($2) order by c.equipment_id limit 1`, stationID, projects).
		Scan(&s.ProjectID, &s.ProjectCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("station %s: %w", stationID, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("station %s: %w", stationID, err)
	}
	return s, nil
}

// StationConnectors lists the station's connectors as places, in id order.
func StationConnectors(ctx context.Context, db *store.DB, stationID string) ([]Place, error) {
	rows, err := db.Query(ctx, `select c.connector_id, c.equipment_id from charging_connectors c
		join charging_equipment e on e.equipment_id = c.equipment_id where e.station_id = $1 order by c.connector_id`, stationID)
	if err != nil {
		return nil, fmt.Errorf("connectors of %s: %w", stationID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Place, error) {
		p := Place{StationID: stationID}
		if err := r.Scan(&p.ConnectorID, &p.ChargePointID); err != nil {
			return p, err
		}
		if len(p.ConnectorID) != len(p.ChargePointID)+3 {
			return p, fmt.Errorf("connector %q has no connector number", p.ConnectorID)
		}
		_, err := fmt.Sscanf(p.ConnectorID[len(p.ChargePointID):], "%03d", &p.Connector)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("connectors of %s: %w", stationID, err)
	}
	return out, nil
}

// StationSchedule is the TOU schedule (尖峰平谷) of the station's pricing
// strategy version in force at at, with its UTC offset in minutes; nil when
// the station has no strategy or none in force.
func StationSchedule(ctx context.Context, db *store.DB, stationID string, at time.Time) ([]tariff.Segment, int, error) {
	var versions []byte
	err := db.QueryRow(ctx, `select s.versions from station_pricing sp join pricing_strategies s on s.id = sp.strategy_id
		where sp.station_id = $1`, stationID).Scan(&versions)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("pricing of %s: %w", stationID, err)
	}
	var st chargeprice.Strategy
	if err := json.Unmarshal(versions, &st.Versions); err != nil {
		return nil, 0, fmt.Errorf("pricing of %s: %w", stationID, err)
	}
	v, err := st.VersionAt(at)
	if errors.Is(err, chargeprice.ErrNoVersion) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	offset := 8 * 60
	if v.UTCOffsetMinutes != nil {
		offset = *v.UTCOffsetMinutes
	}
	return v.Schedule, offset, nil
}

// Plan is a timed or smart dispatch plan created from the API.
type Plan struct {
	ID             string          `json:"id"`
	ProjectID      string          `json:"projectId"`
	StationID      string          `json:"stationId"`
	PlanID         string          `json:"planId"`
	Kind           string          `json:"kind"` // timed | smart
	WorkflowID     string          `json:"workflowId"`
	Input          json.RawMessage `json:"input"`
	RequestHash    string          `json:"-"`
	IdempotencyKey *string         `json:"-"`
	CreatedBy      *string         `json:"createdBy"`
	CreatedAt      time.Time       `json:"createdAt"`
	CancelledAt    *time.Time      `json:"cancelledAt"`
	CancelledBy    *string         `json:"cancelledBy"`
}

const planColumns = `id::text, project_id::text, station_id, plan_id, kind, workflow_id, input, request_hash,
	idempotency_key, created_by::text, created_at, cancelled_at, cancelled_by::text`

func scanPlan(r pgx.Row) (Plan, error) {
	var p Plan
	err := r.Scan(&p.ID, &p.ProjectID, &p.StationID, &p.PlanID, &p.Kind, &p.WorkflowID, &p.Input, &p.RequestHash,
		&p.IdempotencyKey, &p.CreatedBy, &p.CreatedAt, &p.CancelledAt, &p.CancelledBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// CreatePlan records a plan unless one with its idempotency key (in the
// project) or its plan id (at the station) exists; then it returns that one
// and created false, for the caller to compare.
func CreatePlan(ctx context.Context, db *store.DB, p Plan) (Plan, bool, error) {
	tag, err := db.Exec(ctx, `insert into dispatch_plans (id, project_id, station_id, plan_id, kind, workflow_id, input,
		request_hash, idempotency_key, created_by) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) on conflict do nothing`,
		p.ID, p.ProjectID, p.StationID, p.PlanID, p.Kind, p.WorkflowID, p.Input, p.RequestHash, p.IdempotencyKey, p.CreatedBy)
	if err != nil {
		return p, false, fmt.Errorf("create plan %s: %w", p.WorkflowID, err)
	}
	if tag.RowsAffected() == 1 {
		got, err := GetPlan(ctx, db, []string{p.ProjectID}, p.StationID, p.PlanID)
		return got, true, err
	}
	if p.IdempotencyKey != nil {
		got, err := scanPlan(db.QueryRow(ctx, `select `+planColumns+` from dispatch_plans
			where project_id = $1 and idempotency_key = $2`, p.ProjectID, *p.IdempotencyKey))
		if !errors.Is(err, ErrNotFound) {
			return got, false, err
		}
	}
	got, err := scanPlan(db.QueryRow(ctx, `select `+planColumns+` from dispatch_plans
		where station_id = $1 and plan_id = $2`, p.StationID, p.PlanID))
	return got, false, err
}

// FindPlanByKey is the plan an idempotency key created in the project.
func FindPlanByKey(ctx context.Context, db *store.DB, projectID, key string) (Plan, error) {
	return scanPlan(db.QueryRow(ctx, `select `+planColumns+` from dispatch_plans
		where project_id = $1 and idempotency_key = $2`, projectID, key))
}

// GetPlan is a plan of the projects.
func GetPlan(ctx context.Context, db *store.DB, projects []string, stationID, planID string) (Plan, error) {
	return scanPlan(db.QueryRow(ctx, `select `+planColumns+` from dispatch_plans
		where station_id = $1 and plan_id = $2 and project_id::text = any($3)`, stationID, planID, projects))
}

// PlanQuery filters ListPlans; Before/BeforeID page newest first.
type PlanQuery struct {
	Projects  []string
	StationID string
	Kind      string
	Limit     int
	Before    *time.Time
	BeforeID  string
	Scope     store.StationScope // a station-scoped caller sees its stations' plans only
}

// ListPlans lists plans newest first.
func ListPlans(ctx context.Context, db *store.DB, q PlanQuery) ([]Plan, error) {
	rows, err := db.Query(ctx, `select `+planColumns+` from dispatch_plans
		where project_id::text = any($1) and ($2 = '' or station_id = $2) and ($3 = '' or kind = $3)
		and ($4::timestamptz is null or (created_at, id::text) < ($4, $5))
		and `+q.Scope.SQL("project_id", "station_id", 7)+`
		order by created_at desc, id::text desc limit $6`, q.Projects, q.StationID, q.Kind, q.Before, q.BeforeID, q.Limit,
		q.Scope.Args()[0], q.Scope.Args()[1])
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Plan, error) { return scanPlan(r) })
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return out, nil
}

// MarkCancelled records who cancelled the plan (the first cancel counts).
func MarkCancelled(ctx context.Context, db *store.DB, id, operatorID string) error {
	_, err := db.Exec(ctx, `update dispatch_plans set cancelled_at = now(), cancelled_by = $2
		where id = $1 and cancelled_at is null`, id, operatorID)
	if err != nil {
		return fmt.Errorf("cancel plan %s: %w", id, err)
	}
	return nil
}
