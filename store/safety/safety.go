// Package safety stores safety limits (安全用电) per project and per meter,
// and the state each meter's safety/<meterNo> workflow writes.
package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	safetydom "github.com/voltflow/voltflow/domain/safety"
	"github.com/voltflow/voltflow/store"
)

// ErrNotFound: no limits row.
var ErrNotFound = errors.New("no safety limits")

// ErrTypeConfig is an activity error not worth retrying.
const ErrTypeConfig = "safety_config"

// Put stores a project's limits (meterID "") or a meter's, replacing what
// was there.
func Put(ctx context.Context, db *store.DB, projectID, meterID string, l safetydom.Limits) error {
	tou, err := json.Marshal(l.TOU)
	if err != nil {
		return err
	}
	var meter *string
	if meterID != "" {
		meter = &meterID
	}
	_, err = db.Exec(ctx, `insert into safety_limits(project_id, meter_id, max_load_kw, malignant_start_kw, allowed_trips,
			tou_limits, utc_offset_minutes, updated_at)
		values($1, $2, $3, $4, $5, $6, $7, now())
		on conflict (project_id, meter_id) do update set max_load_kw=excluded.max_load_kw,
			malignant_start_kw=excluded.malignant_start_kw, allowed_trips=excluded.allowed_trips,
			tou_limits=excluded.tou_limits, utc_offset_minutes=excluded.utc_offset_minutes, updated_at=now()`,
		projectID, meter, l.MaxLoadKW, l.MalignantStartKW, l.AllowedTrips, tou, l.UTCOffsetMinutes)
	if err != nil {
		return fmt.Errorf("put safety limits: %w", err)
	}
	return nil
}

const limitColumns = `max_load_kw, malignant_start_kw, allowed_trips, tou_limits, utc_offset_minutes`

func scanLimits(row pgx.Row, extra ...any) (safetydom.Limits, error) {
	var l safetydom.Limits
	var tou []byte
	var maxLoad, malignant *decimal.Decimal
	err := row.Scan(append([]any{&maxLoad, &malignant, &l.AllowedTrips, &tou, &l.UTCOffsetMinutes}, extra...)...)
	if err != nil {
		return l, err
	}
	l.MaxLoadKW, l.MalignantStartKW = maxLoad, malignant
	if err := json.Unmarshal(tou, &l.TOU); err != nil {
		return l, fmt.Errorf("tou_limits: %w", err)
	}
	return l, nil
}

// Get reads a project's limits (meterID "") or a meter's own.
func Get(ctx context.Context, db *store.DB, projectID, meterID string) (safetydom.Limits, error) {
	l, err := scanLimits(db.QueryRow(ctx, `select `+limitColumns+` from safety_limits
		where project_id = $1 and meter_id is not distinct from nullif($2, '')::uuid`, projectID, meterID))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// Effective is the limits that apply to a meter: its own, else its
// project's. Source says which ("meter", "project").
func Effective(ctx context.Context, db *store.DB, meterID string) (safetydom.Limits, string, error) {
	var source string
	l, err := scanLimits(db.QueryRow(ctx, `select `+limitColumns+`, case when l.meter_id is null then 'project' else 'meter' end
		from meters m join safety_limits l on l.project_id = m.project_id and (l.meter_id = m.id or l.meter_id is null)
		where m.id = $1 order by l.meter_id nulls last limit 1`, meterID), &source)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, "", ErrNotFound
	}
	return l, source, err
}

// Observed is a reading a sweep stored, as the safety check needs it.
type Observed struct {
	MeterID string
	Reading safetydom.Reading
}

// Candidate is a meter under safety limits, not already off for safety,
// with its reading.
type Candidate struct {
	MeterID, MeterNo, ProjectID, ProjectCode string
	Limits                                   safetydom.Limits
	Reading                                  safetydom.Reading
}

