package chargeorder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/fleet"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// BusRoute is a bus route vehicles are bound to (C6).
type BusRoute struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"projectId"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Vehicles  int       `json:"vehicles"`
	CreatedAt time.Time `json:"createdAt"`
}

// ErrRouteExists is a route code already used in the project.
var ErrRouteExists = errors.New("route code already used in the project")

const routeColumns = `r.id::text, r.project_id::text, r.code, r.name,
	(select count(*) from vehicles v where v.route_id=r.id)::int, r.created_at`

func scanRoute(row pgx.Row) (BusRoute, error) {
	var r BusRoute
	err := row.Scan(&r.ID, &r.ProjectID, &r.Code, &r.Name, &r.Vehicles, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// CreateRoute records a bus route in a project.
func CreateRoute(ctx context.Context, db *store.DB, projectID string, r fleet.Route) (BusRoute, error) {
	id := uuid.NewString()
	_, err := db.Exec(ctx, `insert into bus_routes(id, project_id, code, name) values($1,$2,$3,$4)`, id, projectID, r.Code, r.Name)
	if store.IsUniqueViolation(err) {
		return BusRoute{}, fmt.Errorf("route %s: %w", r.Code, ErrRouteExists)
	}
	if err != nil {
		return BusRoute{}, fmt.Errorf("route %s: %w", r.Code, err)
	}
	return scanRoute(db.QueryRow(ctx, `select `+routeColumns+` from bus_routes r where r.id=$1`, id))
}

// ListRoutes lists the projects' routes by code.
func ListRoutes(ctx context.Context, db *store.DB, projects []string) ([]BusRoute, error) {
	rows, err := db.Query(ctx, `select `+routeColumns+` from bus_routes r where r.project_id::text = any($1)
		order by r.code, r.id limit 1000`, projects)
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BusRoute, error) { return scanRoute(r) })
}

// Vehicle is a registered vehicle with its route.
type Vehicle struct {
	VIN        string    `json:"vin"`
	ProjectID  string    `json:"projectId"`
	Plate      string    `json:"plate"`
	CustomerID string    `json:"customerId"`
	Customer   string    `json:"customer"`
	RouteID    *string   `json:"routeId"`
	RouteCode  *string   `json:"routeCode"`
	CreatedAt  time.Time `json:"createdAt"`
}

const vehicleColumns = `v.vin, v.project_id::text, v.plate, v.customer_id::text, c.name, v.route_id::text, r.code, v.created_at`

