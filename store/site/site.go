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
