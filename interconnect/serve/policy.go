package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Freshness is the accepted TimeStamp skew (±) of requests from the
// regulator whose credentials carry operatorID, as set with SetFreshness;
// zero means the platform default (envelope.DefaultReplayWindow, or
// Config.ReplayWindow).
func Freshness(ctx context.Context, db *store.DB, operatorID string) (time.Duration, error) {
	var s *int
	err := db.QueryRow(ctx, `select p.freshness_s from regulator_policies p
		where p.regulator in (select regulator from regulator_credentials where operator_id=$1)
		order by p.updated_at desc limit 1`, operatorID).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && s == nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("freshness of %s: %w", operatorID, err)
	}
	return time.Duration(*s) * time.Second, nil
}

// Freshness bounds (whole seconds).
const (
	MinFreshness = time.Second
	MaxFreshness = 24 * time.Hour
)

// ErrFreshness is a window outside MinFreshness..MaxFreshness.
var ErrFreshness = errors.New("serve: freshness window must be 1s..24h in whole seconds")

// SetFreshness sets the regulator's accepted TimeStamp skew; zero returns
// it to the platform default.
func SetFreshness(ctx context.Context, db *store.DB, regulator string, d time.Duration) error {
	var s *int
	if d != 0 {
		if d < MinFreshness || d > MaxFreshness || d%time.Second != 0 {
			return ErrFreshness
		}
		n := int(d / time.Second)
		s = &n
	}
	if _, err := db.Exec(ctx, `insert into regulator_policies (regulator, freshness_s, updated_at) values ($1,$2,now())
		on conflict (regulator) do update set freshness_s=excluded.freshness_s, updated_at=now()`, regulator, s); err != nil {
		return fmt.Errorf("freshness of %s: %w", regulator, err)
	}
	return nil
}

// RegulatorFreshness is the regulator's setting (zero: the default).
func RegulatorFreshness(ctx context.Context, db *store.DB, regulator string) (time.Duration, error) {
	var s *int
	err := db.QueryRow(ctx, `select freshness_s from regulator_policies where regulator=$1`, regulator).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && s == nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return time.Duration(*s) * time.Second, nil
}
