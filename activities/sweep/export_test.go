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
	b := &batch{rows: make([]row, len(ids))}
	for i, id := range ids {
		b.rows[i] = row{meter: id, takenAt: takenAt, s: modbus.Snapshot{Energy: energy + int64(i), Voltage: 2200,
			Remaining: 5000, PurchaseCount: 1, CumulativePurchased: 5000}}
	}
	return b
}

// Write is the batch write of SweepBatch.
func (a *Activities) Write(ctx context.Context, at time.Time, b *Batch) error {
	_, err := a.write(ctx, at, b)
	return err
}

// WritePhases is Write, telling how long the readings' COPY and the state
// upsert took. A function, not a method: tests register Activities whole.
func WritePhases(ctx context.Context, a *Activities, at time.Time, b *Batch) (readings, state time.Duration, err error) {
	ph, err := a.write(ctx, at, b)
	return ph.readings, ph.state, err
}

// WriteStaged is Write through the conflict-proof staging path.
func (a *Activities) WriteStaged(ctx context.Context, at time.Time, b *Batch) error {
	var ph phases
	return a.writeTx(ctx, at, a.now(), b, true, &ph)
}

// NumericCopy is a binary COPY stream of one numeric column: v[i]×10^-places[i].
func NumericCopy(v []int64, places []int) []byte {
	b := append([]byte(nil), copyBinaryHeader...)
	for i := range v {
		b = appendFieldCount(b, 1)
		b = appendNumeric(b, v[i], places[i])
	}
	return append(b, copyBinaryTrailer...)
}
