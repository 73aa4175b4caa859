package organisation

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Settings are a project's own settings (S4). A nil field is not set: the
// server's default applies.
type Settings struct {
	ReadingInterval *string       // a Go duration
	AutoApproveUpTo money.Amount  // recharges up to this are approved by policy
	HoardingCap     *money.Amount // 囤积金额上限
	DefaultPrice    *money.Price  // for new meters
	Alarm1, Alarm2  money.Amount  // for new meters
	// Overdraft is the emergency overdraft (应急透支) of the project's
	// platform-side meters without one of their own or of their account.
	Overdraft *money.Amount
	// AlarmScanInterval (a Go duration) is how often the alarm conditions
	// are scanned; nil is VOLTFLOW_ALARM_SCAN_INTERVAL.
	AlarmScanInterval *string
	// ReadingRetentionMonths is how many months of readings stay in
	// PostgreSQL before the archive moves them to files (S5); nil: all.
	ReadingRetentionMonths *int
}

// ProjectSettings reads a project's settings.
func ProjectSettings(ctx context.Context, db *store.DB, projectID string) (Settings, error) {
	var s Settings
	var cap, price, overdraft *string
	err := db.QueryRow(ctx, `select reading_interval, auto_approve_up_to::text, hoarding_cap::text, default_price::text,
		alarm1::text, alarm2::text, overdraft::text, alarm_scan_interval, reading_retention_months from projects where id=$1`, projectID).Scan(
		&s.ReadingInterval, &s.AutoApproveUpTo, &cap, &price, &s.Alarm1, &s.Alarm2, &overdraft, &s.AlarmScanInterval,
		&s.ReadingRetentionMonths)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("%w: project %s", ErrNotFound, projectID)
	}
	if err == nil && cap != nil {
		var a money.Amount
		a, err = money.Parse(*cap)
		s.HoardingCap = &a
	}
	if err == nil && overdraft != nil {
		var a money.Amount
		a, err = money.Parse(*overdraft)
		s.Overdraft = &a
	}
	if err == nil && price != nil {
		var p money.Price
		p, err = money.ParsePrice(*price)
		s.DefaultPrice = &p
	}
	if err != nil {
		return s, fmt.Errorf("settings of project %s: %w", projectID, err)
	}
	return s, nil
}

// SetProjectSettings replaces a project's settings.
func SetProjectSettings(ctx context.Context, db *store.DB, projectID string, s Settings) error {
	var cap, price, overdraft *string
	if s.Overdraft != nil {
		v := s.Overdraft.String()
		overdraft = &v
	}
	if s.HoardingCap != nil {
		v := s.HoardingCap.String()
		cap = &v
	}
	if s.DefaultPrice != nil {
		v := s.DefaultPrice.String()
		price = &v
	}
	tag, err := db.Exec(ctx, `update projects set reading_interval=$2, auto_approve_up_to=$3, hoarding_cap=$4,
		default_price=$5, alarm1=$6, alarm2=$7, overdraft=$8, alarm_scan_interval=$9, reading_retention_months=$10 where id=$1`, projectID,
		s.ReadingInterval, s.AutoApproveUpTo.String(), cap, price, s.Alarm1.String(), s.Alarm2.String(), overdraft,
		s.AlarmScanInterval, s.ReadingRetentionMonths)
	if err != nil {
		return fmt.Errorf("set settings of project %s: %w", projectID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: project %s", ErrNotFound, projectID)
	}
	return nil
}
