// Package sms stores text messages (短信) in sms_messages and their tries in
// sms_attempts, keyed so that a retried or replayed send never sends twice.
// activities/sms sends them through the providers.
package sms

import (
	"context"
	"time"

	"github.com/voltflow/voltflow/store"
)

// Message is one SMS as the API shows it.
type Message struct {
	ID                string     `json:"id"`
	Recipient         string     `json:"recipient"`
	Text              string     `json:"text"`
	Kind              string     `json:"kind"`
	MeterNo           string     `json:"meterNo"`
	Stage             string     `json:"stage"`
	Status            string     `json:"status"`
	Provider          string     `json:"provider"`
	ProviderMessageID string     `json:"providerMessageId"`
	WorkflowID        string     `json:"workflowId"`
	CreatedAt         time.Time  `json:"createdAt"`
	SentAt            *time.Time `json:"sentAt"`
	Delivery          string     `json:"delivery"` // unknown, delivered, failed (receipts)
	DeliveryCode      string     `json:"deliveryCode"`
	DeliveredAt       *time.Time `json:"deliveredAt"`
	AlarmID           string     `json:"alarmId"`
}

// Filter selects messages, newest first.
type Filter struct {
	Projects []string // the caller's projects; empty selects nothing
	MeterNo  string
	Limit    int
	Before   *time.Time // cursor: created before this, or at it with a smaller id
	BeforeID string
	Scope    store.Scope // a site-scoped caller sees its meters' messages only
}

// List returns messages newest first.
func List(ctx context.Context, db *store.DB, f Filter) ([]Message, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := db.Query(ctx, `select id, recipient, text, kind, meter_no, stage, status, provider, provider_message_id,
		workflow_id, created_at, sent_at, delivery, delivery_code, delivered_at, alarm_id from sms_messages
		where project_id = any($1::uuid[]) and ($2 = '' or meter_no = $2)
		  and ($3::timestamptz is null or (created_at, id) < ($3, $4::uuid))
		  and `+store.Scope{}.StrictSQL("sms_messages.project_id",
		`(select m.id from meters m where m.project_id = sms_messages.project_id and m.meter_no = sms_messages.meter_no)`, 6)+`
		order by created_at desc, id desc limit $5`,
		f.Projects, f.MeterNo, f.Before, nullUUID(f.BeforeID), f.Limit, f.Scope.Args()[0], f.Scope.Args()[1])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Recipient, &m.Text, &m.Kind, &m.MeterNo, &m.Stage, &m.Status, &m.Provider,
			&m.ProviderMessageID, &m.WorkflowID, &m.CreatedAt, &m.SentAt, &m.Delivery, &m.DeliveryCode, &m.DeliveredAt, &m.AlarmID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func nullUUID(s string) any {
	if s == "" {
		return nil
	}
	return s
}
