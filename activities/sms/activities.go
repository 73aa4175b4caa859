package sms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store"
	smsstore "github.com/voltflow/voltflow/store/sms"
)

// Message statuses (sms_messages.status).
const (
	Pending = smsstore.Pending
	Sent    = smsstore.Sent
	Failed  = smsstore.Failed
)

// ErrTypeUndeliverable marks a message every configured provider rejected:
// retrying cannot help, the alarm records it and goes on.
const ErrTypeUndeliverable = smsstore.ErrTypeUndeliverable

// Outbox is the local provider: the sms_messages row is the message, so
// sending is only giving it an id. It is the default for make run and tests,
// and the messages show at GET /api/v1/sms — with their secret values
// masked (SendInput.Secret). Inbox, when set (VOLTFLOW_SMS_OUTBOX_INBOX,
// development and tests only), is a file the outbox appends each message to
// as the recipient would read it, one JSON Delivered a line: where a test or
// a demo finds a tenant's login code.
type Outbox struct {
	Inbox string
}

// Name is the provider's name in configuration and records.
func (Outbox) Name() string { return "outbox" }

// Send accepts every message.
func (o Outbox) Send(_ context.Context, r Request) (Receipt, error) {
	if o.Inbox != "" {
		if err := appendInbox(o.Inbox, Delivered{Phone: r.Phone, Text: r.Text, Ref: r.Ref}); err != nil {
			return Receipt{}, err
		}
	}
	return Receipt{MessageID: "outbox-" + r.Ref}, nil
}

// Activities send SMS (task queue voltflow-main).
type Activities struct {
	DB        *store.DB
	Providers []Provider // tried in order; empty means the outbox
	Templates Templates  // nil means DefaultTemplates
	// PerProvider is how many throttled or transient failures one provider
	// gets (across Temporal's retries) before the next provider is tried.
	PerProvider int
	// PerNumberPerHour caps the messages one number gets in any hour (0:
	// no cap). A message over the cap is delayed, never dropped: the
	// activity is retried when the oldest message of the hour ages out.
	// Urgent messages (arrears cut-off, trips) are never delayed.
	PerNumberPerHour int
	Clock            clock.Clock
	// Inbox is the default outbox's Inbox (when Providers is empty).
	Inbox string
}

// ErrTypeRateLimited marks a message held back by the per-number limit.
const ErrTypeRateLimited = "SMSRateLimited"

// SendInput is one SMS to one recipient; it lives in store/sms so
// workflows build it without importing this package.
type SendInput = smsstore.SendInput

// SendResult is the recorded message.
type SendResult struct {
	ID                string `json:"id"`
	Status            string `json:"status"`
	Provider          string `json:"provider"`
	ProviderMessageID string `json:"providerMessageId"`
	// Duplicate: the message had already been sent by an earlier attempt.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Masked stands for a secret value in the stored message.
const Masked = "******"

func (a *Activities) providers() []Provider {
	if len(a.Providers) == 0 {
		return []Provider{Outbox{Inbox: a.Inbox}}
	}
	return a.Providers
}

func (a *Activities) perProvider() int {
	if a.PerProvider <= 0 {
		return 3
	}
	return a.PerProvider
}

// SendSMS records the message and sends it through the first provider that
// takes it. A throttled or transient failure is returned as a retryable
// error (Temporal retries with backoff) until the provider has failed
// PerProvider times; then, or at once when the provider rejects the message,
// the next provider is tried. Each try is recorded in sms_attempts.
//
// The row is claimed before the provider is called, so a retry after a
// recorded success sends nothing. The call itself is recorded as in flight
// before it starts (the row id travels as the provider's OutId /
// SessionContext); a retry that finds a call in flight — the worker died
// between the provider's acceptance and our record — asks that provider
// whether it has the message (Finder) and resends only if it has not.
func (a *Activities) SendSMS(ctx context.Context, in SendInput) (SendResult, error) {
	templates := a.Templates
	if templates == nil {
		templates = DefaultTemplates()
	}
	tpl, ok := templates[in.Template]
	if !ok {
		err := fmt.Errorf("no SMS template %q", in.Template)
		return SendResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUndeliverable, err)
	}
	text, params, err := tpl.render(in.Values)
	if err != nil {
		return SendResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUndeliverable, err)
	}
	// The stored message, which operators read, has the secret values
	// masked; the providers get text and params as rendered above.
	stored, storedText := in, text
	if len(in.Secret) > 0 {
		stored.Values = maps.Clone(in.Values)
		for _, n := range in.Secret {
			if _, ok := stored.Values[n]; ok {
				stored.Values[n] = Masked
			}
		}
		if storedText, _, err = tpl.render(stored.Values); err != nil {
			return SendResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUndeliverable, err)
		}
	}
	row, err := a.claim(ctx, stored, storedText)
	if err != nil {
		return SendResult{}, err
	}
	if row.Status != Pending {
		return SendResult{ID: row.ID, Status: row.Status, Provider: row.Provider, ProviderMessageID: row.ProviderMsgID, Duplicate: true}, nil
	}
	if err := a.rateLimit(ctx, in, row.ID); err != nil {
		return SendResult{}, err
	}
	providers := a.providers()
	if row.InFlight != "" {
		res, found, err := a.findInFlight(ctx, in, row, tpl, params, text, providers)
		if err != nil || found {
			return res, err
		}
	}
	idx := min(row.ProviderIndex, len(providers)-1)
	for {
		p := providers[idx]
		if activity.IsActivity(ctx) {
			// A worker that dies mid-call is noticed after the heartbeat
			// timeout, not the whole start-to-close timeout.
			activity.RecordHeartbeat(ctx, idx)
		}
		code := tpl.Codes[p.Name()]
		if code == "" {
			code = in.Template
		}
		if err := smsstore.MarkInFlight(ctx, a.DB, row.ID, p.Name(), a.Clock.Now()); err != nil {
			return SendResult{}, err
		}
		rec, sendErr := p.Send(ctx, Request{Phone: in.Recipient, TemplateCode: code, Params: params, Text: text, Ref: row.ID})
		if sendErr == nil {
			return a.markSent(ctx, row.ID, p.Name(), rec.MessageID)
		}
		class, pcode := classOf(sendErr)
		failures, err := a.recordFailure(ctx, row.ID, p.Name(), idx, pcode, sendErr)
		if err != nil {
			return SendResult{}, err
		}
		last := idx == len(providers)-1
		switch {
		case class == Rejected && last:
			if err := smsstore.MarkFailed(ctx, a.DB, row.ID, sendErr.Error()); err != nil {
				return SendResult{}, err
			}
			return SendResult{}, temporal.NewNonRetryableApplicationError(sendErr.Error(), ErrTypeUndeliverable, sendErr)
		case !last && (class == Rejected || failures >= a.perProvider()):
			idx++
			if err := smsstore.SetProvider(ctx, a.DB, row.ID, idx); err != nil {
				return SendResult{}, err
			}
			continue
		default:
			return SendResult{}, fmt.Errorf("send SMS %s to %s: %w", in.Stage, in.Recipient, sendErr)
		}
	}
}

