// Package tenant keeps tenant self-service state — one-time login codes,
// sessions — and answers a tenant's questions about their own meters from
// what the sweep already stored (no meter round trip on the request path).
// A tenant is a phone number: the meters of open accounts whose customer
// has that number.
package tenant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Limits of login codes.
const (
	CodeTTL        = 5 * time.Minute
	CodeGap        = time.Minute // one code per phone per minute
	CodesPerHour   = 5
	MaxCodeGuesses = 5
)

// Errors.
var (
	ErrBadCode   = errors.New("the code is wrong, used or expired")
	ErrNoSession = errors.New("no such session")
	ErrNotFound  = errors.New("not found")
)

// RateLimited refuses a code asked for too soon; RetryAfter says when.
type RateLimited struct{ RetryAfter time.Duration }

func (e *RateLimited) Error() string {
	return fmt.Sprintf("too many login codes for this phone; try again in %s", e.RetryAfter.Round(time.Second))
}

// Hash is how codes and tokens are kept: SHA-256 over a salt and the value
// (a code's salt is its id and phone, so equal codes hash apart).
func Hash(salt, value string) []byte {
	h := sha256.Sum256([]byte(salt + "\x00" + value))
	return h[:]
}

// ProjectOf is the project (id and code) of the phone's first meter in an
// open account, or ErrNotFound when the phone has none (then no code is sent).
func ProjectOf(ctx context.Context, db *store.DB, phone string) (id, code string, err error) {
	err = db.QueryRow(ctx, `select m.project_id::text, p.code from customers c join prepaid_accounts a on a.customer_id=c.id and a.status='open'
		join meters m on m.account_id=a.id join projects p on p.id=m.project_id where c.phone=$1 order by m.meter_no limit 1`, phone).Scan(&id, &code)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return id, code, err
}

