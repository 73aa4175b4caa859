// Package alarm is where the alarm hooks and scans read and write the
// alarms tables.
package alarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// ErrObservedMeterNotFound is a reading of a meter that does not exist.
var ErrObservedMeterNotFound = errors.New("meter not found")

// ObservedMeter is what the alarm hook needs to route one reading: the
// meter, its alarm amount and its open alarm of one kind, if any.
type ObservedMeter struct {
	ProjectID, ProjectCode, MeterNo string
	AlarmAmount                     money.Amount
	Open                            bool
	// NextThreshold is the open alarm's next stage (nil: none left).
	NextThreshold *money.Amount
}

// LoadObservedMeter reads a meter and its open alarm of kind.
func LoadObservedMeter(ctx context.Context, db *store.DB, meterID, kind string) (ObservedMeter, error) {
	var m ObservedMeter
	err := db.QueryRow(ctx, `select m.project_id, p.code, m.meter_no, m.alarm1, a.id is not null, a.next_threshold
		from meters m join projects p on p.id = m.project_id
		left join alarms a on a.meter_id = m.id and a.kind = $2 and a.status = 'open'
		where m.id = $1`, meterID, kind).Scan(&m.ProjectID, &m.ProjectCode, &m.MeterNo, &m.AlarmAmount, &m.Open, &m.NextThreshold)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("meter %s: %w", meterID, ErrObservedMeterNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("load meter %s for its %s alarm: %w", meterID, kind, err)
	}
	return m, nil
}

// PickObservations are the meter ids of the readings that can change an
// alarm of kind: a new one at or below the alarm amount, a deeper stage of
// an open one, a balance back above it.
func PickObservations(ctx context.Context, db *store.DB, kind string, obs []alarmdom.Observation) ([]string, error) {
	ids := make([]string, len(obs))
	amounts := make([]string, len(obs))
	for i, ob := range obs {
		ids[i], amounts[i] = ob.MeterID, ob.Remaining.String()
	}
	// One index probe per reading (the lateral join, kept from being
	// flattened by offset 0): a join the planner is free to turn around
	// scans all of meters for every sweep write.
	rows, err := db.Query(ctx, `select s.meter_id::text from unnest($1::uuid[], $2::numeric[]) as s(meter_id, remaining)
		cross join lateral (select m.id, m.alarm1 from meters m where m.id = s.meter_id and m.alarm1 > 0 and m.status = 'active' offset 0) m
		left join alarms a on a.meter_id = m.id and a.kind = $3 and a.status = 'open'
		where (a.id is null and s.remaining <= m.alarm1)
			or (a.id is not null and (s.remaining > m.alarm1 or (a.next_threshold is not null and s.remaining <= a.next_threshold)))`,
		ids, amounts, kind)
	if err != nil {
		return nil, fmt.Errorf("select readings: %w", err)
	}
	picked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("select readings: %w", err)
	}
	return picked, nil
}

// CloseSupersededAlarm closes the open record of an alarm workflow that is
// gone (terminated by hand), so the next scan may raise it again.
func CloseSupersededAlarm(ctx context.Context, db *store.DB, workflowID string, at time.Time) error {
	if _, err := db.Exec(ctx, `update alarms set status='closed', closed_at=$2, resolution='superseded'
		where workflow_id=$1 and status='open'`, workflowID, at); err != nil {
		return fmt.Errorf("close alarm of %s: %w", workflowID, err)
	}
	return nil
}

// ScanProject is a project whose condition alarms are scanned.
type ScanProject struct {
	ID, Code     string
	ScanInterval *string // the project's setting (a Go duration); nil: the server's
}

// ListScanProjects is every project, by code.
func ListScanProjects(ctx context.Context, db *store.DB) ([]ScanProject, error) {
	rows, err := db.Query(ctx, `select id::text, code, alarm_scan_interval from projects order by code`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ScanProject])
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}
