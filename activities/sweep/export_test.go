package sweep

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/devices/modbus"
)

// Batch lets the external tests drive the write path alone.
type Batch = batch

// NewBatch is a batch of one answered reading per meter.
func NewBatch(ids []uuid.UUID, takenAt time.Time, energy int64) *Batch {
	b := &batch{Rows: make([]row, len(ids))}
	for i, id := range ids {
		b.Rows[i] = row{Meter: id, TakenAt: takenAt, S: modbus.Snapshot{Energy: energy + int64(i), Voltage: 2200,
			Remaining: 5000, PurchaseCount: 1, CumulativePurchased: 5000}}
	}
	return b
}

// Write is the batch write of SweepBatch.
func (a *Activities) Write(ctx context.Context, at time.Time, b *Batch) error {
	_, err := a.write(ctx, at, b)
	return err
}
