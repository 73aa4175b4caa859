// Package tariffs is where a project's tariffs of platform-side prepaid
// (主站费控) are written and assigned to meters.
package tariffs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/tariff"
	"github.com/voltflow/voltflow/store"
)

// ErrExists is a tariff code already taken in the project.
var ErrExists = errors.New("tariffs: code taken")

// ErrNotFound is a tariff code or meter unknown in the project.
var ErrNotFound = errors.New("tariffs: not found")

// ErrNotPlatform is a meter that keeps its balance itself (meter-side
// prepaid): tariffs price platform-side meters only.
var ErrNotPlatform = errors.New("tariffs: meter is meter-side prepaid")

// Create stores a tariff of the project; the caller has checked it
// (tariff.Tariff.Validate). It answers when it was created.
func Create(ctx context.Context, db *store.DB, projectID, code, name string, t tariff.Tariff) (time.Time, error) {
	spec, err := json.Marshal(t)
	if err != nil {
		return time.Time{}, fmt.Errorf("tariff %s: %w", code, err)
	}
	var created time.Time
	err = db.QueryRow(ctx, `insert into tariffs(id, project_id, code, name, spec) values($1,$2,$3,$4,$5)
		returning created_at`, uuid.NewString(), projectID, code, name, spec).Scan(&created)
	if store.IsUniqueViolation(err) {
		return created, fmt.Errorf("%w: %s", ErrExists, code)
	}
	if err != nil {
		return created, fmt.Errorf("create tariff %s: %w", code, err)
	}
	return created, nil
}

// Assign prices a platform-side meter of the project with one of its
// tariffs from now on; assigning the tariff it has changes nothing.
// ErrNotFound: no such tariff (or meter); ErrNotPlatform: a meter-side meter.
func Assign(ctx context.Context, db *store.DB, projectID, meterNo, code string) error {
	var meterID, mode, tariffID string
	err := db.QueryRow(ctx, `select m.id::text, m.prepaid_mode, coalesce((select t.id::text from tariffs t
		where t.project_id=m.project_id and t.code=$3), '') from meters m where m.project_id=$1 and m.meter_no=$2`,
		projectID, meterNo, code).Scan(&meterID, &mode, &tariffID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: meter %s", ErrNotFound, meterNo)
	}
	if err != nil {
		return fmt.Errorf("meter %s: %w", meterNo, err)
	}
	if tariffID == "" {
		return fmt.Errorf("%w: tariff %s", ErrNotFound, code)
	}
	if mode != "platform" {
		return fmt.Errorf("%w: %s", ErrNotPlatform, meterNo)
	}
	if _, err := db.Exec(ctx, `insert into meter_tariffs(meter_id, tariff_id, since) values($1,$2,now())
		on conflict (meter_id) do update set tariff_id=excluded.tariff_id, since=excluded.since
		where meter_tariffs.tariff_id <> excluded.tariff_id`, meterID, tariffID); err != nil {
		return fmt.Errorf("assign tariff %s to %s: %w", code, meterNo, err)
	}
	return nil
}

// ErrNoPriceBlock is a meter-side meter whose profile cannot take a tariff.
var ErrNoPriceBlock = errors.New("tariffs: the meter's profile has no price block")

// Download is what writing a tariff into a meter-side meter's price block
// needs: the meter, its profile and CT × PT, and the tariff.
type Download struct {
	MeterID string
	Profile string
	Ratio   int64
	Tariff  tariff.Tariff
}

