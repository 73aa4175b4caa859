// Package recharge is the Temporal face of store/recharge: each activity
// books or records one step of a recharge through the store's functions.
// Each activity is idempotent.
package recharge

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// Switcher starts a switch command's workflow (workflows/platformbilling);
// starting one twice is harmless.
type Switcher interface {
	StartSwitch(ctx context.Context, s feestore.Switch) error
}

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
	// Switch starts the switch-on of a meter whose property-fee hold the
	// recharge released (store/fee cutoff.go; nil: recorded, not started).
	Switch Switcher
}

// Inputs of the activities; they are the store's, so a workflow's history
// encodes the same JSON as before the store moved out.
type (
	StatusInput = rechargestore.StatusInput
	BookInput   = rechargestore.BookInput
	SettleInput = rechargestore.SettleInput
)

// SetRechargeStatus writes the status the API shows.
func (a *Activities) SetRechargeStatus(ctx context.Context, in StatusInput) error {
	return rechargestore.SetRechargeStatus(ctx, a.DB, in)
}

// BookRecharge books the sale and marks the recharge dispatching.
func (a *Activities) BookRecharge(ctx context.Context, in BookInput) error {
	return rechargestore.BookRecharge(ctx, a.DB, in)
}

// SettleRecharge moves the sale to the meter's wallet and completes the
// recharge. A wallet that now owes nothing releases the meter's
// property-fee hold, if any: its switch-on is recorded and started (a
// retry finds it pending and starts it again).
func (a *Activities) SettleRecharge(ctx context.Context, in SettleInput) error {
	if err := rechargestore.SettleRecharge(ctx, a.DB, in); err != nil {
		return err
	}
	sw, err := feestore.Release(ctx, a.DB, in.ProjectID, in.MeterNo)
	if err != nil || sw == nil || a.Switch == nil {
		return err
	}
	if err := a.Switch.StartSwitch(ctx, *sw); err != nil {
		return fmt.Errorf("start fee hold switch-on of meter %s: %w", in.MeterNo, err)
	}
	return nil
}
