package chargeorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is an id unknown in the caller's projects.
var ErrNotFound = errors.New("not found")

// SaveStrategy validates and stores a strategy (new id if empty; an
// existing code in the project is replaced) and binds it to the stations.
func SaveStrategy(ctx context.Context, db *store.DB, projectID string, s chargeprice.Strategy, stationIDs []string) (chargeprice.Strategy, error) {
	if err := s.Validate(); err != nil {
		return s, err
	}
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	versions, err := json.Marshal(s.Versions)
	if err != nil {
		return s, err
	}
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `insert into pricing_strategies (id, project_id, code, name, versions) values ($1,$2,$3,$4,$5)
			on conflict (project_id, code) do update set name=excluded.name, versions=excluded.versions, updated_at=now()
			returning id::text`, s.ID, projectID, s.Code, s.Name, versions).Scan(&s.ID); err != nil {
			return fmt.Errorf("strategy %s: %w", s.Code, err)
		}
		for _, st := range stationIDs {
			if _, err := tx.Exec(ctx, `insert into station_pricing (station_id, strategy_id) values ($1,$2)
				on conflict (station_id) do update set strategy_id=excluded.strategy_id`, st, s.ID); err != nil {
				return fmt.Errorf("station %s: %w", st, err)
			}
		}
		return nil
	})
	return s, err
}

// ListStrategies lists the strategies of the projects.
func ListStrategies(ctx context.Context, db *store.DB, projects []string) ([]chargeprice.Strategy, error) {
	rows, err := db.Query(ctx, `select id::text, code, name, versions from pricing_strategies
		where project_id::text = any($1) order by code`, projects)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chargeprice.Strategy, error) {
		var s chargeprice.Strategy
		var v []byte
		if err := r.Scan(&s.ID, &s.Code, &s.Name, &v); err != nil {
			return s, err
		}
		return s, json.Unmarshal(v, &s.Versions)
	})
}

// Group is a customer group (C5).
type Group struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // person | enterprise
	Customers []string `json:"customerIds"`
}

// ErrInvalidGroup is a group that cannot be stored.
var ErrInvalidGroup = errors.New("invalid customer group")

// SaveGroup stores a group with its members (replacing them).
func SaveGroup(ctx context.Context, db *store.DB, projectID string, g Group) (Group, error) {
	if g.Name == "" || (g.Kind != "person" && g.Kind != "enterprise") {
		return g, fmt.Errorf("%w: needs a name and kind person or enterprise", ErrInvalidGroup)
	}
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `insert into customer_groups (id, project_id, name, kind) values ($1,$2,$3,$4)
			on conflict (project_id, name) do update set kind=excluded.kind returning id::text`,
			g.ID, projectID, g.Name, g.Kind).Scan(&g.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from customer_group_members where group_id=$1`, g.ID); err != nil {
			return err
		}
		for _, c := range g.Customers {
			tag, err := tx.Exec(ctx, `insert into customer_group_members (group_id, customer_id)
				select $1, id from customers where id::text=$2 and project_id=$3`, g.ID, c, projectID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%w: customer %s: %w", ErrInvalidGroup, c, ErrNotFound)
			}
		}
		return nil
	})
	return g, err
}

// ListGroups lists the groups of the projects with their members.
func ListGroups(ctx context.Context, db *store.DB, projects []string) ([]Group, error) {
	rows, err := db.Query(ctx, `select g.id::text, g.name, g.kind,
		coalesce(array_agg(m.customer_id::text order by m.customer_id) filter (where m.customer_id is not null), '{}')
		from customer_groups g left join customer_group_members m on m.group_id=g.id
		where g.project_id::text = any($1) group by g.id order by g.name`, projects)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Group, error) {
		var g Group
		return g, r.Scan(&g.ID, &g.Name, &g.Kind, &g.Customers)
	})
}

// SaveDiscount validates and stores a discount strategy.
func SaveDiscount(ctx context.Context, db *store.DB, projectID string, d chargeprice.Discount) (chargeprice.Discount, error) {
	if err := d.Validate(); err != nil {
		return d, err
	}
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	spec, err := json.Marshal(d)
	if err != nil {
		return d, err
	}
	_, err = db.Exec(ctx, `insert into charging_discounts (id, project_id, name, spec) values ($1,$2,$3,$4)
		on conflict (id) do update set name=excluded.name, spec=excluded.spec`, d.ID, projectID, d.Name, spec)
	return d, err
}

// LoadDemo gives the demo station its four-period strategy (contracts.md);
// what exists is kept.
func LoadDemo(ctx context.Context, db *store.DB, projectID string) error {
	var exists bool
	if err := db.QueryRow(ctx, `select exists(select 1 from station_pricing where station_id=$1)`, registry.DemoStationID).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := SaveStrategy(ctx, db, projectID, chargeprice.Strategy{Code: "demo-tou", Name: "Demo 尖峰平谷",
		Versions: []chargeprice.Version{chargeprice.DemoVersion()}}, []string{registry.DemoStationID})
	return err
}

// ErrInvalidVehicle is a vehicle that cannot be registered.
var ErrInvalidVehicle = errors.New("invalid vehicle")

// RegisterVehicle binds a VIN (17 characters) to the customer of a card:
// the VIN presented as idTag then charges on that customer's account.
func RegisterVehicle(ctx context.Context, db *store.DB, projects []string, vin, cardNo, plate string) error {
	if len(vin) != 17 {
		return fmt.Errorf("%w: a VIN has 17 characters", ErrInvalidVehicle)
	}
	tag, err := db.Exec(ctx, `insert into vehicles (vin, project_id, customer_id, plate)
		select $1, project_id, customer_id, $3 from cards where card_no=$2 and project_id::text = any($4) and customer_id is not null
		on conflict (vin) do update set customer_id=excluded.customer_id, plate=excluded.plate`, vin, cardNo, plate, projects)
	if err != nil {
		return fmt.Errorf("vehicle %s: %w", vin, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("card %s: %w", cardNo, ErrNotFound)
	}
	return nil
}

// The demo's customer group and its discount (make run shows a discounted
// charging order out of the box): the demo card's customer is a member.
const (
	DemoGroup    = "Demo members"
	DemoDiscount = "Demo members: 10% off the service fee"
)

// LoadDemoMembers puts the customer of the demo card in the group
// DemoGroup with 10 % off the service fee at the demo station; once (a
// discount of that name in the project is kept as it is).
func LoadDemoMembers(ctx context.Context, db *store.DB, projectID, cardNo string) error {
	var exists bool
	if err := db.QueryRow(ctx, `select exists(select 1 from charging_discounts where project_id=$1 and name=$2)`,
		projectID, DemoDiscount).Scan(&exists); err != nil || exists {
		return err
	}
	var customerID string
	if err := db.QueryRow(ctx, `select customer_id::text from cards where card_no=$1 and project_id=$2`, cardNo, projectID).
		Scan(&customerID); err != nil {
		return fmt.Errorf("demo card %s: %w", cardNo, err)
	}
	g, err := SaveGroup(ctx, db, projectID, Group{Name: DemoGroup, Kind: "person", Customers: []string{customerID}})
	if err != nil {
		return fmt.Errorf("demo group: %w", err)
	}
	_, err = SaveDiscount(ctx, db, projectID, chargeprice.Discount{Name: DemoDiscount, Kind: chargeprice.ServicePercent,
		Percent: decimal.NewFromInt(10), GroupIDs: []string{g.ID}, StationIDs: []string{registry.DemoStationID}})
	return err
}
