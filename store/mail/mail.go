// Package mail stores e-mail in mail_messages: each message under an
// idempotency ref, so a retried activity sends it once, and the list the
// API shows. activities/mail delivers them.
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Outgoing is a message to record before it is delivered.
type Outgoing struct {
	ProjectID string // empty: no project
	Ref       string
	Recipient string
	Subject   string
	Body      string
	Provider  string
}

// Record writes the message once per ref and returns its status: "sent"
// when an earlier attempt delivered it.
func Record(ctx context.Context, db *store.DB, m Outgoing) (status string, err error) {
	var project any
	if m.ProjectID != "" {
		project = m.ProjectID
	}
	if _, err := db.Exec(ctx, `insert into mail_messages(id, project_id, ref, recipient, subject, body, provider, status)
		values($1,$2,$3,$4,$5,$6,$7,'pending') on conflict (ref) do nothing`,
		uuid.NewString(), project, m.Ref, m.Recipient, m.Subject, m.Body, m.Provider); err != nil {
		return "", fmt.Errorf("record mail %s: %w", m.Ref, err)
	}
	if err := db.QueryRow(ctx, `select status from mail_messages where ref=$1`, m.Ref).Scan(&status); err != nil {
		return "", fmt.Errorf("mail %s: %w", m.Ref, err)
	}
	return status, nil
}

// Failed notes why delivery failed; the message stays pending.
func Failed(ctx context.Context, db *store.DB, ref, reason string) error {
	_, err := db.Exec(ctx, `update mail_messages set error=$2 where ref=$1`, ref, reason)
	return err
}

// MarkSent records a delivered message.
func MarkSent(ctx context.Context, db *store.DB, ref string) error {
	_, err := db.Exec(ctx, `update mail_messages set status='sent', error='', sent_at=now() where ref=$1`, ref)
	return err
}

// Sent is a recorded message as the API lists it.
type Sent struct {
	ID        string     `json:"id"`
	Ref       string     `json:"ref"`
	Recipient string     `json:"recipient"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Provider  string     `json:"provider"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// List returns messages of the projects, newest first; refPrefix filters.
func List(ctx context.Context, db *store.DB, projects []string, refPrefix string, limit int, before *time.Time, beforeID string) ([]Sent, error) {
	rows, err := db.Query(ctx, `select id, ref, recipient, subject, body, provider, status, error, created_at, sent_at
		from mail_messages where project_id::text = any($1) and ($2 = '' or starts_with(ref, $2))
		and ($3::timestamptz is null or (created_at, id::text) < ($3, $4))
		order by created_at desc, id::text desc limit $5`, projects, refPrefix, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Sent, error) {
		var s Sent
		err := r.Scan(&s.ID, &s.Ref, &s.Recipient, &s.Subject, &s.Body, &s.Provider, &s.Status, &s.Error, &s.CreatedAt, &s.SentAt)
		return s, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return out, err
}
