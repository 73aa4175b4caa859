// Package openapi is where the open API for third-party systems (issue 21
// §1, contracts.md "Open API") keeps and reads its state: each key's
// settings and rate window, the nonces of signed requests, and the
// read-only views its calls answer with. Windows and nonces live in
// PostgreSQL so that every API process sees the same ones.
package openapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/apikey"
)

// ErrNotFound is an unknown or revoked key, or a meter of another project.
var ErrNotFound = errors.New("openapi: not found")

// Key is what the gate needs of a key, and the request's place in its
// rate window.
type Key struct {
	ID               string
	ProjectID        string
	RequireSignature bool
	RateLimit        int
	RateWindow       time.Duration
	// Count is this request's number in the current window, which ends at
	// WindowEnd.
	Count     int
	WindowEnd time.Time
}

// Gate looks a key up and counts the request in the key's fixed rate
// window, in one statement: a window per key is one row, so the counting
// costs one upsert and every API process shares it.
func Gate(ctx context.Context, db *store.DB, key string) (Key, error) {
	var k Key
	var window int
	var start time.Time
	err := db.QueryRow(ctx, `with k as (
		select id, project_id, require_signature, rate_limit, rate_window_seconds,
			to_timestamp(floor(extract(epoch from now()) / rate_window_seconds) * rate_window_seconds) as start
		from api_keys where key_hash=$1 and revoked_at is null
	), w as (
		insert into api_key_windows(key_id, window_start, count)
		select id, start, 1 from k
		on conflict (key_id) do update set
			count = case when api_key_windows.window_start = excluded.window_start then api_key_windows.count + 1 else 1 end,
			window_start = excluded.window_start
		returning count, window_start
	)
	select k.id::text, k.project_id::text, k.require_signature, k.rate_limit, k.rate_window_seconds, w.count, w.window_start
	from k, w`, apikey.Hash(key)).Scan(&k.ID, &k.ProjectID, &k.RequireSignature, &k.RateLimit, &window, &k.Count, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("open api key: %w", err)
	}
	k.RateWindow = time.Duration(window) * time.Second
	k.WindowEnd = start.Add(k.RateWindow)
	return k, nil
}

