// Package dashboard holds the summaries the operator console reads (issue
// 18): the home dashboard, the meter status board and the task inbox with
// who applied for what. Each is one or a few queries over the projections
// other packages keep; nothing here writes.
package dashboard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Board statuses: the names, order and rules of the status-board report
// (store/report, status.go), so the board and the report never disagree.
// Colours: white normal, black cut off, red fault, yellow alarming, grey
// lost contact (seed 002), and our own for not opened and never read.
const (
	LostContact = "lost_contact"
	NotOpened   = "not_opened"
	Unknown     = "unknown"
	Fault       = "fault"
	CutOff      = "cut_off"
	Alarming    = "alarming"
	Normal      = "normal"
)

// Statuses in precedence order.
var Statuses = []string{LostContact, NotOpened, Unknown, Fault, CutOff, Alarming, Normal}

// statusSQL derives a meter's board status exactly as store/report's
// boardSQL does: an uncleared lost-contact event of the meter or its
// gateway first (its state is stale), no account, never read, a trip on
// overload or a malignant load (status flag bits 3, 4), relay open or
// forced off, an open alarm or an alarm flag (bits 0, 1), else normal.
const statusSQL = `case
	when exists(select 1 from device_events e where e.cleared_at is null and (
		(e.kind = 'meter_lost_contact' and e.subject = m.id) or
		(e.kind = 'gateway_lost_contact' and e.subject = m.gateway_id))) then 'lost_contact'
	when m.account_id is null then 'not_opened'
	when ms.meter_id is null then 'unknown'
	when ms.status_flags & 24 <> 0 then 'fault'
	when ms.relay = 1 or ms.mode = 2 then 'cut_off'
	when ms.status_flags & 3 <> 0 or exists(select 1 from alarms al where al.meter_id=m.id and al.status='open') then 'alarming'
	else 'normal' end`

// boardFrom joins what statusSQL reads; $1 is the project, $2 the caller's
// visible sites (null: the whole project), $3 a site whose subtree to keep
// (” for all).
const boardFrom = `from meters m
	left join prepaid_accounts acc on acc.id=m.account_id
	left join meter_state ms on ms.meter_id=m.id
	left join units u on u.id=m.unit_id
	left join customers cu on cu.id=acc.customer_id
	where m.project_id=$1
	and ($2::text[] is null or u.site_id::text = any($2::text[]))
	and ($3 = '' or u.site_id in (with recursive sub(id) as (select id from sites where id::text=$3 and project_id=$1
		union all select s.id from sites s join sub on s.parent_id=sub.id) select id from sub))`

// likeEscaper makes a search text literal in an ILIKE pattern (backslash is
// PostgreSQL's default escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// BoardFilter selects the meters of a board.
type BoardFilter struct {
	ProjectID string
	// Sites limits a site-scoped caller to meters of units under them; nil
	// is the whole project.
	Sites  []string
	SiteID string // keep this site's subtree ("" all)
	Status string // one of Statuses ("" all)
	Query  string // meter number, unit or tenant name contains this ("" all)
	Offset int
	Limit  int
}

// Tile is one meter on the board: as little as a tile shows.
type Tile struct {
	MeterNo   string  `json:"meterNo"`
	Status    string  `json:"status"`
	Remaining *string `json:"remaining"`
	Unit      string  `json:"unit"`
	Tenant    string  `json:"tenant"`
}

// Board is a page of tiles with the counts by status of every meter the
// filter's site and query keep (the status filter aside, so the legend
// shows what a status filter would find).
type Board struct {
	Items  []Tile         `json:"items"`
	Total  int            `json:"total"` // meters matching the whole filter
	Counts map[string]int `json:"counts"`
}

