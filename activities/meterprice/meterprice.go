// Package meterprice is the Temporal adapter of keeping a meter-side meter
// without the price block on its TOU tariff: each step records the
// set_unit_price command of the price in force (store/tariffs.Follow).
package meterprice

import (
	"context"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/tariffs"
)

// Inputs and results live in store/tariffs.
type (
	FollowInput = tariffs.FollowInput
	FollowStep  = tariffs.FollowStep
)

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
}

// FollowTariff records the unit price to write now and says when it next
// changes.
func (a *Activities) FollowTariff(ctx context.Context, in FollowInput) (FollowStep, error) {
	return tariffs.Follow(ctx, a.DB, in, func(id string) string { return "meter-command/" + id })
}
