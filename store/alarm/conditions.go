package alarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/store"
)

// Event kinds of device_events the scan turns into alarms (raised and
// cleared by activities/sweep).
const (
	eventMeterLost   = "meter_lost_contact"
	eventGatewayLost = "gateway_lost_contact"
)

// Condition is one alarm condition of a subject: a meter, or a gateway for
// gateway_lost_contact (MeterID empty, SubjectNo the gateway's code).
type Condition struct {
	Kind      string `json:"kind"`
	MeterID   string `json:"meterId,omitempty"`
	SubjectNo string `json:"subjectNo"`
	Detail    string `json:"detail"`
}

// Key names the condition's alarm within a project.
func (c Condition) Key() string { return c.SubjectNo + "/" + c.Kind }

// OpenCondition is a condition alarm recorded open.
type OpenCondition struct {
	Condition
	WorkflowID string `json:"workflowId"`
}

// Scan is what one scan of a project found: conditions that hold now and the
// open condition alarms whose condition was judged and no longer holds.
type Scan struct {
	Active []Condition     `json:"active"`
	Clear  []OpenCondition `json:"clear"`
	// Open: condition alarms already open (no need to start them again).
	Open map[string]bool `json:"open"`
}

type meterRow struct {
	id, no   string
	hasState bool
	sample   alarmdom.Sample
	watch    alarmdom.Watch
	limits   alarmdom.Limits
}

