// Package operator is where operators, their roles, sessions and failed
// logins are read and written (S1, S2).
package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is an unknown operator, role or session.
var ErrNotFound = errors.New("operator: not found")

// ErrExists is a username already taken.
var ErrExists = errors.New("operator: username taken")

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// New is an operator to create.
type New struct {
	Username, DisplayName, PasswordHash string
	OrganisationID                      string // "" for a platform administrator
	PlatformAdmin                       bool
	Kind                                string // "" is "person"
}

// Create inserts an operator and returns its id.
func Create(ctx context.Context, q querier, n New) (string, error) {
	id := uuid.NewString()
	kind := n.Kind
	if kind == "" {
		kind = "person"
	}
	var org any
	if n.OrganisationID != "" {
		org = n.OrganisationID
	}
	_, err := q.Exec(ctx, `insert into operators(id, organisation_id, username, display_name, password_hash, platform_admin, kind)
		values($1,$2,$3,$4,$5,$6,$7)`, id, org, n.Username, n.DisplayName, n.PasswordHash, n.PlatformAdmin, kind)
	if store.IsUniqueViolation(err) {
		return "", fmt.Errorf("%w: %s", ErrExists, n.Username)
	}
	if err != nil {
		return "", fmt.Errorf("create operator %s: %w", n.Username, err)
	}
	return id, nil
}

// Operator is a stored operator.
type Operator struct {
	ID, Username, DisplayName, PasswordHash string
	OrganisationID                          string
	PlatformAdmin, MustChangePassword       bool
	Disabled                                bool
	Kind                                    string
}

// ByUsername finds an operator by its login name.
func ByUsername(ctx context.Context, q querier, username string) (Operator, error) {
	return one(ctx, q, `username=$1`, username)
}

// ByID finds an operator by id.
func ByID(ctx context.Context, q querier, id string) (Operator, error) {
	return one(ctx, q, `id=$1`, id)
}

func one(ctx context.Context, q querier, where string, arg string) (Operator, error) {
	var o Operator
	err := q.QueryRow(ctx, `select id::text, username, display_name, password_hash, coalesce(organisation_id::text,''),
		platform_admin, must_change_password, disabled_at is not null, kind from operators where `+where, arg).
		Scan(&o.ID, &o.Username, &o.DisplayName, &o.PasswordHash, &o.OrganisationID,
			&o.PlatformAdmin, &o.MustChangePassword, &o.Disabled, &o.Kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("operator %s: %w", arg, err)
	}
	return o, nil
}

// Credential is a login name and its password hash, for the production check.
type Credential struct{ Username, PasswordHash string }

// Credentials lists every person operator's login (API key operators have no password).
func Credentials(ctx context.Context, q querier) ([]Credential, error) {
	rows, err := q.Query(ctx, `select username, password_hash from operators where kind='person' order by username`)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Credential])
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return cs, nil
}

