// Package site is where a project's site tree (level 1–4: building, floor,
// …) and its units are read and written (issue 17, M1).
package site

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrParent is a parent that is not a site one level up in the same project.
var ErrParent = errors.New("site: parent must be a site one level up in the same project")

// ErrNotFound is a site unknown in the project.
var ErrNotFound = errors.New("site: not found")

// ErrExists is a unit code already taken in the project.
var ErrExists = errors.New("site: unit code taken")

// Site is one node of the tree.
type Site struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Level    int     `json:"level"`
	ParentID *string `json:"parentId"`
}

// Unit is a shop, flat or office under a site.
type Unit struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	SiteID string `json:"siteId"`
}

// Create writes a site. A level-1 site has no parent; any other has a
// parent of the level above in the same project (ErrParent otherwise).
func Create(ctx context.Context, db *store.DB, projectID, name string, level int, parentID *string) (Site, error) {
	s := Site{ID: uuid.NewString(), Name: name, Level: level, ParentID: parentID}
	if (level == 1) != (parentID == nil) {
		return s, ErrParent
	}
	// The parent is checked in the insert itself: no window between the two.
	tag, err := db.Exec(ctx, `insert into sites(id, project_id, parent_id, level, name)
		select $1::uuid, $2::uuid, $3::uuid, $4::smallint, $5::text
		where $3::uuid is null or exists (select 1 from sites where id=$3::uuid and project_id=$2::uuid and level=$4::smallint-1)`,
		s.ID, projectID, parentID, level, name)
	if err != nil {
		return s, fmt.Errorf("create site %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return s, ErrParent
	}
	return s, nil
}

// List answers a project's sites, parents before children.
func List(ctx context.Context, db *store.DB, projectID string) ([]Site, error) {
	rows, err := db.Query(ctx, `select id::text, name, level, parent_id::text from sites where project_id=$1
		order by level, name, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("sites of project %s: %w", projectID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Site, error) {
		var s Site
		return s, r.Scan(&s.ID, &s.Name, &s.Level, &s.ParentID)
	})
	if err != nil {
		return nil, fmt.Errorf("sites of project %s: %w", projectID, err)
	}
	return out, nil
}

// CreateUnit writes a unit under a site of the project.
func CreateUnit(ctx context.Context, db *store.DB, projectID string, u Unit) (Unit, error) {
	u.ID = uuid.NewString()
	tag, err := db.Exec(ctx, `insert into units(id, project_id, site_id, code, name)
		select $1::uuid, $2::uuid, id, $3::text, $4::text from sites where id=$5::uuid and project_id=$2::uuid`, u.ID, projectID, u.Code, u.Name, u.SiteID)
	if store.IsUniqueViolation(err) {
		return u, fmt.Errorf("%w: %s", ErrExists, u.Code)
	}
	if err != nil {
		return u, fmt.Errorf("create unit %s: %w", u.Code, err)
	}
	if tag.RowsAffected() == 0 {
		return u, fmt.Errorf("%w: %s", ErrNotFound, u.SiteID)
	}
	return u, nil
}

// ErrCycle is a move of a site under itself or under one of its own sites.
var ErrCycle = errors.New("site: a site cannot move under itself")

// ErrTooDeep is a move that would put a site of the moved subtree past level 4.
var ErrTooDeep = errors.New("site: the move would put a site past level 4")

// Change is a rename and/or a move of a site; nil Name keeps the name,
// Move false keeps the parent (Parent nil with Move is "to level 1").
type Change struct {
	Name   *string
	Move   bool
	Parent *string
}

// Update renames and/or moves a site. A move recomputes the levels of the
// whole moved subtree from its new parent; it is refused (ErrTooDeep) when
// any of them would pass level 4, and (ErrCycle) under the site itself or
// one of its descendants. The project's sites are locked for the check and
// the write, so two concurrent moves cannot build a cycle between them.
func Update(ctx context.Context, db *store.DB, projectID, id string, c Change) (Site, error) {
	var s Site
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select 1 from sites where project_id=$1 for update`, projectID); err != nil {
			return fmt.Errorf("lock sites: %w", err)
		}
		err := tx.QueryRow(ctx, `select id::text, name, level, parent_id::text from sites where id::text=$1 and project_id=$2`, id, projectID).
			Scan(&s.ID, &s.Name, &s.Level, &s.ParentID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("site %s: %w", id, err)
		}
		if c.Name != nil {
			s.Name = *c.Name
		}
		if c.Move {
			level := 1
			if c.Parent != nil {
				var inSubtree bool
				err := tx.QueryRow(ctx, `with recursive t(id) as (select $1::uuid union select c.id from sites c join t on c.parent_id=t.id)
					select p.level, p.id in (select id from t) from sites p where p.id::text=$2 and p.project_id=$3`,
					s.ID, *c.Parent, projectID).Scan(&level, &inSubtree)
				if errors.Is(err, pgx.ErrNoRows) {
					return ErrParent
				}
				if err != nil {
					return fmt.Errorf("parent %s: %w", *c.Parent, err)
				}
				if inSubtree {
					return ErrCycle
				}
				level++
			}
			var depth int // levels below the site in its subtree
			if err := tx.QueryRow(ctx, `with recursive t(id, d) as (select $1::uuid, 0 union select c.id, t.d+1 from sites c join t on c.parent_id=t.id)
				select max(d) from t`, s.ID).Scan(&depth); err != nil {
				return fmt.Errorf("depth of %s: %w", s.ID, err)
			}
			if level+depth > 4 {
				return ErrTooDeep
			}
			if _, err := tx.Exec(ctx, `with recursive t(id) as (select $1::uuid union select c.id from sites c join t on c.parent_id=t.id)
				update sites set level = level + $2 where id in (select id from t)`, s.ID, level-s.Level); err != nil {
				return fmt.Errorf("relevel %s: %w", s.ID, err)
			}
			s.Level, s.ParentID = level, c.Parent
		}
		if _, err := tx.Exec(ctx, `update sites set name=$2, parent_id=$3::uuid where id=$1`, s.ID, s.Name, s.ParentID); err != nil {
			return fmt.Errorf("update site %s: %w", s.ID, err)
		}
		return nil
	})
	return s, err
}