// rateLimit returns a retryable error, with the delay until a slot frees,
// when the recipient already got PerNumberPerHour messages in the last hour.
func (a *Activities) rateLimit(ctx context.Context, in SendInput, id string) error {
	if a.PerNumberPerHour <= 0 || in.Urgent {
		return nil
	}
	now := a.Clock.Now()
	// The n-th newest send in the hour decides when the next may go.
	n, oldest, err := smsstore.RecentSends(ctx, a.DB, in.Recipient, now.Add(-time.Hour), id, a.PerNumberPerHour)
	if err != nil {
		return err
	}
	if n < a.PerNumberPerHour || oldest == nil {
		return nil
	}
	wait := max(oldest.Add(time.Hour).Sub(now), time.Second)
	msg := fmt.Sprintf("%s got %d SMS in the last hour; next in %s", in.Recipient, n, wait.Round(time.Second))
	if err := smsstore.NoteError(ctx, a.DB, id, msg); err != nil {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
}

// findInFlight asks the provider of an unrecorded earlier call whether it
// accepted the message. Found: the message is recorded as sent with the
// provider's id (and not sent again). A provider that cannot be asked
// (the outbox, whose acceptance is our own record) is not.
func (a *Activities) findInFlight(ctx context.Context, in SendInput, row smsstore.Claimed, tpl Template, params []Param, text string, providers []Provider) (SendResult, bool, error) {
	for _, p := range providers {
		f, ok := p.(Finder)
		if p.Name() != row.InFlight || !ok {
			continue
		}
		since := a.Clock.Now()
		if row.InFlightAt != nil {
			since = *row.InFlightAt
		}
		code := tpl.Codes[p.Name()]
		if code == "" {
			code = in.Template
		}
		rec, found, err := f.Find(ctx, Request{Phone: in.Recipient, TemplateCode: code, Params: params, Text: text, Ref: row.ID}, since)
		if err != nil {
			// Resending blind could send twice: retry the question instead.
			return SendResult{}, false, fmt.Errorf("ask %s for SMS %s before resending: %w", p.Name(), row.ID, err)
		}
		if !found {
			return SendResult{}, false, nil
		}
		res, err := a.markSent(ctx, row.ID, p.Name(), rec.MessageID)
		res.Duplicate = true
		return res, true, err
	}
	return SendResult{}, false, nil
}

// claim inserts the message or finds the earlier one with the same key.
func (a *Activities) claim(ctx context.Context, in SendInput, text string) (smsstore.Claimed, error) {
	return smsstore.Claim(ctx, a.DB, smsstore.NewMessage{ProjectID: in.ProjectID, WorkflowID: in.WorkflowID, AlarmID: in.AlarmID,
		Stage: in.Stage, Recipient: in.Recipient, Kind: in.Kind, MeterNo: in.MeterNo, Template: in.Template,
		Values: in.Values, Text: text}, a.Clock.Now())
}

func (a *Activities) markSent(ctx context.Context, id, provider, msgID string) (SendResult, error) {
	return SendResult{ID: id, Status: Sent, Provider: provider, ProviderMessageID: msgID}, smsstore.MarkSent(ctx, a.DB, id, provider, msgID, a.Clock.Now())
}

// recordFailure records a refused try and returns how often this provider
// has failed for the message.
func (a *Activities) recordFailure(ctx context.Context, id, provider string, idx int, code string, sendErr error) (int, error) {
	// The provider answered with a refusal: the call did not send.
	// No answer (network error, 5xx) may still have sent: stay in flight.
	var pe *Error
	answered := errors.As(sendErr, &pe) && pe.Class != Transient
	n, err := smsstore.RecordFailure(ctx, a.DB, id, smsstore.Failure{Provider: provider, Index: idx, Code: code, Detail: sendErr.Error(), Answered: answered}, a.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("record SMS failure: %w", errors.Join(err, sendErr))
	}
	return n, nil
}
