package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Status is a meter's place on the status board (状态报警界面, seed 002).
type Status string

// The board's statuses, in the order they take precedence: a meter we cannot
// reach shows lost contact, whatever its last (stale) state said; a fault
// trip shows as a fault rather than as the cut-off it caused.
const (
	StatusLostContact Status = "lost_contact" // 失联
	StatusNotOpened   Status = "not_opened"   // 未开户: no prepaid account
	StatusUnknown     Status = "unknown"      // never read yet
	StatusFault       Status = "fault"        // 故障: overload or malignant-load trip
	StatusCutOff      Status = "cut_off"      // 断电: relay open or forced off
	StatusAlarming    Status = "alarming"     // 正在报警: an open alarm or an alarm flag
	StatusNormal      Status = "normal"       // 工作正常
)

// Statuses lists every status in precedence order.
func Statuses() []Status {
	return []Status{StatusLostContact, StatusNotOpened, StatusUnknown, StatusFault, StatusCutOff, StatusAlarming, StatusNormal}
}

// Colour is the board's colour for a status. Seed 002 fixes four: black for
// cut off, white for normal, red for fault, yellow for alarming; the others
// are ours.
func (s Status) Colour() string {
	switch s {
	case StatusCutOff:
		return "black"
	case StatusNormal:
		return "white"
	case StatusFault:
		return "red"
	case StatusAlarming:
		return "yellow"
	case StatusLostContact:
		return "grey"
	case StatusNotOpened:
		return "blue"
	default:
		return "none"
	}
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses() {
		if v == s {
			return true
		}
	}
	return false
}

// StatusFilter selects the board's meters.
type StatusFilter struct {
	Projects []string // project ids the caller may see
	Site     string   // a site id: meters of units in it or below it; "" = all
	Status   Status   // "" = all
	Scope    store.Scope
}

// StatusRow is one meter on the board.
type StatusRow struct {
	MeterNo    string        `json:"meterNo"`
	Gateway    string        `json:"gateway"`
	Unit       string        `json:"unit"`
	Site       string        `json:"site"`
	Customer   string        `json:"customer"`
	Status     Status        `json:"status"`
	Colour     string        `json:"colour"`
	Remaining  *money.Amount `json:"remaining"`
	EnergyKwh  *string       `json:"energyKwh"`
	Relay      *int          `json:"relay"`
	Mode       *int          `json:"mode"`
	Flags      *int          `json:"statusFlags"`
	OpenAlarms string        `json:"openAlarms"` // alarm kinds, comma separated
	ReadAt     *time.Time    `json:"readAt"`
}

// Cursor is the row's keyset position.
func (r StatusRow) Cursor() string { return r.MeterNo }

// boardSQL computes each meter's status from ref-prepaid-v1's status flags
// (meters.md, register 0x010D): 24 = bit3 overload trip | bit4
// malignant-load trip (faults), 3 = bit0 alarm 1 | bit1 alarm 2.
//
// It computes each meter's status in SQL so that the status filter and
// the keyset page apply to it. $1 projects, $2 site (null = all), $3/$4
// the caller's site scope.
func boardSQL() string {
	return `with recursive area as (
	select id from sites where id = $2::uuid
	union all
	select s.id from sites s join area a on s.parent_id = a.id
), board as (
	select m.meter_no, g.code as gateway, coalesce(u.name, '') as unit, coalesce(si.name, '') as site,
		coalesce(c.name, '') as customer, s.remaining, s.energy_kwh::text as energy_kwh, s.relay::int as relay,
		s.mode::int as mode, s.status_flags, s.read_at, x.alarms,
		case
			when x.lost then 'lost_contact'
			when m.account_id is null then 'not_opened'
			when s.meter_id is null then 'unknown'
			when s.status_flags & 24 <> 0 then 'fault'
			when s.relay = 1 or s.mode = 2 then 'cut_off'
			when x.alarms <> '' or s.status_flags & 3 <> 0 then 'alarming'
			else 'normal'
		end as status
	from meters m
	join gateways g on g.id = m.gateway_id
	left join meter_state s on s.meter_id = m.id
	left join units u on u.id = m.unit_id
	left join sites si on si.id = u.site_id
	left join prepaid_accounts pa on pa.id = m.account_id
	left join customers c on c.id = pa.customer_id
	cross join lateral (select
		exists (select 1 from device_events e where e.cleared_at is null and (
			(e.kind = 'meter_lost_contact' and e.subject = m.id) or
			(e.kind = 'gateway_lost_contact' and e.subject = m.gateway_id))) as lost,
		coalesce((select string_agg(a.kind, ',' order by a.kind) from alarms a
			where a.meter_id = m.id and a.status = 'open'), '') as alarms) x
	where m.project_id::text = any($1)
		and ($2::uuid is null or u.site_id in (select id from area))
		and ` + store.Scope{}.SQL("m.id", 3) + `
)`
}

func siteArg(site string) *string {
	if site == "" {
		return nil
	}
	return &site
}

// StatusBoard walks the board in meter number order.
func StatusBoard(ctx context.Context, q Querier, f StatusFilter, p Page, fn func(StatusRow) error) error {
	return walk(ctx, q, scanStatus, fn, boardSQL()+`
		select meter_no, gateway, unit, site, customer, status, remaining, energy_kwh, relay, mode,
			status_flags, alarms, read_at
		from board where ($5 = '' or status = $5) and meter_no > $6 order by meter_no limit $7`,
		append([]any{f.Projects, siteArg(f.Site)}, append(f.Scope.Args(), string(f.Status), p.After, p.limitArg())...)...)
}

func scanStatus(rows pgx.Rows) (StatusRow, error) {
	var r StatusRow
	err := rows.Scan(&r.MeterNo, &r.Gateway, &r.Unit, &r.Site, &r.Customer, &r.Status, &r.Remaining, &r.EnergyKwh,
		&r.Relay, &r.Mode, &r.Flags, &r.OpenAlarms, &r.ReadAt)
	r.Colour = r.Status.Colour()
	return r, err
}

// StatusCounts counts the board's meters per status (the status filter of f
// is ignored: the counts are what a user picks a filter from). Every status
// is present, zero or not.
func StatusCounts(ctx context.Context, q Querier, f StatusFilter) (map[Status]int, error) {
	out := make(map[Status]int, len(Statuses()))
	for _, s := range Statuses() {
		out[s] = 0
	}
	type count struct {
		s Status
		n int
	}
	err := walk(ctx, q, func(rows pgx.Rows) (count, error) {
		var c count
		return c, rows.Scan(&c.s, &c.n)
	}, func(c count) error {
		out[c.s] = c.n
		return nil
	}, boardSQL()+` select status, count(*) from board group by status`,
		append([]any{f.Projects, siteArg(f.Site)}, f.Scope.Args()...)...)
	if err != nil {
		return nil, fmt.Errorf("status counts: %w", err)
	}
	return out, nil
}