// Candidates picks, among the observed readings, the meters that have
// limits (their own or their project's) and are not tripped or locked out
// already. Without any limits in the deployment it asks nothing more.
func Candidates(ctx context.Context, db *store.DB, obs []Observed) ([]Candidate, error) {
	if len(obs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(obs))
	byID := make(map[string]safetydom.Reading, len(obs))
	for i, o := range obs {
		ids[i] = o.MeterID
		byID[o.MeterID] = o.Reading
	}
	rows, err := db.Query(ctx, `select `+limitColumns+`, m.id::text, m.meter_no, p.id::text, p.code
		from meters m join projects p on p.id = m.project_id
		join lateral (select * from safety_limits l where l.project_id = m.project_id
			and (l.meter_id = m.id or l.meter_id is null) order by l.meter_id nulls last limit 1) l on true
		left join safety_state s on s.meter_id = m.id
		where exists (select 1 from safety_limits) and m.id = any($1::uuid[])
			and coalesce(s.status, 'normal') = 'normal'`, ids)
	if err != nil {
		return nil, fmt.Errorf("safety candidates: %w", err)
	}
	defer rows.Close()
	var out []Candidate
	for rows.Next() {
		var c Candidate
		if c.Limits, err = scanLimits(rows, &c.MeterID, &c.MeterNo, &c.ProjectID, &c.ProjectCode); err != nil {
			return nil, err
		}
		c.Reading = byID[c.MeterID]
		out = append(out, c)
	}
	return out, rows.Err()
}

// State is a meter's safety as its workflow last wrote it.
type State struct {
	MeterID    string           `json:"meterId"`
	Status     safetydom.Status `json:"status"`
	Trips      int              `json:"trips"`
	LastTripAt *time.Time       `json:"lastTripAt"`
	LastReason string           `json:"lastReason"`
	RestoredBy string           `json:"restoredBy"`
	RestoredAt *time.Time       `json:"restoredAt"`
}

// SetState records a meter's safety state.
func SetState(ctx context.Context, db *store.DB, s State) error {
	_, err := db.Exec(ctx, `insert into safety_state(meter_id, status, trips, last_trip_at, last_reason, restored_by, restored_at, updated_at)
		values($1, $2, $3, $4, $5, $6, $7, now())
		on conflict (meter_id) do update set status=excluded.status, trips=excluded.trips, last_trip_at=excluded.last_trip_at,
			last_reason=excluded.last_reason, restored_by=excluded.restored_by, restored_at=excluded.restored_at, updated_at=now()`,
		s.MeterID, s.Status, s.Trips, s.LastTripAt, s.LastReason, s.RestoredBy, s.RestoredAt)
	if err != nil {
		return fmt.Errorf("set safety state of %s: %w", s.MeterID, err)
	}
	return nil
}

// GetState reads a meter's safety state; a meter that never tripped is
// normal.
func GetState(ctx context.Context, db *store.DB, meterID string) (State, error) {
	s := State{MeterID: meterID, Status: safetydom.Normal}
	err := db.QueryRow(ctx, `select status, trips, last_trip_at, last_reason, restored_by, restored_at
		from safety_state where meter_id = $1`, meterID).
		Scan(&s.Status, &s.Trips, &s.LastTripAt, &s.LastReason, &s.RestoredBy, &s.RestoredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	return s, err
}

// SwitchInput switches a meter off (Off) or on for safety. A switch-on
// carries the trip's time (Since): an operator's switch-off sent after it
// keeps the meter off.
type SwitchInput struct {
	MeterID string    `json:"meterId"`
	Off     bool      `json:"off"`
	Since   time.Time `json:"since,omitzero"`
}

// OperatorOffSince reports whether a switch-off command (远程拉闸) for the
// meter was created since t and did not fail: the safety switch-on must
// not undo it.
func OperatorOffSince(ctx context.Context, db *store.DB, meterID string, t time.Time) (bool, error) {
	var off bool
	err := db.QueryRow(ctx, `select exists (select 1 from meter_commands where meter_id = $1 and command = 'switch_off'
		and created_at >= $2 and status <> 'failed')`, meterID, t).Scan(&off)
	if err != nil {
		return false, fmt.Errorf("operator switch-off of %s: %w", meterID, err)
	}
	return off, nil
}

// LimitsInput asks for a meter's effective limits.
type LimitsInput struct {
	MeterID string `json:"meterId"`
}

// Target is a meter whose limits changed: a download candidate when its
// profile has the safety-limit block.
type Target struct {
	ID, MeterNo, Profile string
}

// Targets is the meter (meterID) or, for a project's limits (meterID ""),
// every active meter of the project that has no limits of its own.
func Targets(ctx context.Context, db *store.DB, projectID, meterID string) ([]Target, error) {
	rows, err := db.Query(ctx, `select m.id::text, m.meter_no, m.profile from meters m
		where m.project_id=$1 and m.status='active' and m.kind='electricity'
		  and case when $2 = '' then not exists (select 1 from safety_limits s where s.meter_id=m.id) else m.id::text=$2 end
		order by m.meter_no`, projectID, meterID)
	if err != nil {
		return nil, fmt.Errorf("safety download targets: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Target])
}
