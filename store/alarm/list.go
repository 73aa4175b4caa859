package alarm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/voltflow/voltflow/store"
)

// Record is one alarm as the API and the export show it: open or closed,
// its stage history and every SMS it sent.
type Record struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	MeterNo    string     `json:"meterNo"` // the gateway's code for gateway_lost_contact
	Status     string     `json:"status"`
	Mode       string     `json:"mode"`
	Detail     string     `json:"detail"`
	WorkflowID string     `json:"workflowId"`
	OpenedAt   time.Time  `json:"openedAt"`
	ClosedAt   *time.Time `json:"closedAt"`
	Resolution string     `json:"resolution"`
	Stages     []Stage    `json:"stages"`
	SMS        []SMS      `json:"sms"`
}

// SMS is one message of an alarm.
type SMS struct {
	ID                string     `json:"id"`
	Recipient         string     `json:"recipient"`
	Stage             string     `json:"stage"`
	Status            string     `json:"status"` // pending, sent, failed
	Provider          string     `json:"provider"`
	ProviderMessageID string     `json:"providerMessageId"`
	Delivery          string     `json:"delivery"` // unknown, delivered, failed
	SentAt            *time.Time `json:"sentAt"`
	DeliveredAt       *time.Time `json:"deliveredAt"`
}

// Filter selects alarms, newest first.
type Filter struct {
	Projects []string // the caller's projects; empty selects nothing
	Status   string   // open, closed; "" both
	Kind     string
	MeterNo  string
	Limit    int        // 0: every row (the export)
	Before   *time.Time // cursor: opened before this, or at it with a smaller id
	BeforeID string
	Scope    store.Scope // a site-scoped caller sees its meters' alarms only
}

// Each calls fn for each selected alarm, newest first, with its SMS.
func Each(ctx context.Context, db *store.DB, f Filter, fn func(Record) error) error {
	var limit any
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := db.Query(ctx, `select a.id, a.kind, a.meter_no, a.status, a.mode, a.detail, a.workflow_id, a.opened_at,
			a.closed_at, a.resolution, a.stages,
			coalesce((select jsonb_agg(jsonb_build_object('id', s.id, 'recipient', s.recipient, 'stage', s.stage,
				'status', s.status, 'provider', s.provider, 'providerMessageId', s.provider_message_id,
				'delivery', s.delivery, 'sentAt', s.sent_at, 'deliveredAt', s.delivered_at) order by s.created_at, s.recipient)
				from sms_messages s where s.workflow_id = a.workflow_id and s.alarm_id = a.id), '[]')
		from alarms a
		where a.project_id = any($1::uuid[]) and ($2 = '' or a.status = $2) and ($3 = '' or a.kind = $3)
			and ($4 = '' or a.meter_no = $4) and ($5::timestamptz is null or (a.opened_at, a.id) < ($5, $6))
			and `+store.Scope{}.StrictSQL("a.project_id", "a.meter_id", 8)+`
		order by a.opened_at desc, a.id desc limit $7`,
		f.Projects, f.Status, f.Kind, f.MeterNo, f.Before, f.BeforeID, limit, f.Scope.Args()[0], f.Scope.Args()[1])
	if err != nil {
		return fmt.Errorf("list alarms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		var stages, texts []byte
		if err := rows.Scan(&r.ID, &r.Kind, &r.MeterNo, &r.Status, &r.Mode, &r.Detail, &r.WorkflowID, &r.OpenedAt, &r.ClosedAt,
			&r.Resolution, &stages, &texts); err != nil {
			return err
		}
		if err := json.Unmarshal(stages, &r.Stages); err != nil {
			return fmt.Errorf("alarm %s stages: %w", r.ID, err)
		}
		if err := json.Unmarshal(texts, &r.SMS); err != nil {
			return fmt.Errorf("alarm %s SMS: %w", r.ID, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// List is one page of Each.
func List(ctx context.Context, db *store.DB, f Filter) ([]Record, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []Record
	err := Each(ctx, db, f, func(r Record) error { out = append(out, r); return nil })
	return out, err
}

// Statuses of an alarm record.
func Statuses() []string { return []string{"open", "closed"} }

// Cursor names the row (report.Row).
func (r Record) Cursor() string { return r.ID }

// Headers are the export's columns (report.Row).
func (Record) Headers() []string {
	return []string{"Alarm", "Kind", "Meter / gateway", "Status", "Opened", "Closed", "Resolution", "Detail", "Stages",
		"SMS sent", "SMS delivered", "SMS (recipient stage status provider id delivery)"}
}

var chinaTime = time.FixedZone("CST", 8*3600)

// Cells are the export's row (report.Row); times in China time.
func (r Record) Cells() []any {
	ts := func(t *time.Time) any {
		if t == nil {
			return ""
		}
		return t.In(chinaTime).Format(time.DateTime)
	}
	var stages, texts []string
	sent, delivered := 0, 0
	for _, s := range r.Stages {
		stages = append(stages, fmt.Sprintf("%s %s %s", s.Stage, s.Outcome, s.At.In(chinaTime).Format(time.DateTime)))
	}
	for _, m := range r.SMS {
		if m.Status == "sent" {
			sent++
		}
		if m.Delivery == "delivered" {
			delivered++
		}
		texts = append(texts, strings.Join([]string{m.Recipient, m.Stage, m.Status, m.Provider, m.ProviderMessageID, m.Delivery}, " "))
	}
	opened := r.OpenedAt
	return []any{r.ID, r.Kind, r.MeterNo, r.Status, ts(&opened), ts(r.ClosedAt), r.Resolution, r.Detail,
		strings.Join(stages, "; "), sent, delivered, strings.Join(texts, "; ")}
}
