// Package organisation is where organisations, their projects and each
// project's settings are read and written (issue 17, M1 and S4).
package organisation

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is an unknown organisation or project.
var ErrNotFound = errors.New("organisation: not found")

// ErrExists is a code already taken.
var ErrExists = errors.New("organisation: code taken")

// Organisation is a property company or group (集团).
type Organisation struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Project is one site of business with its own money and operators.
type Project struct {
	ID           string `json:"id"`
	Code         string `json:"code"`
	Name         string `json:"name"`
	Organisation string `json:"organisation"` // its code
}

// Create writes an organisation.
func Create(ctx context.Context, db *store.DB, code, name string) (Organisation, error) {
	o := Organisation{ID: uuid.NewString(), Code: code, Name: name}
	_, err := db.Exec(ctx, `insert into organisations(id, code, name) values($1,$2,$3)`, o.ID, code, name)
	if store.IsUniqueViolation(err) {
		return o, fmt.Errorf("%w: %s", ErrExists, code)
	}
	if err != nil {
		return o, fmt.Errorf("create organisation %s: %w", code, err)
	}
	return o, nil
}

// List answers every organisation by code.
func List(ctx context.Context, db *store.DB) ([]Organisation, error) {
	rows, err := db.Query(ctx, `select id::text, code, name from organisations order by code`)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organisation, error) {
		var o Organisation
		return o, r.Scan(&o.ID, &o.Code, &o.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return out, nil
}

// CreateProject writes a project of the organisation with code org and
// gives its creator the admin role there, in one transaction: the project
// is usable at once (recharges approve by the schema's default threshold,
// ledger accounts open on first booking, the sweep Schedule starts with the
// first meter import). An empty creatorID grants no role: the demo loader
// (store/demo) grants its operators' roles itself.
func CreateProject(ctx context.Context, db *store.DB, org, code, name, creatorID string) (Project, error) {
	p := Project{ID: uuid.NewString(), Code: code, Name: name, Organisation: org}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var orgID string
		err := tx.QueryRow(ctx, `select id::text from organisations where code=$1`, org).Scan(&orgID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: organisation %s", ErrNotFound, org)
		}
		if err != nil {
			return fmt.Errorf("organisation %s: %w", org, err)
		}
		_, err = tx.Exec(ctx, `insert into projects(id, organisation_id, code, name) values($1,$2,$3,$4)`, p.ID, orgID, code, name)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: project %s", ErrExists, code)
		}
		if err != nil {
			return fmt.Errorf("create project %s: %w", code, err)
		}
		if creatorID == "" {
			return nil
		}
		if _, err := tx.Exec(ctx, `insert into operator_roles(operator_id, project_id, role) values($1,$2,'admin')`,
			creatorID, p.ID); err != nil {
			return fmt.Errorf("admin role in project %s: %w", code, err)
		}
		return nil
	})
	return p, err
}

// Projects answers the projects with the given ids, or every project when
// all is set, by code.
func Projects(ctx context.Context, db *store.DB, ids []string, all bool) ([]Project, error) {
	rows, err := db.Query(ctx, `select p.id::text, p.code, p.name, o.code from projects p
		join organisations o on o.id = p.organisation_id
		where $2 or p.id::text = any($1) order by p.code`, ids, all)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) {
		var p Project
		return p, r.Scan(&p.ID, &p.Code, &p.Name, &p.Organisation)
	})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// Rename renames the organisation with code.
func Rename(ctx context.Context, db *store.DB, code, name string) (Organisation, error) {
	o := Organisation{Code: code, Name: name}
	err := db.QueryRow(ctx, `update organisations set name=$2 where code=$1 returning id::text`, code, name).Scan(&o.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("%w: organisation %s", ErrNotFound, code)
	}
	if err != nil {
		return o, fmt.Errorf("rename organisation %s: %w", code, err)
	}
	return o, nil
}

// RenameProject renames a project.
func RenameProject(ctx context.Context, db *store.DB, projectID, name string) (Project, error) {
	p := Project{ID: projectID, Name: name}
	err := db.QueryRow(ctx, `update projects p set name=$2 from organisations o where p.id=$1 and o.id=p.organisation_id
		returning p.code, o.code`, projectID, name).Scan(&p.Code, &p.Organisation)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("%w: project %s", ErrNotFound, projectID)
	}
	if err != nil {
		return p, fmt.Errorf("rename project %s: %w", projectID, err)
	}
	return p, nil
}
