// Package alarm is the database side of meter alarms: a meter's alarm
// policy and recipients, and the alarm records (open / closed, stage
// history) the alarm workflow keeps.
package alarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	domain "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// ErrTypeConfig marks an alarm that cannot run (unknown meter, bad ratios).
const ErrTypeConfig = "AlarmConfig"

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
}

// Recipient is one phone number an alarm goes to.
type Recipient struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Role  string `json:"role"` // tenant, manager, other
}

// Policy is how one meter is alarmed, and to whom.
type Policy struct {
	ProjectID   string       `json:"projectId"`
	MeterNo     string       `json:"meterNo"`
	Mode        domain.Mode  `json:"mode"`
	AlarmAmount money.Amount `json:"alarmAmount"`
	Ratios      []string     `json:"ratios"`
	Quiet       domain.Quiet `json:"quiet"`
	RechargeSMS bool         `json:"rechargeSms"`
	Recipients  []Recipient  `json:"recipients"`
}

// PolicyInput names the meter.
type PolicyInput struct {
	MeterID string `json:"meterId"`
}

// LoadPolicy reads the meter's policy (its own row, else its project's,
// else the defaults) and its recipients: the tenant's phone from the meter's
// account, then the numbers set for the meter and for the project.
func (a *Activities) LoadPolicy(ctx context.Context, in PolicyInput) (Policy, error) {
	p := Policy{Mode: domain.Staged, Ratios: domain.DefaultRatios(), Quiet: domain.Quiet{Start: 22 * 60, End: 8 * 60, OffsetMinutes: 480},
		RechargeSMS: true}
	err := a.DB.QueryRow(ctx, `select project_id, meter_no, alarm1 from meters where id=$1`, in.MeterID).
		Scan(&p.ProjectID, &p.MeterNo, &p.AlarmAmount)
	if errors.Is(err, pgx.ErrNoRows) {
		err := fmt.Errorf("meter %s not found", in.MeterID)
		return p, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConfig, err)
	}
	if err != nil {
		return p, fmt.Errorf("load meter %s: %w", in.MeterID, err)
	}
	var ratios []string
	err = a.DB.QueryRow(ctx, `select mode, ratios::text[], quiet_start, quiet_end, utc_offset_minutes, recharge_sms
		from alarm_policies where project_id=$1 and (meter_id=$2 or meter_id is null)
		order by meter_id nulls last limit 1`, p.ProjectID, in.MeterID).
		Scan(&p.Mode, &ratios, &p.Quiet.Start, &p.Quiet.End, &p.Quiet.OffsetMinutes, &p.RechargeSMS)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return p, fmt.Errorf("load alarm policy of %s: %w", p.MeterNo, err)
	default:
		p.Ratios = ratios
	}
	if _, err := domain.Thresholds(p.AlarmAmount, p.Ratios); err != nil {
		return p, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConfig, err)
	}
	rows, err := a.DB.Query(ctx, `
		select c.phone, c.name, 'tenant', 0 from meters m join prepaid_accounts pa on pa.id = m.account_id
			join customers c on c.id = pa.customer_id where m.id = $2 and c.phone <> ''
		union all
		select phone, name, role, case when meter_id is null then 2 else 1 end from alarm_recipients
			where project_id = $1 and (meter_id = $2 or meter_id is null)
		order by 4, 3 desc, 1`, p.ProjectID, in.MeterID)
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
	return p, rows.Err()
}

// OpenInput opens an alarm record.
type OpenInput struct {
	AlarmID       string        `json:"alarmId"`
	ProjectID     string        `json:"projectId"`
	MeterID       string        `json:"meterId"`
	MeterNo       string        `json:"meterNo"`
	Kind          string        `json:"kind"`
	WorkflowID    string        `json:"workflowId"`
	Mode          domain.Mode   `json:"mode"`
	AlarmAmount   money.Amount  `json:"alarmAmount"`
	At            time.Time     `json:"at"`
	NextThreshold *money.Amount `json:"nextThreshold"`
	Detail        string        `json:"detail,omitempty"` // what a condition alarm found
}

// OpenAlarm records the alarm as open (once; a retry changes nothing). An
// earlier alarm of the same workflow id (meter and kind) still marked open
// lost its workflow (terminated by hand) and is closed as superseded.
func (a *Activities) OpenAlarm(ctx context.Context, in OpenInput) error {
	return store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
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

// StageInput records one stage of an alarm.
type StageInput struct {
	AlarmID    string    `json:"alarmId"`
	Stage      string    `json:"stage"`
	At         time.Time `json:"at"`
	Recipients []string  `json:"recipients"`
	// Outcome: sent, skipped (a deeper stage superseded it), failed.
	Outcome       string        `json:"outcome"`
	NextThreshold *money.Amount `json:"nextThreshold"`
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
func (a *Activities) RecordStage(ctx context.Context, in StageInput) error {
	entry, err := json.Marshal([]Stage{{Stage: in.Stage, At: in.At, Recipients: in.Recipients, Outcome: in.Outcome}})
	if err != nil {
		return err
	}
	_, err = a.DB.Exec(ctx, `update alarms set
		stages = case when exists (select 1 from jsonb_array_elements(stages) e where e->>'stage' = $2)
			then stages else stages || $3::jsonb end,
		next_threshold = $4 where id=$1`, in.AlarmID, in.Stage, entry, in.NextThreshold)
	if err != nil {
		return fmt.Errorf("record stage %s of alarm %s: %w", in.Stage, in.AlarmID, err)
	}
	return nil
}

// CloseInput closes an alarm.
type CloseInput struct {
	AlarmID    string    `json:"alarmId"`
	At         time.Time `json:"at"`
	Resolution string    `json:"resolution"` // recharged, recovered
}

// CloseAlarm marks the alarm closed (once).
func (a *Activities) CloseAlarm(ctx context.Context, in CloseInput) error {
	_, err := a.DB.Exec(ctx, `update alarms set status='closed', closed_at=$2, resolution=$3, next_threshold=null
		where id=$1 and status='open'`, in.AlarmID, in.At, in.Resolution)
	if err != nil {
		return fmt.Errorf("close alarm %s: %w", in.AlarmID, err)
	}
	return nil
}