// LoadBoard answers the board for a filter.
func LoadBoard(ctx context.Context, db *store.DB, f BoardFilter) (Board, error) {
	b := Board{Items: []Tile{}, Counts: map[string]int{}}
	for _, st := range Statuses {
		b.Counts[st] = 0
	}
	q := "%" + likeEscaper.Replace(f.Query) + "%"
	rows, err := db.Query(ctx, `with b as (select m.meter_no, `+statusSQL+` as status, ms.remaining::text as remaining,
			coalesce(u.name, '') as unit, coalesce(cu.name, '') as tenant `+boardFrom+`
			and ($4 = '%%' or m.meter_no ilike $4 or u.name ilike $4 or cu.name ilike $4))
		select status, count(*) from b group by status`, f.ProjectID, f.Sites, f.SiteID, q)
	if err != nil {
		return b, fmt.Errorf("board counts: %w", err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return b, err
		}
		b.Counts[st] = n
		if f.Status == "" || f.Status == st {
			b.Total += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("board counts: %w", err)
	}
	rows, err = db.Query(ctx, `with b as (select m.meter_no, `+statusSQL+` as status, ms.remaining::text as remaining,
			coalesce(u.name, '') as unit, coalesce(cu.name, '') as tenant `+boardFrom+`
			and ($4 = '%%' or m.meter_no ilike $4 or u.name ilike $4 or cu.name ilike $4))
		select meter_no, status, remaining, unit, tenant from b where ($5 = '' or status = $5)
		order by meter_no offset $6 limit $7`, f.ProjectID, f.Sites, f.SiteID, q, f.Status, f.Offset, f.Limit)
	if err != nil {
		return b, fmt.Errorf("board: %w", err)
	}
	b.Items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tile, error) {
		var t Tile
		return t, row.Scan(&t.MeterNo, &t.Status, &t.Remaining, &t.Unit, &t.Tenant)
	})
	if err != nil {
		return b, fmt.Errorf("board: %w", err)
	}
	return b, nil
}

// Summary is the home dashboard of one project.
type Summary struct {
	Meters       map[string]int `json:"meters"` // count by board status
	SalesToday   SalesToday     `json:"salesToday"`
	OpenAlarms   int            `json:"openAlarms"`
	Alarms       []AlarmLine    `json:"alarms"` // the latest open ones
	LostMeters   int            `json:"lostMeters"`
	LostGateways []string       `json:"lostGateways"`
	PendingTasks int            `json:"pendingTasks"`
	Charging     Charging       `json:"charging"`
	// Hourly is the consumption (kWh) of the project's meters by hour of
	// today and of yesterday, 24 each.
	Today     []string `json:"today"`
	Yesterday []string `json:"yesterday"`
}

// SalesToday is what the counter took since midnight (completed sales).
type SalesToday struct {
	Count  int    `json:"count"`
	Amount string `json:"amount"`
}

// AlarmLine is one open alarm.
type AlarmLine struct {
	MeterNo  string    `json:"meterNo"`
	Kind     string    `json:"kind"`
	OpenedAt time.Time `json:"openedAt"`
}

// Charging is the project's chargers now and today.
type Charging struct {
	// Connectors counts by status name (offline, idle, occupied, charging,
	// reserved, fault).
	Connectors     map[string]int `json:"connectors"`
	SessionsNow    int            `json:"sessionsNow"`
	EnergyTodayKwh string         `json:"energyTodayKwh"`
}

// connectorStates names the regulator's connector status codes.
var connectorStates = map[int]string{0: "offline", 1: "idle", 2: "occupied", 3: "charging", 4: "reserved", 255: "fault"}

