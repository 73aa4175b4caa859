// Package charger stores what the OCPP central system (activities/centralsystem)
// and the API share about chargers and cards: the charge point allow-list,
// charging cards and their history, the logged OCPP frames, and the demo.
package charger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
	if project != nil {
		// A station set up before stations had projects takes its chargers'.
		if _, err := db.Exec(ctx, `update charging_stations set project_id=$2 where project_id is null
			and station_id=(select station_id from charging_equipment where equipment_id=$1)`, equipmentID, project); err != nil {
			return fmt.Errorf("enroll charge point %s: %w", equipmentID, err)
		}
	}
	return nil
}

// Registration errors.
var (
	ErrChargePointExists = errors.New("charger: charge point already registered")
	ErrUnknownEquipment  = errors.New("charger: no such equipment in the project")
)

// ChargePoint is a charge point to register: its OCPP identity (the
// registry equipment it is: connectors are <id><3-digit connector>), the
// project of that equipment's station, and what the operator knows of it
// before its first BootNotification (which then overwrites model, vendor
// and firmware with what the charger says).
type ChargePoint struct {
	ID        string
	ProjectID string
	Protocol  string // ocpp1.6j | ykc
	Model     string
	Vendor    string
	Firmware  string
}

// NewPassword is a random basic-auth password: 24 bytes, 32 characters of
// base64url. At 192 bits a salted SHA-256 of it cannot be searched, which
// is why chargers do not need the operators' slow hash.
func NewPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Register allow-lists a charge point with password (stored hashed, as
// Enroll does). Its equipment must be in a station of the project; a
// charge point registered already is ErrChargePointExists (rotate its
// password instead).
func Register(ctx context.Context, db *store.DB, cp ChargePoint, password string) error {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from charging_equipment e join charging_stations s using (station_id)
			where e.equipment_id=$1 and s.project_id=$2)`, cp.ID, cp.ProjectID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("equipment %s: %w", cp.ID, ErrUnknownEquipment)
		}
		tag, err := tx.Exec(ctx, `insert into ocpp_charge_points (equipment_id, project_id, password_salt, password_hash,
			protocol, model, vendor, firmware_version) values ($1,$2,$3,$4,$5,nullif($6,''),nullif($7,''),nullif($8,''))
			on conflict (equipment_id) do nothing`,
			cp.ID, cp.ProjectID, salt, hashPassword(salt, password), cp.Protocol, cp.Model, cp.Vendor, cp.Firmware)
		if err != nil {
			return fmt.Errorf("register charge point %s: %w", cp.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("charge point %s: %w", cp.ID, ErrChargePointExists)
		}
		return nil
	})
}

// RotatePassword gives a charge point of the project a new password: the
// old one stops working at once (a connected charger stays connected until
// it reconnects). An unknown charge point is ErrUnknownEquipment.
func RotatePassword(ctx context.Context, db *store.DB, projectID, id, password string) error {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	tag, err := db.Exec(ctx, `update ocpp_charge_points set password_salt=$3, password_hash=$4, updated_at=now()
		where equipment_id=$1 and project_id=$2`, id, projectID, salt, hashPassword(salt, password))
	if err != nil {
		return fmt.Errorf("rotate password of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("charge point %s: %w", id, ErrUnknownEquipment)
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
