// Package alarm stores meter alarms: a meter's alarm policy and
// recipients, the alarm records (open / closed, stage history) the alarm
// workflow keeps through activities/alarm, the condition scan, and the list
// the API shows.
package alarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Recipient is one phone number an alarm goes to.
type Recipient struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Role  string `json:"role"` // tenant, manager, other
}

// Policy is how one meter is alarmed, and to whom.
type Policy struct {
	ProjectID   string         `json:"projectId"`
	MeterNo     string         `json:"meterNo"`
	Mode        alarmdom.Mode  `json:"mode"`
	AlarmAmount money.Amount   `json:"alarmAmount"`
	Ratios      []string       `json:"ratios"`
	Quiet       alarmdom.Quiet `json:"quiet"`
	RechargeSMS bool           `json:"rechargeSms"`
	Recipients  []Recipient    `json:"recipients"`
}

// ErrUnknownMeter: the meter to alarm does not exist.
var ErrUnknownMeter = errors.New("not found")

// LoadPolicy reads the meter's policy (its own row, else its project's,
// else the defaults) and its recipients: the tenant's phone from the meter's
// account, then the numbers set for the meter, for the project and for the
// sites on the meter's path up the site tree (area managers). An
// unknown meter is ErrUnknownMeter.
func LoadPolicy(ctx context.Context, db *store.DB, meterID string) (Policy, error) {
	p := Policy{Mode: alarmdom.Staged, Ratios: alarmdom.DefaultRatios(), Quiet: alarmdom.Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480},
		RechargeSMS: true}
	err := db.QueryRow(ctx, `select project_id, meter_no, alarm1 from meters where id=$1`, meterID).
		Scan(&p.ProjectID, &p.MeterNo, &p.AlarmAmount)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("meter %s %w", meterID, ErrUnknownMeter)
	}
	if err != nil {
		return p, fmt.Errorf("load meter %s: %w", meterID, err)
	}
	var ratios []string
	err = db.QueryRow(ctx, `select mode, ratios::text[], quiet_start, quiet_end, utc_offset_minutes, recharge_sms
		from alarm_policies where project_id=$1 and (meter_id=$2 or meter_id is null)
		order by meter_id nulls last limit 1`, p.ProjectID, meterID).
		Scan(&p.Mode, &ratios, &p.Quiet.Start, &p.Quiet.End, &p.Quiet.OffsetMinutes, &p.RechargeSMS)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return p, fmt.Errorf("load alarm policy of %s: %w", p.MeterNo, err)
	default:
		p.Ratios = ratios
	}
	rows, err := db.Query(ctx, `
		select c.phone, c.name, 'tenant', 0 from meters m join prepaid_accounts pa on pa.id = m.account_id
			join customers c on c.id = pa.customer_id where m.id = $2 and c.phone <> ''
		union all
		select phone, name, role, case when meter_id is null then 2 else 1 end from alarm_recipients
			where project_id = $1 and (meter_id = $2 or meter_id is null)
		order by 4, 3 desc, 1`, p.ProjectID, meterID)
	if err != nil {
		return p, fmt.Errorf("load recipients of %s: %w", p.MeterNo, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var r Recipient
		var rank int
		if err := rows.Scan(&r.Phone, &r.Name, &r.Role, &rank); err != nil {
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

// addSiteRecipients adds the area managers of the meter's sites to p, after
// those it has (seen).
func addSiteRecipients(ctx context.Context, db *store.DB, p *Policy, meterID string, seen map[string]bool) error {
	rs, err := siteRecipients(ctx, db, meterID)
	for _, r := range rs {
		if !seen[r.Phone] {
			seen[r.Phone] = true
			p.Recipients = append(p.Recipients, r)
		}
	}
	return err
}

// NewAlarm is an alarm record to open; the OpenAlarm activity's input, hence
// the JSON names.
type NewAlarm struct {
	AlarmID       string        `json:"alarmId"`
	ProjectID     string        `json:"projectId"`
	MeterID       string        `json:"meterId"`
	MeterNo       string        `json:"meterNo"`
	Kind          string        `json:"kind"`
	WorkflowID    string        `json:"workflowId"`
	Mode          alarmdom.Mode `json:"mode"`
	AlarmAmount   money.Amount  `json:"alarmAmount"`
	At            time.Time     `json:"at"`
	NextThreshold *money.Amount `json:"nextThreshold"`
	Detail        string        `json:"detail,omitempty"` // what a condition alarm found
}

// Open records the alarm as open (once; a retry changes nothing). An
// earlier alarm of the same workflow id (meter and kind) still marked open
// lost its workflow (terminated by hand) and is closed as superseded.
func Open(ctx context.Context, db *store.DB, in NewAlarm) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `update alarms set status='closed', closed_at=$3, resolution='superseded'
			where workflow_id=$1 and status='open' and id<>$2`, in.WorkflowID, in.AlarmID, in.At); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into alarms(id, project_id, meter_id, meter_no, kind, workflow_id, mode, alarm_amount,
			status, opened_at, next_threshold, detail) values($1,$2,nullif($3,'')::uuid,$4,$5,$6,$7,$8,'open',$9,$10,$11)
			on conflict (id) do nothing`,
			in.AlarmID, in.ProjectID, in.MeterID, in.MeterNo, in.Kind, in.WorkflowID, in.Mode, in.AlarmAmount, in.At, in.NextThreshold,
			in.Detail)
		if err != nil {
			return fmt.Errorf("open alarm %s: %w", in.WorkflowID, err)
		}
		return nil
	})
}

// Stage is one entry of an alarm's history.
type Stage struct {
	Stage      string    `json:"stage"`
	At         time.Time `json:"at"`
	Recipients []string  `json:"recipients,omitempty"`
	Outcome    string    `json:"outcome"`
}

// RecordStage appends a stage to the alarm's history once, and the next
// threshold the reading hook watches for.
func RecordStage(ctx context.Context, db *store.DB, alarmID string, s Stage, next *money.Amount) error {
	entry, err := json.Marshal([]Stage{s})
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `update alarms set
		stages = case when exists (select 1 from jsonb_array_elements(stages) e where e->>'stage' = $2)
			then stages else stages || $3::jsonb end,
		next_threshold = $4 where id=$1`, alarmID, s.Stage, entry, next)
	if err != nil {
		return fmt.Errorf("record stage %s of alarm %s: %w", s.Stage, alarmID, err)
	}
	return nil
}

// Close marks the alarm closed (once).
func Close(ctx context.Context, db *store.DB, alarmID string, at time.Time, resolution string) error {
	_, err := db.Exec(ctx, `update alarms set status='closed', closed_at=$2, resolution=$3, next_threshold=null
		where id=$1 and status='open'`, alarmID, at, resolution)
	if err != nil {
		return fmt.Errorf("close alarm %s: %w", alarmID, err)
	}
	return nil
}