// LoadSummary answers the dashboard of a project for a caller who sees
// sites (nil: all); dayStart is today's midnight in the operator's zone.
func LoadSummary(ctx context.Context, db *store.DB, projectID string, sites []string, dayStart time.Time) (Summary, error) {
	s := Summary{Meters: map[string]int{}, Alarms: []AlarmLine{}, LostGateways: []string{},
		Charging: Charging{Connectors: map[string]int{}}}
	for _, st := range Statuses {
		s.Meters[st] = 0
	}
	rows, err := db.Query(ctx, `select `+statusSQL+` as status, count(*) `+boardFrom+` group by 1`, projectID, sites, "")
	if err != nil {
		return s, fmt.Errorf("meter counts: %w", err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return s, err
		}
		s.Meters[st] = n
	}
	rows.Close()
	s.LostMeters = s.Meters[LostContact]
	err = db.QueryRow(ctx, `select count(*), coalesce(sum(amount), 0)::numeric(18,2)::text from recharges
		where project_id=$1 and status='completed' and completed_at >= $2`, projectID, dayStart).
		Scan(&s.SalesToday.Count, &s.SalesToday.Amount)
	if err != nil {
		return s, fmt.Errorf("sales today: %w", err)
	}
	if err := db.QueryRow(ctx, `select count(*) from alarms where project_id=$1 and status='open'`, projectID).Scan(&s.OpenAlarms); err != nil {
		return s, fmt.Errorf("open alarms: %w", err)
	}
	rows, err = db.Query(ctx, `select coalesce(meter_no, ''), kind, opened_at from alarms where project_id=$1 and status='open'
		order by opened_at desc limit 10`, projectID)
	if err != nil {
		return s, fmt.Errorf("alarms: %w", err)
	}
	if s.Alarms, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (AlarmLine, error) {
		var a AlarmLine
		return a, row.Scan(&a.MeterNo, &a.Kind, &a.OpenedAt)
	}); err != nil {
		return s, fmt.Errorf("alarms: %w", err)
	}
	rows, err = db.Query(ctx, `select g.code from gateways g where g.project_id=$1 and exists(select 1 from device_events e
		where e.kind='gateway_lost_contact' and e.subject=g.id and e.cleared_at is null) order by g.code`, projectID)
	if err != nil {
		return s, fmt.Errorf("lost gateways: %w", err)
	}
	if s.LostGateways, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return s, fmt.Errorf("lost gateways: %w", err)
	}
	if err := db.QueryRow(ctx, `select count(*) from tasks where project_id=$1 and status='pending'`, projectID).Scan(&s.PendingTasks); err != nil {
		return s, fmt.Errorf("pending tasks: %w", err)
	}
	if err := loadCharging(ctx, db, projectID, dayStart, &s.Charging); err != nil {
		return s, err
	}
	s.Today, s.Yesterday, err = hourly(ctx, db, projectID, sites, dayStart)
	return s, err
}

func loadCharging(ctx context.Context, db *store.DB, projectID string, dayStart time.Time, c *Charging) error {
	rows, err := db.Query(ctx, `select case when coalesce(p.online, false) then coalesce(st.status, 1) else 0 end, count(*)
		from charging_connectors k join ocpp_charge_points p on p.equipment_id=k.equipment_id
		left join connector_status st on st.connector_id=k.connector_id
		where p.project_id=$1 group by 1`, projectID)
	if err != nil {
		return fmt.Errorf("connectors: %w", err)
	}
	for rows.Next() {
		var code, n int
		if err := rows.Scan(&code, &n); err != nil {
			rows.Close()
			return err
		}
		name, ok := connectorStates[code]
		if !ok {
			name = fmt.Sprintf("status_%d", code)
		}
		c.Connectors[name] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("connectors: %w", err)
	}
	err = db.QueryRow(ctx, `select count(*) filter (where status in ('starting','charging')),
		coalesce(sum(energy_kwh) filter (where stopped_at >= $2), 0)::numeric(14,2)::text
		from charging_orders where project_id=$1 and (status in ('starting','charging') or stopped_at >= $2)`,
		projectID, dayStart).Scan(&c.SessionsNow, &c.EnergyTodayKwh)
	if err != nil {
		return fmt.Errorf("charging sessions: %w", err)
	}
	return nil
}

