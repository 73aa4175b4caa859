package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a login token's record (the token itself is never stored).
type Session struct {
	ID         int64
	OperatorID string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// StartSession stores the hash of a new token.
func StartSession(ctx context.Context, q querier, operatorID string, tokenHash []byte, expires time.Time) error {
	if _, err := q.Exec(ctx, `insert into sessions(token_hash, operator_id, expires_at) values($1,$2,$3)`,
		tokenHash, operatorID, expires); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	return nil
}

// Active is the session of a token, valid only while unexpired and its
// operator enabled: disabling takes effect on the next request.
func Active(ctx context.Context, q querier, tokenHash []byte) (Session, Operator, error) {
	var s Session
	var o Operator
	err := q.QueryRow(ctx, `select s.id, s.created_at, s.expires_at, o.id::text, o.username, o.platform_admin,
		o.must_change_password, coalesce(o.organisation_id::text,'')
		from sessions s join operators o on o.id=s.operator_id
		where s.token_hash=$1 and s.expires_at > now() and o.disabled_at is null`, tokenHash).
		Scan(&s.ID, &s.CreatedAt, &s.ExpiresAt, &o.ID, &o.Username, &o.PlatformAdmin, &o.MustChangePassword, &o.OrganisationID)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, o, ErrNotFound
	}
	if err != nil {
		return s, o, fmt.Errorf("session: %w", err)
	}
	s.OperatorID = o.ID
	return s, o, nil
}

// Sessions lists an operator's unexpired sessions, newest first.
func Sessions(ctx context.Context, q querier, operatorID string) ([]Session, error) {
	rows, err := q.Query(ctx, `select id, operator_id::text, created_at, expires_at from sessions
		where operator_id=$1 and expires_at > now() order by created_at desc, id desc`, operatorID)
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", operatorID, err)
	}
	ss, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Session])
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", operatorID, err)
	}
	return ss, nil
}

// EndSession revokes one session of an operator.
func EndSession(ctx context.Context, q querier, operatorID string, id int64) error {
	tag, err := q.Exec(ctx, `delete from sessions where operator_id=$1 and id=$2`, operatorID, id)
	if err != nil {
		return fmt.Errorf("end session %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// EndSessions revokes every session of an operator but the one of keep (nil: all).
func EndSessions(ctx context.Context, q querier, operatorID string, keep []byte) error {
	if _, err := q.Exec(ctx, `delete from sessions where operator_id=$1 and ($2::bytea is null or token_hash <> $2)`,
		operatorID, keep); err != nil {
		return fmt.Errorf("end sessions of %s: %w", operatorID, err)
	}
	return nil
}

// Lockout is the login lock-out rule: Max failures within Window lock the
// username until the oldest of them leaves the window.
type Lockout struct {
	Max    int
	Window time.Duration
}

// LockedFor reports how long the username stays locked (0: not locked).
// Failures live in PostgreSQL so every API process sees the same count.
func (l Lockout) LockedFor(ctx context.Context, q querier, username string) (time.Duration, error) {
	var n int
	var oldest *time.Time
	var now time.Time
	err := q.QueryRow(ctx, `select count(*), min(at), now() from (select at from login_failures
		where username=$1 and at > now() - make_interval(secs => $2) order by at desc limit $3) f`,
		username, l.Window.Seconds(), l.Max).Scan(&n, &oldest, &now)
	if err != nil {
		return 0, fmt.Errorf("login failures of %s: %w", username, err)
	}
	if n < l.Max || oldest == nil {
		return 0, nil
	}
	return max(oldest.Add(l.Window).Sub(now), time.Second), nil
}

// RecordFailure counts a failed login against the username.
func RecordFailure(ctx context.Context, q querier, username string) error {
	if _, err := q.Exec(ctx, `insert into login_failures(username) values($1)`, username); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// ClearFailures forgets the failures after a successful login.
func ClearFailures(ctx context.Context, q querier, username string) error {
	if _, err := q.Exec(ctx, `delete from login_failures where username=$1`, username); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
