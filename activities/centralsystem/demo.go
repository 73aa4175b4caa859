package centralsystem

import (
	"context"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
)

// The allow-list and the demo live in store/charger; these names stay for
// the central system's callers (cmd, simulators, end-to-end tests).
const (
	DemoPassword = charger.DemoPassword
	DemoCard     = charger.DemoCard
)

// Enroll allow-lists registry equipment as an OCPP charge point
// (charger.Enroll).
func Enroll(ctx context.Context, db *store.DB, equipmentID, projectID, password string) error {
	return charger.Enroll(ctx, db, equipmentID, projectID, password)
}

// LoadDemo allow-lists the demo chargers and issues the demo card
// (charger.LoadDemo).
func LoadDemo(ctx context.Context, db *store.DB, projectID string) error {
	return charger.LoadDemo(ctx, db, projectID)
}
