// Package dispatch is the Temporal face of store/dispatch: the planner's view
// of what runs on a station's connectors, read through the store.
package dispatch

import (
	"context"

	"github.com/voltflow/voltflow/store"
	dispatchstore "github.com/voltflow/voltflow/store/dispatch"
)

// Activities read dispatch state (task queue voltflow-main).
type Activities struct {
	DB *store.DB
}

// The store's types, so workflows and their histories keep the same names
// and JSON as before the store moved out.
type (
	Target        = dispatchstore.Target
	Active        = dispatchstore.Active
	SnapshotInput = dispatchstore.SnapshotInput
)

// DispatchSnapshot lists the active transactions of the chargers with the
// last SOC each reported: the planner's view of who is plugged in.
func (a *Activities) DispatchSnapshot(ctx context.Context, in SnapshotInput) ([]Active, error) {
	return dispatchstore.DispatchSnapshot(ctx, a.DB, in)
}