// UnitChange is a rename and/or a move of a unit to another site; nil
// keeps the field.
type UnitChange struct {
	Name, SiteID *string
}

// ErrUnitNotFound is a unit unknown in the project (or outside the caller's sites).
var ErrUnitNotFound = errors.New("site: unit not found")

// UpdateUnit renames a unit and/or moves it under another site of the
// project (ErrNotFound for a site that is not one). Its meters and
// accounts go with it: they hang on the unit.
func UpdateUnit(ctx context.Context, db *store.DB, projectID, id string, c UnitChange) (Unit, error) {
	var u Unit
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `select id::text, coalesce(code,''), name, coalesce(site_id::text,'') from units
			where id::text=$1 and project_id=$2 for update`, id, projectID).Scan(&u.ID, &u.Code, &u.Name, &u.SiteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnitNotFound
		}
		if err != nil {
			return fmt.Errorf("unit %s: %w", id, err)
		}
		if c.Name != nil {
			u.Name = *c.Name
		}
		if c.SiteID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from sites where id::text=$1 and project_id=$2)`, *c.SiteID, projectID).Scan(&ok); err != nil {
				return fmt.Errorf("site %s: %w", *c.SiteID, err)
			}
			if !ok {
				return ErrNotFound
			}
			u.SiteID = *c.SiteID
		}
		if _, err := tx.Exec(ctx, `update units set name=$2, site_id=nullif($3,'')::uuid where id=$1`, u.ID, u.Name, u.SiteID); err != nil {
			return fmt.Errorf("update unit %s: %w", u.ID, err)
		}
		return nil
	})
	return u, err
}

// UnitMeter is a meter of a unit with the account it is in, if any.
type UnitMeter struct {
	MeterNo   string  `json:"meterNo"`
	AccountID *string `json:"accountId"`
}

// UnitAccount is an account opened on a unit.
type UnitAccount struct {
	ID         string   `json:"id"`
	AccountNo  string   `json:"accountNo"`
	CustomerID string   `json:"customerId"`
	Customer   string   `json:"customer"`
	Status     string   `json:"status"`
	Meters     []string `json:"meters"`
}

// UnitDetail is a unit with its meters and accounts.
type UnitDetail struct {
	Unit
	Meters   []UnitMeter   `json:"meters"`
	Accounts []UnitAccount `json:"accounts"`
}

// GetUnit answers a unit of the project with its meters and accounts.
// sites non-nil is the caller's site scope: a unit outside it is not found.
func GetUnit(ctx context.Context, db *store.DB, projectID, id string, sites []string) (UnitDetail, error) {
	var u UnitDetail
	err := db.QueryRow(ctx, `select id::text, coalesce(code,''), name, coalesce(site_id::text,'') from units
		where id::text=$1 and project_id=$2 and ($3::text[] is null or site_id::text = any($3))`, id, projectID, sites).
		Scan(&u.ID, &u.Code, &u.Name, &u.SiteID)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrUnitNotFound
	}
	if err != nil {
		return u, fmt.Errorf("unit %s: %w", id, err)
	}
	rows, err := db.Query(ctx, `select meter_no, account_id::text from meters where unit_id=$1 order by meter_no`, u.ID)
	if err != nil {
		return u, fmt.Errorf("meters of unit %s: %w", id, err)
	}
	if u.Meters, err = pgx.CollectRows(rows, pgx.RowToStructByPos[UnitMeter]); err != nil {
		return u, fmt.Errorf("meters of unit %s: %w", id, err)
	}
	// An account is the unit's when opened on it, or when one of the
	// unit's meters is in it (accounts older than unit_id).
	rows, err = db.Query(ctx, `select a.id::text, a.account_no, a.customer_id::text, c.name, a.status,
			coalesce((select array_agg(m.meter_no order by m.meter_no) from meters m where m.account_id=a.id), '{}')
		from prepaid_accounts a join customers c on c.id=a.customer_id
		where a.unit_id=$1 or exists(select 1 from meters m where m.account_id=a.id and m.unit_id=$1)
		order by a.opened_at, a.id`, u.ID)
	if err != nil {
		return u, fmt.Errorf("accounts of unit %s: %w", id, err)
	}
	if u.Accounts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[UnitAccount]); err != nil {
		return u, fmt.Errorf("accounts of unit %s: %w", id, err)
	}
	return u, nil
}
