// Package meters holds what workflows send to and get back from the meter
// activities (activities/meters): a counted operation — a sale (售电) or a
// refund (退电) — delivered to a meter-side prepaid meter. Workflows and the
// API that starts them build these without importing the activities.
package meters

import (
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// Error types (temporal.ApplicationError) the meter activities fail with
// that retrying cannot fix.
const (
	// ErrTypeMeterConfig: unknown meter, bad address or profile.
	ErrTypeMeterConfig = "MeterConfig"
	// ErrTypeInsufficient marks a refund the meter cannot pay because it
	// holds less than the amount: retrying will not help until someone
	// recharges it.
	ErrTypeInsufficient = "MeterInsufficient"
)

// DispatchInput sends one recharge to its meter.
type DispatchInput struct {
	RechargeID string       `json:"rechargeId"`
	MeterID    string       `json:"meterId"`
	Amount     money.Amount `json:"amount"`
}

// DispatchResult is what the meter showed after taking the recharge or refund.
type DispatchResult struct {
	Counter       int          `json:"counter"`       // purchase counter this operation created
	PurchaseCount int          `json:"purchaseCount"` // the meter's counter read back
	Remaining     money.Amount `json:"remaining"`     // the meter's remaining money read back
}

// ReadInput names a meter to read (activities/meters.ReadMeter).
type ReadInput struct {
	MeterID string `json:"meterId"`
}

// Reading is a meter's state in business units. EnergyKwh is the total
// forward active energy counter (0.01 kWh); zero in histories written
// before it was read.
type Reading struct {
	MeterNo       string       `json:"meterNo"`
	Remaining     money.Amount `json:"remaining"`
	PurchaseCount int          `json:"purchaseCount"`
	Relay         int          `json:"relay"`
	Mode          int          `json:"mode"`
	ReadAt        time.Time    `json:"readAt"`
	EnergyKwh     money.Amount `json:"energyKwh"`
}

// RefundDispatchInput takes one refund (退电) or reversal (冲正) off its meter.
type RefundDispatchInput struct {
	RefundID string       `json:"refundId"`
	MeterID  string       `json:"meterId"`
	Amount   money.Amount `json:"amount"`
	// KeepPower (不断电退费): the meter is put into protect mode (保电) before
	// the deduction, so a balance run down to zero does not trip it.
	KeepPower bool `json:"keepPower,omitempty"`
}
