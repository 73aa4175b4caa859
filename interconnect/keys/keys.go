// Package keys keeps regulator credentials (DB4403/T 77-2020 §10.1.4:
// OperatorID, OperatorSecret, DataSecret, DataSecretIV, SigSecret) in
// PostgreSQL, sealed with AES-256-GCM under a master key that never touches
// the database (§10.4.2.3: keys outside an HSM only as ciphertext).
//
// Rotation: Put adds a row; the newest valid row seals what we send, and
// every row valid now opens what we receive, so old and new secrets overlap
// until the old row's valid_until.
package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
)

// Environment variables naming the master key: the key itself (64 hex
// digits or base64 of 32 bytes) or a file holding it.
const (
	EnvMasterKey     = "VOLTFLOW_MASTER_KEY"
	EnvMasterKeyFile = "VOLTFLOW_MASTER_KEY_FILE"
)

// devMasterKey is used when neither variable is set. DEV ONLY: it is in the
// source, so anything sealed with it is effectively plaintext. Production
// starts refuse it (MasterKey.Dev).
const devMasterKey = "766f6c74666c6f772d6465762d6f6e6c792d6d61737465722d6b65792d212121"

// ErrNotFound is returned when no valid credentials exist.
var ErrNotFound = errors.New("keys: no valid regulator credentials")

// DevSecrets are the demo credentials of contracts.md (dev only; production
// refuses them).
func DevSecrets() envelope.Secrets {
	const s = "1234567890abcdef"
	return envelope.Secrets{OperatorID: "123456789", OperatorSecret: s, DataSecret: s, DataSecretIV: s, SigSecret: s}
}

// IsDev reports whether s carries the published demo secrets.
func IsDev(s envelope.Secrets) bool {
	d := DevSecrets()
	return s.OperatorSecret == d.OperatorSecret || s.DataSecret == d.DataSecret || s.SigSecret == d.SigSecret
}

// MasterKey seals and opens credentials.
type MasterKey struct {
	aead cipher.AEAD
	// Dev is true for the built-in development key.
	Dev bool
}

// String keeps the key out of logs.
func (m *MasterKey) String() string { return fmt.Sprintf("MasterKey{dev: %v}", m.Dev) }

// NewMasterKey parses 64 hex digits or base64 of 32 bytes.
func NewMasterKey(text string) (*MasterKey, error) {
	text = strings.TrimSpace(text)
	raw, err := hex.DecodeString(text)
	if err != nil || len(raw) != 32 {
		raw, err = base64.StdEncoding.DecodeString(text)
	}
	if err != nil || len(raw) != 32 {
		return nil, errors.New("keys: master key must be 32 bytes as 64 hex digits or base64")
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("keys: master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: master key: %w", err)
	}
	return &MasterKey{aead: aead, Dev: text == devMasterKey}, nil
}

// MasterKeyFromEnv reads VOLTFLOW_MASTER_KEY, else the file named by
// VOLTFLOW_MASTER_KEY_FILE, else returns the dev key (Dev set).
func MasterKeyFromEnv() (*MasterKey, error) {
	if v := os.Getenv(EnvMasterKey); v != "" {
		return NewMasterKey(v)
	}
	if f := os.Getenv(EnvMasterKeyFile); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keys: %s: %w", EnvMasterKeyFile, err)
		}
		return NewMasterKey(string(b))
	}
	return NewMasterKey(devMasterKey)
}

// sealed is the plaintext inside the box; never logged.
type sealed struct {
	OperatorSecret, DataSecret, DataSecretIV, SigSecret string
}

func aad(regulator, operatorID string) []byte {
	return []byte("voltflow/regulator/" + regulator + "/" + operatorID)
}

func (m *MasterKey) seal(regulator string, s envelope.Secrets) ([]byte, error) {
	plain, err := json.Marshal(sealed{s.OperatorSecret, s.DataSecret, s.DataSecretIV, s.SigSecret})
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return m.aead.Seal(nonce, nonce, plain, aad(regulator, s.OperatorID)), nil
}

func (m *MasterKey) open(regulator, operatorID string, box []byte) (envelope.Secrets, error) {
	n := m.aead.NonceSize()
	if len(box) < n {
		return envelope.Secrets{}, errors.New("keys: sealed credentials too short")
	}
	plain, err := m.aead.Open(nil, box[:n], box[n:], aad(regulator, operatorID))
	if err != nil {
		return envelope.Secrets{}, fmt.Errorf("keys: open credentials of %s/%s (wrong master key?): %w", regulator, operatorID, err)
	}
	var s sealed
	if err := json.Unmarshal(plain, &s); err != nil {
		return envelope.Secrets{}, fmt.Errorf("keys: credentials of %s/%s: %w", regulator, operatorID, err)
	}
	return envelope.Secrets{OperatorID: operatorID, OperatorSecret: s.OperatorSecret, DataSecret: s.DataSecret,
		DataSecretIV: s.DataSecretIV, SigSecret: s.SigSecret}, nil
}

// Store reads and writes regulator_credentials.
type Store struct {
	DB  *store.DB
	Key *MasterKey
	// Clock is the time source; the zero Clock is the real clock.
	Clock clock.Clock
}

// Put stores new credentials for regulator, valid from now. When overlap is
// positive, every older row of the same regulator and operator stays valid
// for overlap more and then expires (rotation); zero leaves them as they are.
func (s *Store) Put(ctx context.Context, regulator string, sec envelope.Secrets, overlap time.Duration) error {
	return s.put(ctx, regulator, sec, func(ctx context.Context, tx pgx.Tx, now time.Time) error {
		if overlap <= 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `update regulator_credentials set valid_until = $4
			where regulator=$1 and operator_id=$2 and (valid_until is null or valid_until > $4) and valid_from <= $3`,
			regulator, sec.OperatorID, now, now.Add(overlap))
		return err
	})
}

