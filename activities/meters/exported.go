package meters

import (
	"context"
	"time"

	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/store"
)

// LoadMeter is what other device activities (meter commands) need to reach a
// meter: its gateway address, unit id and profile. An unknown meter is
// ErrUnknownMeter.
func LoadMeter(ctx context.Context, db *store.DB, meterID string) (Meter, error) {
	return loadMeter(ctx, db, meterID)
}

// SaveState records a reading as the meter's last known state, unless a
// later reading is already recorded.
func SaveState(ctx context.Context, db *store.DB, meterID string, s modbus.Snapshot, at time.Time) error {
	return saveState(ctx, db, meterID, s, at)
}

// ConfigError marks an error retrying cannot fix (type ErrTypeMeterConfig).
func ConfigError(err error) error { return configError(err) }