// AssignMeterSide assigns a tariff to a meter-side prepaid meter (recorded
// like a platform-side meter's; billing prices only platform-side meters)
// and returns what its download needs. ErrNotFound: no such tariff or
// meter; ErrNotPlatform is never returned.
// check refuses a meter's profile or the tariff (e.g. ErrNoPriceBlock); then
// nothing is assigned.
func AssignMeterSide(ctx context.Context, db *store.DB, projectID, meterNo, code string, check func(profile string, t tariff.Tariff) error) (Download, error) {
	var d Download
	var tariffID string
	var spec []byte
	err := db.QueryRow(ctx, `select m.id::text, m.profile, m.ct_ratio::bigint * m.pt_ratio, coalesce(t.id::text, ''), t.spec
		from meters m left join tariffs t on t.project_id=m.project_id and t.code=$3
		where m.project_id=$1 and m.meter_no=$2 and m.prepaid_mode='meter'`, projectID, meterNo, code).
		Scan(&d.MeterID, &d.Profile, &d.Ratio, &tariffID, &spec)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("%w: meter-side meter %s", ErrNotFound, meterNo)
	}
	if err != nil {
		return d, fmt.Errorf("meter %s: %w", meterNo, err)
	}
	if tariffID == "" {
		return d, fmt.Errorf("%w: tariff %s", ErrNotFound, code)
	}
	if err := json.Unmarshal(spec, &d.Tariff); err != nil {
		return d, fmt.Errorf("tariff %s: %w", code, err)
	}
	if err := check(d.Profile, d.Tariff); err != nil {
		return d, fmt.Errorf("meter %s, profile %s: %w", meterNo, d.Profile, err)
	}
	if _, err := db.Exec(ctx, `insert into meter_tariffs(meter_id, tariff_id, since) values($1,$2,now())
		on conflict (meter_id) do update set tariff_id=excluded.tariff_id, since=excluded.since
		where meter_tariffs.tariff_id <> excluded.tariff_id`, d.MeterID, tariffID); err != nil {
		return d, fmt.Errorf("assign tariff %s to %s: %w", code, meterNo, err)
	}
	return d, nil
}

// FollowInput is one step of keeping a meter without the price block on its
// tariff (workflows/meterprice).
type FollowInput struct {
	ProjectID string    `json:"projectId"`
	MeterID   string    `json:"meterId"`
	MeterNo   string    `json:"meterNo"`
	At        time.Time `json:"at"`
}

// FollowStep is the unit price to write now, the set_unit_price command
// recorded for it (its workflow is the caller's to start), and when the
// price next changes (zero: never). Stop says why there is nothing to
// follow any more (tariff removed, meter now platform-side).
type FollowStep struct {
	Stop       string    `json:"stop,omitempty"`
	Price      int64     `json:"price"`
	Next       time.Time `json:"next"`
	CommandID  string    `json:"commandId"`
	WorkflowID string    `json:"workflowId"`
}

// Follow records the set_unit_price command of the price in force at
// in.At, once per meter, tariff and boundary (its idempotency key), so a
// retried step records nothing new.
func Follow(ctx context.Context, db *store.DB, in FollowInput, commandWorkflowID func(commandID string) string) (FollowStep, error) {
	var out FollowStep
	var tariffID, mode string
	var spec []byte
	var ratio int64
	err := db.QueryRow(ctx, `select coalesce(t.id::text, ''), t.spec, m.prepaid_mode, m.ct_ratio::bigint * m.pt_ratio
		from meters m left join meter_tariffs mt on mt.meter_id=m.id left join tariffs t on t.id=mt.tariff_id
		where m.id=$1`, in.MeterID).Scan(&tariffID, &spec, &mode, &ratio)
	if err != nil {
		return out, fmt.Errorf("tariff of meter %s: %w", in.MeterNo, err)
	}
	if tariffID == "" || mode != "meter" {
		out.Stop = "no tariff to follow (removed, or the meter is platform-side)"
		return out, nil
	}
	var t tariff.Tariff
	if err := json.Unmarshal(spec, &t); err != nil {
		return out, fmt.Errorf("tariff of meter %s: %w", in.MeterNo, err)
	}
	price, next, err := tariff.RateAt(t, ratio, in.At)
	if err != nil {
		out.Stop = err.Error()
		return out, nil
	}
	out.Price, out.Next = price, next
	key := fmt.Sprintf("meter-price/%s/%s/%d", in.MeterNo, tariffID, in.At.Unix()/60)
	args := fmt.Sprintf(`{"unit_price":%d}`, price)
	id := uuid.NewString()
	err = db.QueryRow(ctx, `with ins as (
			insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status, workflow_id, idempotency_key)
			values($1,$2,$3,$4,'set_unit_price',$5::jsonb,'pending',$6,$7) on conflict do nothing returning id::text, workflow_id)
		select id, workflow_id from ins
		union all select id::text, workflow_id from meter_commands where project_id=$2 and idempotency_key=$7
		limit 1`, id, in.ProjectID, in.MeterID, in.MeterNo, args, commandWorkflowID(id), key).Scan(&out.CommandID, &out.WorkflowID)
	if err != nil {
		return out, fmt.Errorf("set_unit_price of %s: %w", in.MeterNo, err)
	}
	return out, nil
}