// UseNonce records a signed request's nonce for its key until expires and
// reports false when the key used it before: the primary key makes the
// insert the one place where two API processes racing on a replay decide.
// The key's expired nonces are pruned on the way (its own index), so the
// table holds about one skew window of requests per key.
func UseNonce(ctx context.Context, db *store.DB, keyID, nonce string, expires time.Time) (bool, error) {
	if _, err := db.Exec(ctx, `delete from api_key_nonces where key_id=$1 and expires_at < now()`, keyID); err != nil {
		return false, fmt.Errorf("prune nonces: %w", err)
	}
	tag, err := db.Exec(ctx, `insert into api_key_nonces(key_id, nonce, expires_at) values($1,$2,$3)
		on conflict (key_id, nonce) do nothing`, keyID, nonce, expires)
	if err != nil {
		return false, fmt.Errorf("use nonce: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Settings are a key's open-API settings.
type Settings struct {
	RequireSignature  bool `json:"requireSignature"`
	RateLimit         int  `json:"rateLimit"`
	RateWindowSeconds int  `json:"rateWindowSeconds"`
}

// SetSettings changes a key of the project; ErrNotFound when it has none
// such (or it is revoked).
func SetSettings(ctx context.Context, db *store.DB, projectID, keyID string, s Settings) (Settings, error) {
	var out Settings
	err := db.QueryRow(ctx, `update api_keys set require_signature=$3, rate_limit=$4, rate_window_seconds=$5
		where project_id=$1 and id::text=$2 and revoked_at is null
		returning require_signature, rate_limit, rate_window_seconds`,
		projectID, keyID, s.RequireSignature, s.RateLimit, s.RateWindowSeconds).Scan(&out.RequireSignature, &out.RateLimit, &out.RateWindowSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return Settings{}, ErrNotFound
	}
	if err != nil {
		return Settings{}, fmt.Errorf("api key settings: %w", err)
	}
	return out, nil
}

// SettingsOf reads a key of the project's settings; ErrNotFound when it has
// none such (or it is revoked).
func SettingsOf(ctx context.Context, db *store.DB, projectID, keyID string) (Settings, error) {
	var out Settings
	err := db.QueryRow(ctx, `select require_signature, rate_limit, rate_window_seconds from api_keys
		where project_id=$1 and id::text=$2 and revoked_at is null`, projectID, keyID).Scan(&out.RequireSignature, &out.RateLimit, &out.RateWindowSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return Settings{}, ErrNotFound
	}
	if err != nil {
		return Settings{}, fmt.Errorf("api key settings: %w", err)
	}
	return out, nil
}

// Meter is a meter as the open API shows it (calls 1, 2 and 6).
type Meter struct {
	MeterNo   string        `json:"meterNo"`
	Remaining *money.Amount `json:"remaining"`
	UsedKwh   *string       `json:"usedKwh"`
	Status    string        `json:"status"`
	ReadAt    *time.Time    `json:"readAt"`
	// Price is the meter's unit price, for the monthly amount (not shown).
	Price string `json:"-"`
}

// MeterFilter selects meters of one project.
type MeterFilter struct {
	MeterNos       []string // nil: all
	RemainingBelow *money.Amount
	After          string // keyset: meter numbers after this one
	Limit          int
}

// meterSQL is the status board's status (store/report boardSQL, the same
// precedence) for the open API's meters: lost contact, not opened, unknown,
// fault, cut off, alarming, normal.
const meterSQL = `select m.meter_no, s.remaining, s.energy_kwh::numeric(18,2)::text,
	case
		when x.lost then 'lost_contact'
		when m.account_id is null then 'not_opened'
		when s.meter_id is null then 'unknown'
		when s.status_flags & 24 <> 0 then 'fault'
		when s.relay = 1 or s.mode = 2 then 'cut_off'
		when x.alarming or s.status_flags & 3 <> 0 then 'alarming'
		else 'normal'
	end, s.read_at, m.price::text
from meters m
left join meter_state s on s.meter_id = m.id
cross join lateral (select
	exists (select 1 from device_events e where e.cleared_at is null and (
		(e.kind = 'meter_lost_contact' and e.subject = m.id) or
		(e.kind = 'gateway_lost_contact' and e.subject = m.gateway_id))) as lost,
	exists (select 1 from alarms a where a.meter_id = m.id and a.status = 'open') as alarming) x
where m.project_id = $1 and ($2::text[] is null or m.meter_no = any($2))
	and ($3::numeric is null or s.remaining < $3) and m.meter_no > $4
order by m.meter_no limit $5`

// Meters lists the project's meters in meter number order.
func Meters(ctx context.Context, db *store.DB, projectID string, f MeterFilter) ([]Meter, error) {
	var below *string
	if f.RemainingBelow != nil {
		v := f.RemainingBelow.String()
		below = &v
	}
	rows, err := db.Query(ctx, meterSQL, projectID, f.MeterNos, below, f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("open meters: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Meter, error) {
		var m Meter
		err := row.Scan(&m.MeterNo, &m.Remaining, &m.UsedKwh, &m.Status, &m.ReadAt, &m.Price)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("open meters: %w", err)
	}
	return ms, nil
}

// Customer is who holds a meter's account (call 5).
type Customer struct {
	Name      string  `json:"name"`
	Phone     string  `json:"phone"`
	Unit      string  `json:"unit"`
	AccountID *string `json:"accountId"`
}

// CustomerOf is the customer of a meter of the project: ErrNotFound for no
// such meter; empty fields and a null account for a meter with no account.
func CustomerOf(ctx context.Context, db *store.DB, projectID, meterNo string) (Customer, error) {
	var c Customer
	err := db.QueryRow(ctx, `select coalesce(c.name, ''), coalesce(c.phone, ''), coalesce(u.name, ''), pa.id::text
		from meters m
		left join units u on u.id = m.unit_id
		left join prepaid_accounts pa on pa.id = m.account_id
		left join customers c on c.id = pa.customer_id
		where m.project_id = $1 and m.meter_no = $2`, projectID, meterNo).Scan(&c.Name, &c.Phone, &c.Unit, &c.AccountID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	if err != nil {
		return Customer{}, fmt.Errorf("customer of %s: %w", meterNo, err)
	}
	return c, nil
}

// Recharge is a sale as the open API shows it (calls 4 and 9).
type Recharge struct {
	TransactionNo string       `json:"transactionNo"`
	MeterNo       string       `json:"meterNo"`
	Amount        money.Amount `json:"amount"`
	Kwh           *string      `json:"kwh"`
	Status        string       `json:"status"`
	CreatedAt     time.Time    `json:"createdAt"`
	// ID is the keyset position of a list (not shown).
	ID string `json:"-"`
}

const rechargeColumns = `transaction_no, meter_no, amount, kwh::numeric(18,2)::text, status, created_at, id::text`

func scanRecharge(row pgx.CollectableRow) (Recharge, error) {
	var r Recharge
	err := row.Scan(&r.TransactionNo, &r.MeterNo, &r.Amount, &r.Kwh, &r.Status, &r.CreatedAt, &r.ID)
	return r, err
}

// RechargeByTransactionNo is the project's sale with the caller's number.
func RechargeByTransactionNo(ctx context.Context, db *store.DB, projectID, transactionNo string) (Recharge, error) {
	rows, err := db.Query(ctx, `select `+rechargeColumns+` from recharges where project_id=$1 and transaction_no=$2`, projectID, transactionNo)
	if err != nil {
		return Recharge{}, fmt.Errorf("recharge %s: %w", transactionNo, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRecharge)
	if errors.Is(err, pgx.ErrNoRows) {
		return Recharge{}, ErrNotFound
	}
	if err != nil {
		return Recharge{}, fmt.Errorf("recharge %s: %w", transactionNo, err)
	}
	return r, nil
}

// RechargeFilter selects the sales of call 9.
type RechargeFilter struct {
	MeterNos []string
	From, To time.Time // [From, To)
	// AfterAt/AfterID continue a list (keyset on created_at, id).
	AfterAt *time.Time
	AfterID string
	Limit   int
}

// Recharges lists the project's sales of the meters in the period, oldest
// first.
func Recharges(ctx context.Context, db *store.DB, projectID string, f RechargeFilter) ([]Recharge, error) {
	rows, err := db.Query(ctx, `select `+rechargeColumns+` from recharges
		where project_id=$1 and meter_no = any($2) and created_at >= $3 and created_at < $4
			and ($5::timestamptz is null or (created_at, id::text) > ($5, $6))
		order by created_at, id::text limit $7`, projectID, f.MeterNos, f.From, f.To, f.AfterAt, f.AfterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("open recharges: %w", err)
	}
	rs, err := pgx.CollectRows(rows, scanRecharge)
	if err != nil {
		return nil, fmt.Errorf("open recharges: %w", err)
	}
	return rs, nil
}

// Abnormal is a device in trouble (call 10).
type Abnormal struct {
	Kind   string     `json:"kind"` // meter | gateway
	ID     string     `json:"id"`   // meter number or gateway code
	Status string     `json:"status"`
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since"`
}

// AbnormalDevices lists the project's gateways that lost contact, then its
// meters that lost contact, are faulty or are cut off, each with a reason.
func AbnormalDevices(ctx context.Context, db *store.DB, projectID string, limit int) ([]Abnormal, error) {
	rows, err := db.Query(ctx, `select * from (
		select 'gateway' as kind, g.code as id, 'lost_contact' as status,
			coalesce(nullif(e.detail, ''), 'no answer from the gateway') as reason, e.raised_at as since, 0 as ord
		from device_events e join gateways g on g.id = e.subject
		where e.project_id = $1 and e.kind = 'gateway_lost_contact' and e.cleared_at is null
		union all
		select 'meter', m.meter_no,
			case when e.id is not null or ge.id is not null then 'lost_contact'
				when s.status_flags & 24 <> 0 then 'fault' else 'cut_off' end,
			case when e.id is not null then coalesce(nullif(e.detail, ''), 'no answer from the meter')
				when ge.id is not null then 'its gateway ' || g.code || ' lost contact'
				when s.status_flags & 8 <> 0 then 'overload trip'
				when s.status_flags & 16 <> 0 then 'malignant-load trip'
				when s.mode = 2 then 'forced off'
				when s.remaining <= 0 then 'relay open: no money left'
				else 'relay open' end,
			coalesce(e.raised_at, ge.raised_at, s.read_at), 1
		from meters m
		join gateways g on g.id = m.gateway_id
		left join meter_state s on s.meter_id = m.id
		left join device_events e on e.kind = 'meter_lost_contact' and e.subject = m.id and e.cleared_at is null
		left join device_events ge on ge.kind = 'gateway_lost_contact' and ge.subject = m.gateway_id and ge.cleared_at is null
		where m.project_id = $1 and (e.id is not null or ge.id is not null
			or s.status_flags & 24 <> 0 or s.relay = 1 or s.mode = 2)
	) d order by ord, id limit $2`, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("abnormal devices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Abnormal, error) {
		var a Abnormal
		var ord int
		err := row.Scan(&a.Kind, &a.ID, &a.Status, &a.Reason, &a.Since, &ord)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("abnormal devices: %w", err)
	}
	return out, nil
}
