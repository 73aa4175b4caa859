// Package mail sends e-mail (bills, reminders, receipts) through a
// provider: the local outbox by default (messages are only recorded), or an
// SMTP server. Every message is recorded through store/mail under an
// idempotency ref, so a retried activity sends it once.
package mail

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/store"
	mailstore "github.com/voltflow/voltflow/store/mail"
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
	status, err := mailstore.Record(ctx, a.DB, mailstore.Outgoing{ProjectID: in.ProjectID, Ref: in.Ref,
		Recipient: in.Message.To, Subject: in.Message.Subject, Body: in.Message.Body, Provider: p.Name()})
	if err != nil {
		return err
	}
	if status == "sent" {
		return nil
	}
	if err := p.Deliver(ctx, in.Message); err != nil {
		_ = mailstore.Failed(ctx, a.DB, in.Ref, err.Error())
		return fmt.Errorf("deliver mail %s to %s via %s: %w", in.Ref, in.Message.To, p.Name(), err)
	}
	return mailstore.MarkSent(ctx, a.DB, in.Ref)
}