// hourly sums each meter's energy register steps by the hour they end in,
// for yesterday and today (hours relative to dayStart: -24..23).
func hourly(ctx context.Context, db *store.DB, projectID string, sites []string, dayStart time.Time) (today, yesterday []string, err error) {
	today, yesterday = make([]string, 24), make([]string, 24)
	for i := range today {
		today[i], yesterday[i] = "0.00", "0.00"
	}
	rows, err := db.Query(ctx, `with r as (
			select r.read_at, r.energy_kwh - lag(r.energy_kwh) over (partition by r.meter_id order by r.read_at) as d
			from readings r join meters m on m.id=r.meter_id left join units u on u.id=m.unit_id
			where m.project_id=$1 and ($2::text[] is null or u.site_id::text = any($2::text[]))
			and r.read_at >= $3::timestamptz - interval '25 hours' and r.read_at < $3::timestamptz + interval '24 hours')
		select floor(extract(epoch from (read_at - $3::timestamptz)) / 3600)::int as h, sum(d)::numeric(14,2)::text
		from r where d > 0 and read_at >= $3::timestamptz - interval '24 hours' group by 1`, projectID, sites, dayStart)
	if err != nil {
		return today, yesterday, fmt.Errorf("hourly consumption: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int
		var kwh string
		if err := rows.Scan(&h, &kwh); err != nil {
			return today, yesterday, err
		}
		switch {
		case h >= 0 && h < 24:
			today[h] = kwh
		case h >= -24 && h < 0:
			yesterday[h+24] = kwh
		}
	}
	return today, yesterday, rows.Err()
}

// InboxTask is a task with what a person deciding it wants to see: who
// applied and whose meter it is.
type InboxTask struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Subject    string            `json:"subject"`
	Role       string            `json:"role"`
	WorkflowID string            `json:"workflowId"`
	Status     string            `json:"status"`
	Details    map[string]string `json:"details"`
	CreatedAt  time.Time         `json:"createdAt"`
	Applicant  string            `json:"applicant"`
	Customer   string            `json:"customer"`
	Unit       string            `json:"unit"`
	DecidedBy  string            `json:"decidedBy"`
	DecidedAt  *time.Time        `json:"decidedAt"`
	Comment    string            `json:"comment"`
}

// Inbox lists a project's tasks in a status, newest first.
func Inbox(ctx context.Context, db *store.DB, projectID, status string, limit int) ([]InboxTask, error) {
	rows, err := db.Query(ctx, `select t.id, t.kind, t.subject, t.role, t.workflow_id, t.status, t.details, t.created_at,
			coalesce(nullif(op.display_name, ''), op.username, ''), coalesce(cu.name, ''), coalesce(u.name, ''),
			coalesce(t.decided_by_name, ''), t.decided_at, t.comment
		from tasks t
		left join recharges r on r.id::text = t.details->>'rechargeId'
		left join refunds f on f.id::text = t.details->>'refundId'
		left join operators op on op.id = coalesce(r.created_by, f.created_by)
		left join meters m on m.project_id=t.project_id and m.meter_no = t.details->>'meterNo'
		left join units u on u.id=m.unit_id
		left join prepaid_accounts acc on acc.id=m.account_id
		left join customers cu on cu.id=acc.customer_id
		where t.project_id=$1 and ($2 = '' or t.status=$2)
		order by t.created_at desc, t.id desc limit $3`, projectID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboxTask, error) {
		var t InboxTask
		return t, row.Scan(&t.ID, &t.Kind, &t.Subject, &t.Role, &t.WorkflowID, &t.Status, &t.Details, &t.CreatedAt,
			&t.Applicant, &t.Customer, &t.Unit, &t.DecidedBy, &t.DecidedAt, &t.Comment)
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return out, nil
}

// Reading is one stored reading of a meter, as a chart plots it.
type Reading struct {
	ReadAt    time.Time `json:"readAt"`
	EnergyKwh string    `json:"energyKwh"`
	Remaining string    `json:"remaining"`
	PowerKw   string    `json:"powerKw"`
}

// Readings lists a meter's readings in [from, to), oldest first, at most
// limit of them (the newest ones when there are more).
func Readings(ctx context.Context, db *store.DB, meterID string, from, to time.Time, limit int) ([]Reading, error) {
	rows, err := db.Query(ctx, `select read_at, energy_kwh::text, remaining::text, power_kw::text from (
			select read_at, energy_kwh, remaining, power_kw from readings
			where meter_id=$1 and read_at >= $2 and read_at < $3 order by read_at desc limit $4) r
		order by read_at`, meterID, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("readings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reading, error) {
		var r Reading
		return r, row.Scan(&r.ReadAt, &r.EnergyKwh, &r.Remaining, &r.PowerKw)
	})
	if err != nil {
		return nil, fmt.Errorf("readings: %w", err)
	}
	return out, nil
}