// SetPassword stores a new hash; mustChange forces a change at next login
// (an administrator's reset), false clears it (the operator's own change).
func SetPassword(ctx context.Context, q querier, id, hash string, mustChange bool) error {
	tag, err := q.Exec(ctx, `update operators set password_hash=$2, must_change_password=$3 where id=$1`, id, hash, mustChange)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetDisabled disables or enables an operator. Disabling ends its sessions
// in the same transaction, so no request is served for it afterwards.
func SetDisabled(ctx context.Context, db *store.DB, id string, disabled bool) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update operators set disabled_at = case when $2 then coalesce(disabled_at, now()) end
			where id=$1`, id, disabled)
		if err != nil {
			return fmt.Errorf("disable %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if disabled {
			return EndSessions(ctx, tx, id, nil)
		}
		return nil
	})
}

// Grant is a role held in a project; SiteIDs and StationIDs both empty is
// the whole project. A grant scoped to sites sees no station, one scoped to
// stations no meter, unless it names both.
type Grant struct {
	ProjectID, Role string
	SiteIDs         []string
	StationIDs      []string
	// Scoped is set by Roles when the grant names sites or stations:
	// SiteIDs is then their whole subtree (empty if the sites are gone or
	// none was named: no meter is visible).
	Scoped bool
}

// AddRole grants a role (again: its site scope is replaced).
func AddRole(ctx context.Context, q querier, operatorID string, g Grant) error {
	sites, stations := g.SiteIDs, g.StationIDs
	if sites == nil {
		sites = []string{}
	}
	if stations == nil {
		stations = []string{}
	}
	_, err := q.Exec(ctx, `insert into operator_roles(operator_id, project_id, role, site_ids, station_ids) values($1,$2,$3,$4::uuid[],$5::text[])
		on conflict (operator_id, project_id, role) do update set site_ids=excluded.site_ids, station_ids=excluded.station_ids`,
		operatorID, g.ProjectID, g.Role, sites, stations)
	if err != nil {
		return fmt.Errorf("grant %s in %s: %w", g.Role, g.ProjectID, err)
	}
	return nil
}

// RemoveRole revokes a role; ErrNotFound when it was not held.
func RemoveRole(ctx context.Context, q querier, operatorID, projectID, role string) error {
	tag, err := q.Exec(ctx, `delete from operator_roles where operator_id=$1 and project_id=$2 and role=$3`, operatorID, projectID, role)
	if err != nil {
		return fmt.Errorf("revoke %s in %s: %w", role, projectID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Roles lists an operator's grants with each site scope expanded to its
// whole subtree, so that a meter check is one membership test.
func Roles(ctx context.Context, q querier, operatorID string) ([]Grant, error) {
	rows, err := q.Query(ctx, `select r.project_id::text, r.role,
		coalesce((with recursive t(id) as (
			select s.id from sites s where s.id = any(r.site_ids)
			union select c.id from sites c join t on c.parent_id=t.id)
		select array_agg(id::text) from t), '{}'), r.station_ids, cardinality(r.site_ids) + cardinality(r.station_ids) > 0
		from operator_roles r where r.operator_id=$1
		union all
		select p.id::text, o.role, '{}', '{}', false from operator_organisation_roles o
		join projects p on p.organisation_id=o.organisation_id where o.operator_id=$1`, operatorID)
	if err != nil {
		return nil, fmt.Errorf("roles of %s: %w", operatorID, err)
	}
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := row.Scan(&g.ProjectID, &g.Role, &g.SiteIDs, &g.StationIDs, &g.Scoped)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("roles of %s: %w", operatorID, err)
	}
	return gs, nil
}

// AddOrganisationRole grants a role held on an organisation (group HQ):
// it reaches every project of the organisation, later ones too.
func AddOrganisationRole(ctx context.Context, q querier, operatorID, organisationID, role string) error {
	if _, err := q.Exec(ctx, `insert into operator_organisation_roles(operator_id, organisation_id, role) values($1,$2,$3)
		on conflict do nothing`, operatorID, organisationID, role); err != nil {
		return fmt.Errorf("grant %s in organisation %s: %w", role, organisationID, err)
	}
	return nil
}

// RemoveOrganisationRole revokes it; ErrNotFound when it was not held.
func RemoveOrganisationRole(ctx context.Context, q querier, operatorID, organisationID, role string) error {
	tag, err := q.Exec(ctx, `delete from operator_organisation_roles where operator_id=$1 and organisation_id=$2 and role=$3`,
		operatorID, organisationID, role)
	if err != nil {
		return fmt.Errorf("revoke %s in organisation %s: %w", role, organisationID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// OrganisationID resolves an organisation code.
func OrganisationID(ctx context.Context, q querier, code string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `select id::text from organisations where code=$1`, code).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("organisation %s: %w", code, err)
	}
	return id, nil
}

// SitesInProject reports whether every id is a site of the project.
func SitesInProject(ctx context.Context, q querier, projectID string, ids []string) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `select count(*) from sites where project_id=$1 and id::text = any($2)`, projectID, ids).Scan(&n); err != nil {
		return false, fmt.Errorf("check sites: %w", err)
	}
	return n == len(ids), nil
}

// StationsInProject reports whether every id is a charging station of the
// project: one with a charger enrolled in it (stations belong to projects
// through their chargers).
func StationsInProject(ctx context.Context, q querier, projectID string, ids []string) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `select count(distinct s.station_id) from charging_stations s where s.station_id::text = any($2)
		and exists (select 1 from charging_equipment e join ocpp_charge_points p using (equipment_id)
			where e.station_id = s.station_id and p.project_id = $1)`, projectID, ids).Scan(&n); err != nil {
		return false, fmt.Errorf("check stations: %w", err)
	}
	return n == len(ids), nil
}

// ProjectID resolves a project code.
func ProjectID(ctx context.Context, q querier, code string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `select id::text from projects where code=$1`, code).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("project %s: %w", code, err)
	}
	return id, nil
}

// OrganisationOfProject is the organisation a project belongs to.
func OrganisationOfProject(ctx context.Context, q querier, projectID string) (string, error) {
	var id string
	if err := q.QueryRow(ctx, `select organisation_id::text from projects where id=$1`, projectID).Scan(&id); err != nil {
		return "", fmt.Errorf("organisation of %s: %w", projectID, err)
	}
	return id, nil
}