// Install is how an operator installs the credentials the regulator issued
// (CLI and admin route): they become current now, and every older set of
// the regulator, whatever its OperatorID, still opens incoming requests
// for overlap more (zero or less: it ends now).
func (s *Store) Install(ctx context.Context, regulator string, sec envelope.Secrets, overlap time.Duration) error {
	if err := Check(sec); err != nil {
		return err
	}
	return s.put(ctx, regulator, sec, func(ctx context.Context, tx pgx.Tx, now time.Time) error {
		_, err := tx.Exec(ctx, `update regulator_credentials set valid_until = $3
			where regulator=$1 and (valid_until is null or valid_until > $3) and valid_from <= $2`,
			regulator, now, now.Add(max(overlap, 0)))
		return err
	})
}

func (s *Store) put(ctx context.Context, regulator string, sec envelope.Secrets,
	retire func(ctx context.Context, tx pgx.Tx, now time.Time) error) error {
	if _, err := envelope.NewCodec(sec); err != nil {
		return err
	}
	if len(sec.OperatorID) > 9 {
		return fmt.Errorf("%w: OperatorID longer than 9 characters", ErrInvalid)
	}
	box, err := s.Key.seal(regulator, sec)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	return store.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		if err := retire(ctx, tx, now); err != nil {
			return fmt.Errorf("keys: retire old credentials: %w", err)
		}
		if _, err := tx.Exec(ctx, `insert into regulator_credentials (regulator, operator_id, sealed, valid_from)
			values ($1,$2,$3,$4)`, regulator, sec.OperatorID, box, now); err != nil {
			return fmt.Errorf("keys: store credentials: %w", err)
		}
		return nil
	})
}

// Installed describes one credential set without its secrets: what the
// admin route and the CLI show.
type Installed struct {
	OperatorID   string            `json:"operatorId"`
	Fingerprints map[string]string `json:"fingerprints"`
	InstalledAt  time.Time         `json:"installedAt"`
	// ValidUntil ends a rotation's overlap; nil while the set is current.
	ValidUntil *time.Time `json:"validUntil"`
}

// List describes the regulator's credential sets still valid (now or
// until their overlap ends), newest first. A set the master key cannot
// open (sealed under an earlier key) is listed without fingerprints.
func (s *Store) List(ctx context.Context, regulator string) ([]Installed, error) {
	rows, err := s.DB.Query(ctx, `select operator_id, sealed, valid_from, valid_until from regulator_credentials
		where regulator=$1 and (valid_until is null or valid_until > $2) order by valid_from desc, id desc`, regulator, s.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("keys: list credentials: %w", err)
	}
	defer rows.Close()
	out := []Installed{}
	for rows.Next() {
		var in Installed
		var box []byte
		if err := rows.Scan(&in.OperatorID, &box, &in.InstalledAt, &in.ValidUntil); err != nil {
			return nil, fmt.Errorf("keys: list credentials: %w", err)
		}
		in.Fingerprints = map[string]string{}
		if sec, err := s.Key.open(regulator, in.OperatorID, box); err == nil {
			in.Fingerprints = map[string]string{"operatorSecret": fingerprint(sec.OperatorSecret),
				"dataSecret": fingerprint(sec.DataSecret), "dataSecretIV": fingerprint(sec.DataSecretIV), "sigSecret": fingerprint(sec.SigSecret)}
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// fingerprint tells two secrets apart without revealing either: the first
// 16 hex digits of SHA-256.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

// EnsureDev stores the dev credentials for regulator unless some exist.
func (s *Store) EnsureDev(ctx context.Context, regulator string) error {
	var n int
	if err := s.DB.QueryRow(ctx, `select count(*) from regulator_credentials where regulator=$1`, regulator).Scan(&n); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	return s.Put(ctx, regulator, DevSecrets(), 0)
}

// Valid returns every credential set of operatorID valid now, newest first.
func (s *Store) Valid(ctx context.Context, operatorID string) ([]envelope.Secrets, error) {
	return s.query(ctx, `operator_id=$1`, operatorID, 100)
}

// Current returns the newest valid credentials of regulator: what we send with.
func (s *Store) Current(ctx context.Context, regulator string) (envelope.Secrets, error) {
	// Only the newest row is opened: older ones may predate a master key change.
	all, err := s.query(ctx, `regulator=$1`, regulator, 1)
	if err != nil {
		return envelope.Secrets{}, err
	}
	return all[0], nil
}

func (s *Store) query(ctx context.Context, where string, arg string, limit int) ([]envelope.Secrets, error) {
	rows, err := s.DB.Query(ctx, `select regulator, operator_id, sealed from regulator_credentials
		where `+where+` and valid_from <= $2 and (valid_until is null or valid_until > $2)
		order by valid_from desc, id desc limit $3`, arg, s.Clock.Now(), limit)
	if err != nil {
		return nil, fmt.Errorf("keys: load credentials: %w", err)
	}
	defer rows.Close()
	var out []envelope.Secrets
	for rows.Next() {
		var reg, op string
		var box []byte
		if err := rows.Scan(&reg, &op, &box); err != nil {
			return nil, fmt.Errorf("keys: load credentials: %w", err)
		}
		sec, err := s.Key.open(reg, op, box)
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys: load credentials: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w for %s", ErrNotFound, arg)
	}
	return out, nil
}