// IssueCode records a new code for the phone, under the rate limits (one
// a minute, CodesPerHour an hour), and returns its id.
func IssueCode(ctx context.Context, db *store.DB, phone, code string, now time.Time) (string, error) {
	id := uuid.NewString()
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('tenant-code:' || $1))`, phone); err != nil {
			return err
		}
		var n int
		var newest, oldest *time.Time
		if err := tx.QueryRow(ctx, `select count(*), max(created_at), min(created_at) from tenant_login_codes
			where phone=$1 and created_at > $2`, phone, now.Add(-time.Hour)).Scan(&n, &newest, &oldest); err != nil {
			return err
		}
		if newest != nil && now.Sub(*newest) < CodeGap {
			return &RateLimited{RetryAfter: CodeGap - now.Sub(*newest)}
		}
		if n >= CodesPerHour && oldest != nil {
			return &RateLimited{RetryAfter: oldest.Add(time.Hour).Sub(now)}
		}
		_, err := tx.Exec(ctx, `insert into tenant_login_codes(id, phone, code_hash, expires_at, created_at) values($1,$2,$3,$4,$5)`,
			id, phone, Hash(id+phone, code), now.Add(CodeTTL), now)
		return err
	})
	return id, err
}

// CheckCode checks a code against the phone's newest unexpired, unused
// code and spends it. A wrong guess counts; MaxCodeGuesses spoil the code.
func CheckCode(ctx context.Context, db *store.DB, phone, code string, now time.Time) error {
	var id string
	var hash []byte
	var attempts int
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `select id::text, code_hash, attempts from tenant_login_codes
			where phone=$1 and used_at is null and expires_at > $2 order by created_at desc limit 1 for update`, phone, now).Scan(&id, &hash, &attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		if attempts >= MaxCodeGuesses {
			return ErrBadCode
		}
		if subtle.ConstantTimeCompare(hash, Hash(id+phone, code)) != 1 {
			_, err := tx.Exec(ctx, `update tenant_login_codes set attempts=attempts+1 where id=$1`, id)
			return err // committed: the guess counts
		}
		_, err = tx.Exec(ctx, `update tenant_login_codes set used_at=$2 where id=$1`, id, now)
		if err == nil {
			id = "" // spent
		}
		return err
	})
	if err == nil && id != "" {
		return ErrBadCode
	}
	return err
}

// CreateSession keeps a session token's hash for the phone.
func CreateSession(ctx context.Context, db *store.DB, phone, token string, expires time.Time) error {
	_, err := db.Exec(ctx, `insert into tenant_sessions(token_hash, phone, expires_at) values($1,$2,$3)`, Hash("session", token), phone, expires)
	return err
}

// SessionPhone is the phone of a live session token.
func SessionPhone(ctx context.Context, db *store.DB, token string, now time.Time) (string, error) {
	var phone string
	err := db.QueryRow(ctx, `select phone from tenant_sessions where token_hash=$1 and expires_at > $2`, Hash("session", token), now).Scan(&phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNoSession
	}
	return phone, err
}

// Meter is one of a tenant's meters as the phone page shows it.
type Meter struct {
	MeterNo   string        `json:"meterNo"`
	Project   string        `json:"project"`
	Unit      string        `json:"unit"`
	Remaining *money.Amount `json:"remaining"`
	ReadAt    *time.Time    `json:"readAt"`
	Relay     *int          `json:"relay"`
	TodayKWh  string        `json:"todayKwh"`
	MonthKWh  string        `json:"monthKwh"`
	Price     string        `json:"price"`
}

// cst is the day and month boundary of usage (China Standard Time).
var cst = time.FixedZone("CST", 8*3600)

// Meters lists the phone's meters with balance and use: today's and this
// month's (the latest energy reading less the first of the day or month).
func Meters(ctx context.Context, db *store.DB, phone string, now time.Time) ([]Meter, error) {
	local := now.In(cst)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, cst)
	rows, err := db.Query(ctx, `select m.meter_no, p.code, coalesce(u.name, ''), s.remaining, s.read_at, s.relay::int, m.price::text,
		coalesce(s.energy_kwh - (select r.energy_kwh from readings r where r.meter_id=m.id and r.read_at >= $2 order by r.read_at limit 1), 0),
		coalesce(s.energy_kwh - (select r.energy_kwh from readings r where r.meter_id=m.id and r.read_at >= $3 order by r.read_at limit 1), 0)
		from customers c join prepaid_accounts a on a.customer_id=c.id and a.status='open'
		join meters m on m.account_id=a.id join projects p on p.id=m.project_id
		left join units u on u.id=m.unit_id left join meter_state s on s.meter_id=m.id
		where c.phone=$1 order by m.meter_no`, phone, day, month)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Meter{}
	for rows.Next() {
		var m Meter
		var today, mon decimal.Decimal
		if err := rows.Scan(&m.MeterNo, &m.Project, &m.Unit, &m.Remaining, &m.ReadAt, &m.Relay, &m.Price, &today, &mon); err != nil {
			return nil, err
		}
		m.TodayKWh, m.MonthKWh = today.StringFixed(2), mon.StringFixed(2)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MeterRef is one of the phone's meters for a payment or a detail view.
type MeterRef struct {
	ID, ProjectID, ProjectCode, MeterNo string
	HoardingCap                         *money.Amount
}

// FindMeter finds the phone's meter by number (ErrNotFound when it is not
// the tenant's).
func FindMeter(ctx context.Context, db *store.DB, phone, meterNo string) (MeterRef, error) {
	var m MeterRef
	err := db.QueryRow(ctx, `select m.id::text, m.project_id::text, p.code, m.meter_no, p.hoarding_cap
		from customers c join prepaid_accounts a on a.customer_id=c.id and a.status='open'
		join meters m on m.account_id=a.id join projects p on p.id=m.project_id
		where c.phone=$1 and m.meter_no=$2`, phone, meterNo).Scan(&m.ID, &m.ProjectID, &m.ProjectCode, &m.MeterNo, &m.HoardingCap)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// Reading is one of a meter's last readings.
type Reading struct {
	ReadAt    time.Time    `json:"readAt"`
	EnergyKWh string       `json:"energyKwh"`
	Remaining money.Amount `json:"remaining"`
}

// LastReadings are the meter's newest readings (this month and last).
func LastReadings(ctx context.Context, db *store.DB, meterID string, now time.Time, limit int) ([]Reading, error) {
	rows, err := db.Query(ctx, `select read_at, energy_kwh, remaining from readings where meter_id=$1 and read_at > $2
		order by read_at desc limit $3`, meterID, now.AddDate(0, -1, 0), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Reading{}
	for rows.Next() {
		var r Reading
		var kwh decimal.Decimal
		if err := rows.Scan(&r.ReadAt, &kwh, &r.Remaining); err != nil {
			return nil, err
		}
		r.EnergyKWh = kwh.StringFixed(2)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Recharge is one of a meter's recharges as the tenant sees it.
type Recharge struct {
	Amount        money.Amount `json:"amount"`
	Status        string       `json:"status"`
	TransactionNo string       `json:"transactionNo"`
	CreatedAt     time.Time    `json:"createdAt"`
}

// Recharges are the meter's newest recharges.
func Recharges(ctx context.Context, db *store.DB, meterID string, limit int) ([]Recharge, error) {
	rows, err := db.Query(ctx, `select amount, status, transaction_no, created_at from recharges where meter_id=$1
		order by created_at desc limit $2`, meterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Recharge{}
	for rows.Next() {
		var r Recharge
		if err := rows.Scan(&r.Amount, &r.Status, &r.TransactionNo, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DemoPhones gives the demo project's tenants who have no phone the number
// 1380000 followed by their meter's four digits (M0001 → 13800000001), so
// the phone page can be tried on `make run`. Dev only; a number already
// set is kept.
func DemoPhones(ctx context.Context, db *store.DB, projectID string) error {
	_, err := db.Exec(ctx, `update customers c set phone = '1380000' || right(m.meter_no, 4)
		from prepaid_accounts a join meters m on m.account_id=a.id
		where a.customer_id=c.id and c.project_id=$1 and c.phone='' and m.meter_no ~ '^M[0-9]{4}$'`, projectID)
	if err != nil {
		return fmt.Errorf("demo tenant phones: %w", err)
	}
	return nil
}
