// Package chargeorder holds the activities of charging orders (C7): thin
// adapters over store/chargeorder, which opens an order (who pays, the
// pricing in force) and settles it (prices the meter samples and books the
// payment in the same transaction).
package chargeorder

import (
	"context"

	"github.com/voltflow/voltflow/store"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
)

// RevenueAccount is the income account charging payments are credited to.
const RevenueAccount = chargeorderstore.RevenueAccount

// Abnormal flags of an order.
const (
	NoStop         = chargeorderstore.NoStop
	MeterBackwards = chargeorderstore.MeterBackwards
	ZeroEnergy     = chargeorderstore.ZeroEnergy
	Overdrawn      = chargeorderstore.Overdrawn
)

// The activities' inputs live in store/chargeorder, so workflows build them
// without importing this package.
type (
	OpenInput      = chargeorderstore.Transaction
	FailStartInput = chargeorderstore.FailStartInput
)

// TxOrderID is the order id of an OCPP transaction (chargeorder.TxOrderID).
func TxOrderID(chargePointID string, transactionID int) string {
	return chargeorderstore.TxOrderID(chargePointID, transactionID)
}

// Activities are the order's database activities (task queue voltflow-main).
type Activities struct {
	DB *store.DB
}

// Opened is the order as the workflow follows it (store/chargeorder).
type Opened = chargeorderstore.Opened

// OpenChargingOrder records the order (once: a repeated call returns the same) and
// loads its pricing (chargeorder.Open).
func (a *Activities) OpenChargingOrder(ctx context.Context, in OpenInput) (Opened, error) {
	return chargeorderstore.Open(ctx, a.DB, in)
}

// FailAppStart fails the order if it is still starting (the charger
// refused, was offline or never sent StartTransaction).
func (a *Activities) FailAppStart(ctx context.Context, in FailStartInput) error {
	return chargeorderstore.FailStart(ctx, a.DB, in.OrderID, in.Reason)
}

// SettleInput ends an order (store/chargeorder).
type SettleInput = chargeorderstore.SettleInput

// Settled is the priced, paid order (store/chargeorder).
type Settled = chargeorderstore.Settled

// SettleChargingOrder prices, books and completes the order
// (chargeorder.Settle).
func (a *Activities) SettleChargingOrder(ctx context.Context, in SettleInput) (Settled, error) {
	return chargeorderstore.Settle(ctx, a.DB, in)
}
