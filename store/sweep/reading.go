// Package sweep holds what the meter sweep writes in PostgreSQL — a batch's
// readings, the latest state, contact counters and lost-contact events, in
// one transaction — and the fresh state of one meter the API's on-demand
// read answers with. The sweep's activities (activities/sweep) read the
// devices and write through it.
package sweep

import (
	"time"

	"github.com/voltflow/voltflow/domain/money"
)

// MeterReading is the fresh state of one meter.
type MeterReading struct {
	MeterNo       string       `json:"meterNo"`
	Remaining     money.Amount `json:"remaining"`
	PurchaseCount int          `json:"purchaseCount"`
	EnergyCenti   int64        `json:"energyCentiKwh"` // 0.01 kWh
	Relay         int          `json:"relay"`
	Mode          int          `json:"mode"`
	ReadAt        time.Time    `json:"readAt"`
}
