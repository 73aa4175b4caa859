package alarm

import (
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// The alarm activities' inputs (activities/alarm; NewAlarm is OpenAlarm's):
// workflows build them without importing the activities.

// ErrTypeConfig is the error type (temporal.ApplicationError) of an alarm
// that cannot run (unknown meter, bad ratios).
const ErrTypeConfig = "AlarmConfig"

// PolicyInput names the meter.
type PolicyInput struct {
	MeterID string `json:"meterId"`
}

// ConditionPolicyInput names the subject of a condition alarm.
type ConditionPolicyInput struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"` // empty for a gateway
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

// CloseInput closes an alarm.
type CloseInput struct {
	AlarmID    string    `json:"alarmId"`
	At         time.Time `json:"at"`
	Resolution string    `json:"resolution"` // recharged, recovered
}
