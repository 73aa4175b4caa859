// Package alarm is the Temporal adapter over store/alarm for the alarm
// workflows: a meter's alarm policy and recipients, and the alarm records
// (open / closed, stage history) they keep.
package alarm

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	alarmdom "github.com/voltflow/voltflow/domain/alarm"
	"github.com/voltflow/voltflow/store"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
)

// ErrTypeConfig marks an alarm that cannot run (unknown meter, bad ratios).
const ErrTypeConfig = alarmstore.ErrTypeConfig

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
}

// The stored types are the activities' results and the workflows' inputs;
// the aliases keep them where the workflows (and their histories) expect.
type (
	Recipient     = alarmstore.Recipient
	Policy        = alarmstore.Policy
	Stage         = alarmstore.Stage
	Condition     = alarmstore.Condition
	OpenCondition = alarmstore.OpenCondition
	Scan          = alarmstore.Scan
)

// ScanConditions is store/alarm's scan, which workflows/alarm's scanner
// runs.
func ScanConditions(ctx context.Context, db *store.DB, projectID string, at time.Time) (Scan, error) {
	return alarmstore.ScanConditions(ctx, db, projectID, at)
}

// The activities' inputs live in store/alarm, so workflows build them
// without importing this package.
type (
	PolicyInput          = alarmstore.PolicyInput
	ConditionPolicyInput = alarmstore.ConditionPolicyInput
	OpenInput            = alarmstore.NewAlarm
	StageInput           = alarmstore.StageInput
	CloseInput           = alarmstore.CloseInput
)

// LoadPolicy reads the meter's policy and recipients (alarm.LoadPolicy). An
// unknown meter or ratios the meter's alarm amount cannot use fail for good.
func (a *Activities) LoadPolicy(ctx context.Context, in PolicyInput) (Policy, error) {
	p, err := alarmstore.LoadPolicy(ctx, a.DB, in.MeterID)
	if errors.Is(err, alarmstore.ErrUnknownMeter) {
		return p, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConfig, err)
	}
	if err != nil {
		return p, err
	}
	if _, err := alarmdom.Thresholds(p.AlarmAmount, p.Ratios); err != nil {
		return p, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConfig, err)
	}
	return p, nil
}

// LoadConditionPolicy reads who gets a condition alarm and the quiet hours
// (alarm.LoadConditionPolicy: never the tenant's own phone).
func (a *Activities) LoadConditionPolicy(ctx context.Context, in ConditionPolicyInput) (Policy, error) {
	return alarmstore.LoadConditionPolicy(ctx, a.DB, in.ProjectID, in.MeterID)
}

// OpenAlarm records the alarm as open, once (alarm.Open).
func (a *Activities) OpenAlarm(ctx context.Context, in OpenInput) error {
	return alarmstore.Open(ctx, a.DB, in)
}

// RecordStage appends a stage to the alarm's history once, and the next
// threshold the reading hook watches for.
func (a *Activities) RecordStage(ctx context.Context, in StageInput) error {
	return alarmstore.RecordStage(ctx, a.DB, in.AlarmID,
		Stage{Stage: in.Stage, At: in.At, Recipients: in.Recipients, Outcome: in.Outcome}, in.NextThreshold)
}

// CloseAlarm marks the alarm closed (once).
func (a *Activities) CloseAlarm(ctx context.Context, in CloseInput) error {
	return alarmstore.Close(ctx, a.DB, in.AlarmID, in.At, in.Resolution)
}
