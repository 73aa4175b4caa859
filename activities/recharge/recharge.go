// Package recharge is the Temporal face of store/recharge: each activity
// books or records one step of a recharge through the store's functions.
// Each activity is idempotent.
package recharge

import (
	"context"

	"github.com/voltflow/voltflow/store"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

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

// SettleRecharge moves the sale to the meter's wallet and completes the recharge.
func (a *Activities) SettleRecharge(ctx context.Context, in SettleInput) error {
	return rechargestore.SettleRecharge(ctx, a.DB, in)
}