func scanVehicle(row pgx.Row) (Vehicle, error) {
	var v Vehicle
	err := row.Scan(&v.VIN, &v.ProjectID, &v.Plate, &v.CustomerID, &v.Customer, &v.RouteID, &v.RouteCode, &v.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// BindRoute binds a vehicle to a route of its project (routeID "": unbinds).
func BindRoute(ctx context.Context, db *store.DB, projects []string, vin, routeID string) (Vehicle, error) {
	tag, err := db.Exec(ctx, `update vehicles v set route_id=nullif($2,'')::uuid where v.vin=$1 and v.project_id::text = any($3)
		and ($2 = '' or exists(select 1 from bus_routes r where r.id::text=$2 and r.project_id=v.project_id))`, vin, routeID, projects)
	if err != nil {
		return Vehicle{}, fmt.Errorf("vehicle %s: %w", vin, err)
	}
	if tag.RowsAffected() == 0 {
		return Vehicle{}, fmt.Errorf("vehicle %s or route %s: %w", vin, routeID, ErrNotFound)
	}
	return scanVehicle(db.QueryRow(ctx, `select `+vehicleColumns+` from vehicles v join customers c on c.id=v.customer_id
		left join bus_routes r on r.id=v.route_id where v.vin=$1`, vin))
}

// VehicleQuery filters the vehicle list.
type VehicleQuery struct {
	Projects []string
	RouteID  string
	Limit    int
	Before   *time.Time
	BeforeID string
}

// ListVehicles lists vehicles newest first.
func ListVehicles(ctx context.Context, db *store.DB, q VehicleQuery) ([]Vehicle, error) {
	rows, err := db.Query(ctx, `select `+vehicleColumns+` from vehicles v join customers c on c.id=v.customer_id
		left join bus_routes r on r.id=v.route_id
		where v.project_id::text = any($1) and ($2 = '' or v.route_id::text=$2)
		and ($3::timestamptz is null or (v.created_at, v.vin) < ($3, $4))
		order by v.created_at desc, v.vin desc limit $5`, q.Projects, q.RouteID, q.Before, q.BeforeID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("vehicles: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Vehicle, error) { return scanVehicle(r) })
}

// Headers and Cells make vehicles a spreadsheet.
func (Vehicle) Headers() []string {
	return []string{"VIN", "Plate", "Customer", "Route", "Registered"}
}

// Cells of a vehicle.
func (v Vehicle) Cells() []any {
	route := ""
	if v.RouteCode != nil {
		route = *v.RouteCode
	}
	return []any{v.VIN, v.Plate, v.Customer, route, v.CreatedAt.In(cst).Format("2006-01-02 15:04:05")}
}

// Cursor is the VIN.
func (v Vehicle) Cursor() string { return v.VIN }

// PeriodStats is one TOU period of a vehicle's charging.
type PeriodStats struct {
	Period     string          `json:"period"`
	Orders     int             `json:"orders"`
	KWh        decimal.Decimal `json:"kwh"`
	EnergyFee  money.Amount    `json:"energyFee"`
	ServiceFee money.Amount    `json:"serviceFee"`
}

// VehicleStats is what a vehicle charged over a range (completed orders
// started by its VIN in [from, to)).
type VehicleStats struct {
	VIN     string          `json:"vin"`
	Orders  int             `json:"orders"`
	KWh     decimal.Decimal `json:"kwh"`
	Amount  money.Amount    `json:"amount"` // priced amount, before any voucher
	Periods []PeriodStats   `json:"periods"`
}

// StatsOfVehicle sums a vehicle's completed orders, in total and by period.
func StatsOfVehicle(ctx context.Context, db *store.DB, projects []string, vin string, from, to *time.Time) (VehicleStats, error) {
	out := VehicleStats{VIN: vin, Periods: []PeriodStats{}}
	var exists bool
	if err := db.QueryRow(ctx, `select exists(select 1 from vehicles where vin=$1 and project_id::text = any($2))`, vin, projects).
		Scan(&exists); err != nil {
		return out, err
	}
	if !exists {
		return out, fmt.Errorf("vehicle %s: %w", vin, ErrNotFound)
	}
	const where = `o.status='completed' and o.vin=$1 and o.project_id::text = any($2)
		and ($3::timestamptz is null or o.started_at >= $3) and ($4::timestamptz is null or o.started_at < $4)`
	var amount decimal.Decimal
	if err := db.QueryRow(ctx, `select count(*)::int, coalesce(sum(o.energy_kwh),0), coalesce(sum(o.amount+o.voucher_amount),0)
		from charging_orders o where `+where, vin, projects, from, to).Scan(&out.Orders, &out.KWh, &amount); err != nil {
		return out, fmt.Errorf("stats of %s: %w", vin, err)
	}
	out.Amount = money.Round(amount)
	rows, err := db.Query(ctx, `select l->>'period', count(distinct o.id)::int, sum((l->>'kwh')::numeric),
		sum((l->>'energyFee')::numeric), sum((l->>'serviceFee')::numeric)
		from charging_orders o cross join lateral jsonb_array_elements(o.lines) l where `+where+` group by 1`, vin, projects, from, to)
	if err != nil {
		return out, fmt.Errorf("periods of %s: %w", vin, err)
	}
	periods, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PeriodStats, error) {
		var p PeriodStats
		var e, s decimal.Decimal
		err := r.Scan(&p.Period, &p.Orders, &p.KWh, &e, &s)
		p.EnergyFee, p.ServiceFee = money.Round(e), money.Round(s)
		return p, err
	})
	if err != nil {
		return out, fmt.Errorf("periods of %s: %w", vin, err)
	}
	slices.SortFunc(periods, func(a, b PeriodStats) int { return fleet.PeriodRank(a.Period) - fleet.PeriodRank(b.Period) })
	out.Periods = append(out.Periods, periods...)
	return out, nil
}
