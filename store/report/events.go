package report

import (
	"context"
	"errors"
	"github.com/voltflow/voltflow/store"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// LostContactFilter selects device events (失联表 / 失联通讯管理机报表, seed 003).
type LostContactFilter struct {
	Projects []string
	Kind     string // "meter", "gateway" or "" for both
	// All includes cleared events (history); by default only open ones.
	All bool
	// Period, when set, bounds raised_at.
	Period *Period
	// Scope hides meters outside the caller's sites, and gateways with
	// none of their meters inside them.
	Scope store.Scope
}

// Validate says what is wrong with the filter, naming the field.
func (f LostContactFilter) Validate() (field string, err error) {
	switch f.Kind {
	case "", "meter", "gateway":
	default:
		return "kind", errors.New("kind must be meter or gateway")
	}
	if f.Period != nil {
		if err := f.Period.Validate(); err != nil {
			return "from", err
		}
	}
	return "", nil
}

// LostContactRow is one lost-contact event.
type LostContactRow struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"` // meter or gateway
	SubjectNo string     `json:"subjectNo"`
	Gateway   string     `json:"gateway"` // the meter's gateway, or the gateway itself
	Detail    string     `json:"detail"`
	RaisedAt  time.Time  `json:"raisedAt"`
	ClearedAt *time.Time `json:"clearedAt"`
}

// Cursor is the row's keyset position.
func (r LostContactRow) Cursor() string { return timeCursor(r.RaisedAt, strconv.FormatInt(r.ID, 10)) }

// LostContact walks device events newest first.
func LostContact(ctx context.Context, q Querier, f LostContactFilter, p Page, fn func(LostContactRow) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	afterAt, afterKey, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	var afterID *int64
	if afterAt != nil {
		id, err := strconv.ParseInt(afterKey, 10, 64)
		if err != nil {
			return ErrBadCursor
		}
		afterID = &id
	}
	var from, to *time.Time
	if f.Period != nil {
		from, to = &f.Period.From, &f.Period.To
	}
	kind := ""
	if f.Kind != "" {
		kind = f.Kind + "_lost_contact"
	}
	return walk(ctx, q, func(rows pgx.Rows) (LostContactRow, error) {
		var r LostContactRow
		err := rows.Scan(&r.ID, &r.Kind, &r.SubjectNo, &r.Gateway, &r.Detail, &r.RaisedAt, &r.ClearedAt)
		return r, err
	}, fn, `select e.id, case e.kind when 'meter_lost_contact' then 'meter' else 'gateway' end, e.subject_no,
			coalesce(g.code, mg.code, ''), e.detail, e.raised_at, e.cleared_at
		from device_events e
		left join gateways g on e.kind = 'gateway_lost_contact' and g.id = e.subject
		left join meters m on e.kind = 'meter_lost_contact' and m.id = e.subject
		left join gateways mg on mg.id = m.gateway_id
		where e.project_id::text = any($1) and ($2 = '' or e.kind = $2) and ($3 or e.cleared_at is null)
			and ($4::timestamptz is null or (e.raised_at >= $4 and e.raised_at < $5))
			and ($6::timestamptz is null or (e.raised_at, e.id) < ($6, $7))
			and `+store.Scope{}.SQL("m.id", 9)+`
			and (e.kind <> 'gateway_lost_contact' or e.project_id::text <> all($9::text[]) or exists (select 1 from meters gm
				join units gu on gu.id = gm.unit_id where gm.gateway_id = e.subject and gu.site_id::text = any($10::text[])))
		order by e.raised_at desc, e.id desc limit $8`,
		f.Projects, kind, f.All, from, to, afterAt, afterID, p.limitArg(), f.Scope.Args()[0], f.Scope.Args()[1])
}

// CommandLogFilter selects the meter command log (远程控制记录).
type CommandLogFilter struct {
	Projects []string
	Period   *Period // bounds created_at when set
	MeterNo  string
	Status   string // pending, dispatching, done, failed or ""
	Scope    store.Scope
}

// Validate says what is wrong with the filter, naming the field.
func (f CommandLogFilter) Validate() (field string, err error) {
	switch f.Status {
	case "", "pending", "dispatching", "done", "failed":
	default:
		return "status", errors.New("status must be pending, dispatching, done or failed")
	}
	if f.Period != nil {
		if err := f.Period.Validate(); err != nil {
			return "from", err
		}
	}
	return "", nil
}

// CommandRow is one logged meter command: what was written, what the meter
// showed afterwards, and the result.
type CommandRow struct {
	ID          string     `json:"id"`
	MeterNo     string     `json:"meterNo"`
	Command     string     `json:"command"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	Failure     string     `json:"failure"`
	BatchID     *string    `json:"batchId"`
	Request     *string    `json:"request"`  // JSON text
	Response    *string    `json:"response"` // JSON text
	CreatedBy   string     `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt"`
}

// Cursor is the row's keyset position.
func (r CommandRow) Cursor() string { return timeCursor(r.CreatedAt, r.ID) }

// CommandLog walks meter commands newest first.
func CommandLog(ctx context.Context, q Querier, f CommandLogFilter, p Page, fn func(CommandRow) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	afterAt, afterKey, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	var from, to *time.Time
	if f.Period != nil {
		from, to = &f.Period.From, &f.Period.To
	}
	return walk(ctx, q, func(rows pgx.Rows) (CommandRow, error) {
		var r CommandRow
		err := rows.Scan(&r.ID, &r.MeterNo, &r.Command, &r.Status, &r.Attempts, &r.Failure, &r.BatchID,
			&r.Request, &r.Response, &r.CreatedBy, &r.CreatedAt, &r.CompletedAt)
		return r, err
	}, fn, `select c.id::text, c.meter_no, c.command, c.status, c.attempts, c.failure, c.batch_id::text,
			c.request::text, c.response::text, coalesce(o.username, ''), c.created_at, c.completed_at
		from meter_commands c left join operators o on o.id = c.created_by
		where c.project_id::text = any($1) and ($2 = '' or c.meter_no = $2) and ($3 = '' or c.status = $3)
			and ($4::timestamptz is null or (c.created_at >= $4 and c.created_at < $5))
			and ($6::timestamptz is null or (c.created_at, c.id::text) < ($6, $7))
			and `+store.Scope{}.MeterNoSQL("c.project_id", "c.meter_no", 9)+`
		order by c.created_at desc, c.id::text desc limit $8`,
		f.Projects, f.MeterNo, f.Status, from, to, afterAt, afterKey, p.limitArg(), f.Scope.Args()[0], f.Scope.Args()[1])
}
