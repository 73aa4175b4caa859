package sweep

import (
	"time"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/devices/modbus"
)

// NewBatch is a batch of one answered reading per meter.
func NewBatch(ids []uuid.UUID, takenAt time.Time, energy int64) *Batch {
	b := &Batch{Rows: make([]Row, len(ids))}
	for i, id := range ids {
		b.Rows[i] = Row{Meter: id, TakenAt: takenAt, S: modbus.Snapshot{Energy: energy + int64(i), Voltage: 2200,
			Remaining: 5000, PurchaseCount: 1, CumulativePurchased: 5000}}
	}
	return b
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
