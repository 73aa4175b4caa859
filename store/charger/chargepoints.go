// Package charger stores what the OCPP central system (activities/centralsystem)
// and the API share about chargers and cards: the charge point allow-list,
// charging cards and their history, the logged OCPP frames, and the demo.
package charger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

func hashPassword(salt []byte, password string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return h.Sum(nil)
}

// Enroll allow-lists registry equipment as an OCPP charge point with a
// basic-auth password, in a project (for API scoping). Enrolling again
// changes the password and re-enables it.
func Enroll(ctx context.Context, db *store.DB, equipmentID, projectID, password string) error {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	var project any
	if projectID != "" {
		project = projectID
	}
	_, err := db.Exec(ctx, `insert into ocpp_charge_points (equipment_id, project_id, password_salt, password_hash)
		values ($1,$2,$3,$4) on conflict (equipment_id) do update set project_id=excluded.project_id,
		password_salt=excluded.password_salt, password_hash=excluded.password_hash, enabled=true, updated_at=now()`,
		equipmentID, project, salt, hashPassword(salt, password))
	if err != nil {
		return fmt.Errorf("enroll charge point %s: %w", equipmentID, err)
	}
	return nil
}

// Authenticate checks an allow-listed, enabled charge point's password. An
// unknown or disabled charge point is false without an error.
func Authenticate(ctx context.Context, db *store.DB, id, password string) (bool, error) {
	var salt, hash []byte
	err := db.QueryRow(ctx, `select password_salt, password_hash from ocpp_charge_points
		where equipment_id=$1 and enabled`, id).Scan(&salt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(hashPassword(salt, password), hash) == 1, nil
}
