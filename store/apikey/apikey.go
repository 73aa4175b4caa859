// Package apikey is where project API keys for third-party systems are
// stored: hashed, revocable, with their last use.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/operator"
)

// Prefix marks a key, so the API tells it from a login token without a lookup.
const Prefix = "vfk_"

// ErrNotFound is an unknown key, or one of another project.
var ErrNotFound = errors.New("apikey: not found")

// Hash is what is stored of a key. sha256 suffices: a key is 256 random
// bits, so there is nothing to brute-force that bcrypt would slow down.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// Key is a stored key (never its secret).
type Key struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Roles      []string   `json:"roles"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// Create makes a key for one project with the given roles and returns its
// id and the key, which is never stored and so shown only once. The key acts
// through an operator row of its own holding those roles.
func Create(ctx context.Context, db *store.DB, projectID, orgID, name string, roles []string, createdBy string) (id, key string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("key: %w", err)
	}
	key = Prefix + base64.RawURLEncoding.EncodeToString(raw)
	id = uuid.NewString()
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		// "!" is no bcrypt hash: this operator can never log in.
		opID, err := operator.Create(ctx, tx, operator.New{Username: "apikey:" + id, DisplayName: name,
			PasswordHash: "!", OrganisationID: orgID, Kind: "api_key"})
		if err != nil {
			return err
		}
		for _, r := range roles {
			if err := operator.AddRole(ctx, tx, opID, operator.Grant{ProjectID: projectID, Role: r}); err != nil {
				return err
			}
		}
		var by any
		if createdBy != "" {
			by = createdBy
		}
		if _, err := tx.Exec(ctx, `insert into api_keys(id, project_id, operator_id, name, key_hash, created_by)
			values($1,$2,$3,$4,$5,$6)`, id, projectID, opID, name, Hash(key), by); err != nil {
			return fmt.Errorf("store api key: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	return id, key, nil
}

// Use resolves a key to its operator and records the use; revoked and
// unknown keys are ErrNotFound.
func Use(ctx context.Context, db *store.DB, key string) (operatorID, name string, err error) {
	err = db.QueryRow(ctx, `update api_keys set last_used_at=now() where key_hash=$1 and revoked_at is null
		returning operator_id::text, name`, Hash(key)).Scan(&operatorID, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("api key: %w", err)
	}
	return operatorID, name, nil
}

// Revoke ends a key of the project at once; its operator is disabled too.
func Revoke(ctx context.Context, db *store.DB, projectID, id string) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var opID string
		err := tx.QueryRow(ctx, `update api_keys set revoked_at=coalesce(revoked_at, now())
			where project_id=$1 and id::text=$2 returning operator_id::text`, projectID, id).Scan(&opID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke api key %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `update operators set disabled_at=coalesce(disabled_at, now()) where id=$1`, opID); err != nil {
			return fmt.Errorf("disable api key operator: %w", err)
		}
		return nil
	})
}

// List is every key of a project, newest first.
func List(ctx context.Context, db *store.DB, projectID string) ([]Key, error) {
	rows, err := db.Query(ctx, `select k.id::text, k.name,
		coalesce((select array_agg(r.role order by r.role) from operator_roles r where r.operator_id=k.operator_id), '{}'),
		k.created_at, k.last_used_at, k.revoked_at
		from api_keys k where k.project_id=$1 order by k.created_at desc`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Key])
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return ks, nil
}
