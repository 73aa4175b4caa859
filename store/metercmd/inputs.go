package metercmd

import (
	"time"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
)

// The meter command activities' inputs and results (activities/metercmd):
// workflows build them without importing the activities.

// Error types a workflow must not retry: the meter answered and said no, or
// took the write and shows another state. Unknown meters and profiles are
// meters.ErrTypeMeterConfig.
const (
	ErrTypeRefused      = "MeterRefused"
	ErrTypeNotConfirmed = "MeterNotConfirmed"
)

// SendInput sends one command to one meter.
type SendInput struct {
	CommandID string `json:"commandId"`
	MeterID   string `json:"meterId"`
	Command   string `json:"command"`
}

// Response is the meter's state read back after the write.
type Response struct {
	Relay     int          `json:"relay"`
	Mode      int          `json:"mode"`
	Remaining money.Amount `json:"remaining"`
	Status    int          `json:"statusFlags"`
	ReadAt    time.Time    `json:"readAt"`
	Attempt   int          `json:"attempt"`
}

// StatusInput moves a command back to dispatching (an operator's re-dispatch).
type StatusInput struct {
	CommandID string             `json:"commandId"`
	Status    metercmddom.Status `json:"status"`
}

// Result is the final result of a command on one meter as a workflow
// reports it; Outcome is the same as stored (the response as raw JSON).
type Result struct {
	CommandID string             `json:"commandId"`
	Status    metercmddom.Status `json:"status"` // done or failed
	Response  *Response          `json:"response,omitempty"`
	Failure   string             `json:"failure,omitempty"`
}

// PageInput asks for the next commands of a batch still to be sent.
type PageInput struct {
	BatchID      string `json:"batchId"`
	AfterMeterNo string `json:"afterMeterNo"`
	Limit        int    `json:"limit"`
}

// RecordInput is a set of per-meter results of a batch.
type RecordInput struct {
	BatchID  string   `json:"batchId"`
	Outcomes []Result `json:"outcomes"`
}

// FinishInput ends a batch.
type FinishInput struct {
	BatchID string `json:"batchId"`
}
