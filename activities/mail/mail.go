// Package mail sends e-mail (bills, reminders, receipts) through a
// provider: the local outbox by default (messages are only recorded), or an
// SMTP server. Every message is recorded in mail_messages under an
// idempotency ref, so a retried activity sends it once.
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

// Message is one e-mail.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Provider delivers a message.
type Provider interface {
	Name() string
	Deliver(ctx context.Context, m Message) error
}

// Outbox is the default provider: the message stays in mail_messages,
// where GET /api/v1/mail shows it.
type Outbox struct{}

func (Outbox) Name() string                           { return "outbox" }
func (Outbox) Deliver(context.Context, Message) error { return nil }

// Activities run on the main queue.
type Activities struct {
	DB       *store.DB
	Provider Provider // nil: Outbox
}

// SendInput is a message with the ref that makes sending it idempotent.
type SendInput struct {
	ProjectID string  `json:"projectId"`
	Ref       string  `json:"ref"`
	Message   Message `json:"message"`
}

// SendMail records the message and delivers it unless it was sent before.
func (a *Activities) SendMail(ctx context.Context, in SendInput) error {
	p := a.Provider
	if p == nil {
		p = Outbox{}
	}
	var project any
	if in.ProjectID != "" {
		project = in.ProjectID
	}
	if _, err := a.DB.Exec(ctx, `insert into mail_messages(id, project_id, ref, recipient, subject, body, provider, status)
		values($1,$2,$3,$4,$5,$6,$7,'pending') on conflict (ref) do nothing`,
		uuid.NewString(), project, in.Ref, in.Message.To, in.Message.Subject, in.Message.Body, p.Name()); err != nil {
		return fmt.Errorf("record mail %s: %w", in.Ref, err)
	}
	var status string
	if err := a.DB.QueryRow(ctx, `select status from mail_messages where ref=$1`, in.Ref).Scan(&status); err != nil {
		return fmt.Errorf("mail %s: %w", in.Ref, err)
	}
	if status == "sent" {
		return nil
	}
	if err := p.Deliver(ctx, in.Message); err != nil {
		_, _ = a.DB.Exec(ctx, `update mail_messages set error=$2 where ref=$1`, in.Ref, err.Error())
		return fmt.Errorf("deliver mail %s to %s via %s: %w", in.Ref, in.Message.To, p.Name(), err)
	}
	_, err := a.DB.Exec(ctx, `update mail_messages set status='sent', error='', sent_at=now() where ref=$1`, in.Ref)
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