// ScanConditions evaluates every meter of the project at time at, stores
// what the scan must remember (energy baselines, when each meter last
// moved), and lists the conditions to open and to clear. Lost contact comes
// from the sweep's open device events.
func ScanConditions(ctx context.Context, db *store.DB, projectID string, at time.Time) (Scan, error) {
	scan := Scan{Open: map[string]bool{}}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		// Without limits only the trips can hold: a project of many meters
		// and no limits is scanned by its flagged meters alone, and no
		// baselines are kept.
		var limited bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from alarm_limits where project_id=$1)`, projectID).Scan(&limited); err != nil {
			return fmt.Errorf("alarm limits of project %s: %w", projectID, err)
		}
		meters, err := loadMeters(ctx, tx, projectID, !limited)
		if err != nil {
			return err
		}
		// Advance every watch, then find the two latest movers: a meter is
		// compared with the latest other than itself.
		var first, second time.Time
		var firstID string
		for _, m := range meters {
			if !m.hasState {
				continue
			}
			m.watch = alarmdom.Advance(m.watch, m.sample, m.limits, at)
			if t := m.watch.MovedAt; t.After(first) {
				second, first, firstID = first, t, m.id
			} else if t.After(second) {
				second = t
			}
		}
		judged := map[string]bool{} // subject/kind judged by this scan
		for _, m := range meters {
			if !m.hasState {
				continue
			}
			others := first
			if m.id == firstID {
				others = second
			}
			for _, f := range alarmdom.Evaluate(m.watch, m.sample, m.limits, others) {
				c := Condition{Kind: f.Kind, MeterID: m.id, SubjectNo: m.no, Detail: f.Detail}
				judged[c.Key()] = true
				if f.Active {
					scan.Active = append(scan.Active, c)
				}
			}
		}
		if limited {
			if err := saveWatches(ctx, tx, meters, at); err != nil {
				return err
			}
		}
		lost, err := lostContact(ctx, tx, projectID)
		if err != nil {
			return err
		}
		scan.Active = append(scan.Active, lost...)
		open, err := openConditions(ctx, tx, projectID)
		if err != nil {
			return err
		}
		active := map[string]bool{}
		for _, c := range scan.Active {
			active[c.Key()] = true
		}
		for _, o := range open {
			scan.Open[o.Key()] = true
			contact := o.Kind == alarmdom.KindLostContact || o.Kind == alarmdom.KindGatewayContact
			if !active[o.Key()] && (judged[o.Key()] || contact) {
				scan.Clear = append(scan.Clear, o)
			}
		}
		return nil
	})
	return scan, err
}

func loadMeters(ctx context.Context, tx pgx.Tx, projectID string, tripsOnly bool) ([]*meterRow, error) {
	rows, err := tx.Query(ctx, `
		select m.id::text, m.meter_no, s.meter_id is not null,
			coalesce(s.energy_kwh, 0), coalesce(s.read_at, 'epoch'), coalesce(s.status_flags, 0), coalesce(s.mode, 0),
			coalesce(pa.status = 'open', false),
			w.meter_id is not null, coalesce(w.energy_kwh, 0), coalesce(w.read_at, 'epoch'), coalesce(w.moved_at, 'epoch'),
			coalesce(w.day::text, ''), coalesce(w.day_start_kwh, 0), coalesce(w.month::text, ''), coalesce(w.month_start_kwh, 0),
			coalesce(w.night::text, ''), coalesce(w.night_start_kwh, 0),
			l.voltage_max, l.voltage_min, l.current_max, l.daily_kwh, l.monthly_kwh, l.night_kwh,
			coalesce(l.night_start, 1380), coalesce(l.night_end, 360), coalesce(l.utc_offset_minutes, 480),
			coalesce(extract(epoch from l.static_after)::float8, 0),
			r.voltage_v, r.current_a
		from meters m
		left join meter_state s on s.meter_id = m.id
		left join prepaid_accounts pa on pa.id = m.account_id
		left join alarm_meter_watch w on w.meter_id = m.id
		left join lateral (select * from alarm_limits l where l.project_id = m.project_id and (l.meter_id = m.id or l.meter_id is null)
			order by l.meter_id nulls last limit 1) l on true
		left join lateral (select voltage_v, current_a from readings r where r.meter_id = m.id and not $2
			and r.read_at > coalesce(w.read_at, s.read_at - interval '1 hour') order by r.read_at desc limit 1) r on true
		where m.project_id = $1 and m.status = 'active' and (not $2 or s.status_flags & 24 <> 0
			or exists (select 1 from alarms a where a.meter_id = m.id and a.status = 'open' and a.kind <> 'low_balance'))
		order by m.meter_no`, projectID, tripsOnly)
	if err != nil {
		return nil, fmt.Errorf("load meters for the alarm scan: %w", err)
	}
	defer rows.Close()
	var out []*meterRow
	for rows.Next() {
		m := &meterRow{}
		var mode int
		var open bool
		var day, month, night string
		var staticSeconds float64
		var vmax, vmin, cmax, daily, monthly, nightKWh, volt, curr *decimal.Decimal
		if err := rows.Scan(&m.id, &m.no, &m.hasState, &m.sample.Energy, &m.sample.ReadAt, &m.sample.StatusFlags, &mode, &open,
			&m.watch.Known, &m.watch.Energy, &m.watch.ReadAt, &m.watch.MovedAt, &day, &m.watch.DayStart, &month, &m.watch.MonthStart,
			&night, &m.watch.NightStart, &vmax, &vmin, &cmax, &daily, &monthly, &nightKWh,
			&m.limits.NightStart, &m.limits.NightEnd, &m.limits.OffsetMinutes, &staticSeconds, &volt, &curr); err != nil {
			return nil, err
		}
		m.watch.Day, m.watch.Month, m.watch.Night = day, month, night
		m.limits.VoltageMax, m.limits.VoltageMin, m.limits.CurrentMax = vmax, vmin, cmax
		m.limits.DailyKWh, m.limits.MonthlyKWh, m.limits.NightKWh = daily, monthly, nightKWh
		m.limits.StaticAfter = time.Duration(staticSeconds * float64(time.Second))
		m.sample.Active = alarmdom.ActiveAccount(open, m.sample.StatusFlags, mode)
		m.sample.Voltage, m.sample.Current = volt, curr
		out = append(out, m)
	}
	return out, rows.Err()
}

func saveWatches(ctx context.Context, tx pgx.Tx, meters []*meterRow, at time.Time) error {
	var ids, days, months, nights []string
	var energy, dayStart, monthStart, nightStart []decimal.Decimal
	var readAt, movedAt []time.Time
	for _, m := range meters {
		if !m.hasState {
			continue
		}
		w := m.watch
		ids, days, months, nights = append(ids, m.id), append(days, w.Day), append(months, w.Month), append(nights, w.Night)
		energy, dayStart, monthStart, nightStart = append(energy, w.Energy), append(dayStart, w.DayStart),
			append(monthStart, w.MonthStart), append(nightStart, w.NightStart)
		readAt, movedAt = append(readAt, w.ReadAt), append(movedAt, w.MovedAt)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `insert into alarm_meter_watch as w (meter_id, energy_kwh, read_at, moved_at, day, day_start_kwh,
			month, month_start_kwh, night, night_start_kwh, scanned_at)
		select u.id, u.energy, u.read_at, u.moved_at, u.day::date, u.day_start, u.month::date, u.month_start,
			nullif(u.night, '')::date, case when u.night = '' then null else u.night_start end, $11
		from unnest($1::uuid[], $2::numeric[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::numeric[],
			$7::text[], $8::numeric[], $9::text[], $10::numeric[])
			as u(id, energy, read_at, moved_at, day, day_start, month, month_start, night, night_start)
		on conflict (meter_id) do update set energy_kwh=excluded.energy_kwh, read_at=excluded.read_at,
			moved_at=excluded.moved_at, day=excluded.day, day_start_kwh=excluded.day_start_kwh, month=excluded.month,
			month_start_kwh=excluded.month_start_kwh, night=excluded.night, night_start_kwh=excluded.night_start_kwh,
			scanned_at=excluded.scanned_at
		where w.scanned_at <= excluded.scanned_at`,
		ids, energy, readAt, movedAt, days, dayStart, months, monthStart, nights, nightStart, at)
	if err != nil {
		return fmt.Errorf("save alarm watches of %d meters: %w", len(ids), err)
	}
	return nil
}

func lostContact(ctx context.Context, tx pgx.Tx, projectID string) ([]Condition, error) {
	rows, err := tx.Query(ctx, `select e.kind, coalesce(m.id::text, ''), e.subject_no, e.detail from device_events e
		left join meters m on e.kind = $2 and m.id = e.subject
		where e.project_id = $1 and e.cleared_at is null and e.kind in ($2, $3) order by e.id`,
		projectID, eventMeterLost, eventGatewayLost)
	if err != nil {
		return nil, fmt.Errorf("open lost-contact events: %w", err)
	}
	defer rows.Close()
	var out []Condition
	for rows.Next() {
		var kind string
		var c Condition
		if err := rows.Scan(&kind, &c.MeterID, &c.SubjectNo, &c.Detail); err != nil {
			return nil, err
		}
		c.Kind = alarmdom.KindLostContact
		if kind == eventGatewayLost {
			c.Kind = alarmdom.KindGatewayContact
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func openConditions(ctx context.Context, tx pgx.Tx, projectID string) ([]OpenCondition, error) {
	rows, err := tx.Query(ctx, `select kind, coalesce(meter_id::text, ''), meter_no, detail, workflow_id from alarms
		where project_id = $1 and status = 'open' and kind = any($2) order by opened_at`, projectID, alarmdom.ConditionKinds())
	if err != nil {
		return nil, fmt.Errorf("open condition alarms: %w", err)
	}
	defer rows.Close()
	var out []OpenCondition
	for rows.Next() {
		var o OpenCondition
		if err := rows.Scan(&o.Kind, &o.MeterID, &o.SubjectNo, &o.Detail, &o.WorkflowID); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// LoadConditionPolicy reads who gets a condition alarm and the quiet hours.
// Condition alarms (theft, limits, trips, lost contact) go to the numbers set
// for the meter, the project and the sites above the meter — area managers —
// and never to the tenant's
// own phone: a possible-theft alarm must not warn the suspect. meterID is
// empty for a gateway.
func LoadConditionPolicy(ctx context.Context, db *store.DB, projectID, meterID string) (Policy, error) {
	p := Policy{ProjectID: projectID, Mode: "condition", Quiet: alarmdom.Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480}}
	err := db.QueryRow(ctx, `select quiet_start, quiet_end, utc_offset_minutes from alarm_policies
		where project_id=$1 and (meter_id=nullif($2,'')::uuid or meter_id is null) order by meter_id nulls last limit 1`,
		projectID, meterID).Scan(&p.Quiet.Start, &p.Quiet.End, &p.Quiet.OffsetMinutes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("load alarm policy: %w", err)
	}
	rows, err := db.Query(ctx, `select phone, name, role from alarm_recipients
		where project_id = $1 and (meter_id = nullif($2,'')::uuid or meter_id is null) and role <> 'tenant'
		order by meter_id nulls last, role, phone`, projectID, meterID)
	if err != nil {
		return p, fmt.Errorf("load alarm recipients: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.Phone, &r.Name, &r.Role); err != nil {
			return p, err
		}
		if !seen[r.Phone] {
			seen[r.Phone] = true
			p.Recipients = append(p.Recipients, r)
		}
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	return p, addSiteRecipients(ctx, db, &p, meterID, seen)
}
