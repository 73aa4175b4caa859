package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Message statuses (sms_messages.status).
const (
	Pending = "pending" // not yet accepted by any provider
	Sent    = "sent"    // accepted by a provider (or stored in the outbox)
	Failed  = "failed"  // every provider refused it for good
)

// outbox is the local provider's name: its stored message is delivered.
const outbox = "outbox"

// NewMessage is a message to claim. (WorkflowID, AlarmID, Stage, Recipient)
// identify it.
type NewMessage struct {
	ProjectID  string
	WorkflowID string
	AlarmID    string
	Stage      string
	Recipient  string
	Kind       string
	MeterNo    string
	Template   string
	Values     map[string]string
	Text       string
}

// Claimed is the message row as a send attempt finds it.
type Claimed struct {
	ID, Status, Provider, ProviderMsgID string
	ProviderIndex                       int
	InFlight                            string // provider of an unrecorded call
	InFlightAt                          *time.Time
}

// Claim inserts the message or finds the earlier one with the same key.
func Claim(ctx context.Context, db *store.DB, in NewMessage, at time.Time) (Claimed, error) {
	values, err := json.Marshal(in.Values)
	if err != nil {
		return Claimed{}, err
	}
	var r Claimed
	err = db.QueryRow(ctx, `insert into sms_messages(id, project_id, workflow_id, alarm_id, stage, recipient, kind, meter_no,
		template, params, text, status, created_at) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,'pending',$12)
		on conflict (workflow_id, alarm_id, stage, recipient) do update set workflow_id = excluded.workflow_id
		returning id, status, provider, provider_message_id, provider_index, in_flight_provider, in_flight_at`,
		uuid.NewString(), in.ProjectID, in.WorkflowID, in.AlarmID, in.Stage, in.Recipient, in.Kind, in.MeterNo,
		in.Template, values, in.Text, at).Scan(&r.ID, &r.Status, &r.Provider, &r.ProviderMsgID, &r.ProviderIndex, &r.InFlight, &r.InFlightAt)
	if err != nil {
		return r, fmt.Errorf("record SMS %s/%s to %s: %w", in.WorkflowID, in.Stage, in.Recipient, err)
	}
	return r, nil
}

// RecentSends counts the recipient's messages sent after since, other than
// id, up to limit, and returns the oldest of them: the limit-th newest send
// decides when the next may go.
func RecentSends(ctx context.Context, db *store.DB, recipient string, since time.Time, id string, limit int) (n int, oldest *time.Time, err error) {
	err = db.QueryRow(ctx, `select count(*), min(sent_at) from (select sent_at from sms_messages
		where recipient=$1 and sent_at > $2 and id <> $3 order by sent_at desc limit $4) s`,
		recipient, since, id, limit).Scan(&n, &oldest)
	if err != nil {
		return 0, nil, fmt.Errorf("SMS rate of %s: %w", recipient, err)
	}
	return n, oldest, nil
}

// NoteError records why the message is not sent yet.
func NoteError(ctx context.Context, db *store.DB, id, msg string) error {
	_, err := db.Exec(ctx, `update sms_messages set last_error=$2 where id=$1`, id, msg)
	return err
}

// MarkInFlight records a provider call before it starts, so a retry after
// a lost answer knows whom to ask.
func MarkInFlight(ctx context.Context, db *store.DB, id, provider string, at time.Time) error {
	if _, err := db.Exec(ctx, `update sms_messages set in_flight_provider=$2, in_flight_at=$3 where id=$1`,
		id, provider, at); err != nil {
		return fmt.Errorf("record SMS call: %w", err)
	}
	return nil
}

// MarkSent records the provider's acceptance.
func MarkSent(ctx context.Context, db *store.DB, id, provider, msgID string, at time.Time) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into sms_attempts(message_id, provider, at, ok) values($1,$2,$3,true)`, id, provider, at); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update sms_messages set status='sent', provider=$2, provider_message_id=$3, sent_at=$4,
			attempts=attempts+1, in_flight_provider='', in_flight_at=null where id=$1`, id, provider, msgID, at)
		if err != nil || provider != outbox {
			return err
		}
		// The outbox is the recipient's phone: storing the message delivers it.
		_, err = tx.Exec(ctx, `update sms_messages set delivery='delivered', delivery_code='OUTBOX', delivered_at=$2 where id=$1`, id, at)
		return err
	})
}

// Failure is one refused try.
type Failure struct {
	Provider string
	Index    int    // the provider's place in the list
	Code     string // the provider's error code
	Detail   string
	// Answered: the provider answered with a refusal, so the call did not
	// send. No answer (network error, 5xx) may still have sent: the call
	// stays in flight.
	Answered bool
}

// RecordFailure records a refused try and returns how often this provider
// has failed for the message.
func RecordFailure(ctx context.Context, db *store.DB, id string, f Failure, at time.Time) (int, error) {
	var n int
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into sms_attempts(message_id, provider, at, ok, code, detail) values($1,$2,$3,false,$4,$5)`,
			id, f.Provider, at, f.Code, f.Detail); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update sms_messages set attempts=attempts+1, last_error=$2, provider_index=$3 where id=$1`,
			id, f.Detail, f.Index); err != nil {
			return err
		}
		if f.Answered {
			if _, err := tx.Exec(ctx, `update sms_messages set in_flight_provider='', in_flight_at=null where id=$1`, id); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `select count(*) from sms_attempts where message_id=$1 and provider=$2 and not ok`, id, f.Provider).Scan(&n)
	})
	return n, err
}

// SetProvider moves the message on to the provider at idx.
func SetProvider(ctx context.Context, db *store.DB, id string, idx int) error {
	_, err := db.Exec(ctx, `update sms_messages set provider_index=$2 where id=$1`, id, idx)
	return err
}

// MarkFailed records that every provider refused the message for good.
func MarkFailed(ctx context.Context, db *store.DB, id, reason string) error {
	_, err := db.Exec(ctx, `update sms_messages set status='failed', last_error=$2 where id=$1`, id, reason)
	return err
}
