// Package chargeorder holds the activities of charging orders (C7): thin
// adapters over store/chargeorder, which opens an order (who pays, the
// pricing in force) and settles it (prices the meter samples and books the
// payment in the same transaction).
package chargeorder

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/chargeorder"
)

// RevenueAccount is the income account charging payments are credited to.
const RevenueAccount = chargeorder.RevenueAccount

// Abnormal flags of an order.
const (
	NoStop         = chargeorder.NoStop
	MeterBackwards = chargeorder.MeterBackwards
	ZeroEnergy     = chargeorder.ZeroEnergy
	Overdrawn      = chargeorder.Overdrawn
)

// orderNS makes order ids of charger-started transactions deterministic, so
// every hook call for one transaction reaches the same workflow.
var orderNS = uuid.MustParse("5d1f3d8e-61a4-4b8e-9d4e-0c6f1f6d2a11")

// TxOrderID is the order id of an OCPP transaction.
func TxOrderID(chargePointID string, transactionID int) string {
	return uuid.NewSHA1(orderNS, fmt.Appendf(nil, "%s/%d", chargePointID, transactionID)).String()
}

// Activities are the order's database activities (task queue voltflow-main).
type Activities struct {
	DB *store.DB
}

// OpenInput opens the order of a transaction.
type OpenInput struct {
	OrderID       string `json:"orderId"`
	WorkflowID    string `json:"workflowId"`
	ChargePointID string `json:"chargePointId"`
	TransactionID int    `json:"transactionId"`
}

// Opened is the order as the workflow follows it (store/chargeorder).
type Opened = chargeorder.Opened

// OpenChargingOrder records the order (once: a repeated call returns the same) and
// loads its pricing (chargeorder.Open).
func (a *Activities) OpenChargingOrder(ctx context.Context, in OpenInput) (Opened, error) {
	return chargeorder.Open(ctx, a.DB, chargeorder.Transaction(in))
}

// FailStartInput fails an app start that did not begin.
type FailStartInput struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}

// FailAppStart fails the order if it is still starting (the charger
// refused, was offline or never sent StartTransaction).
func (a *Activities) FailAppStart(ctx context.Context, in FailStartInput) error {
	return chargeorder.FailStart(ctx, a.DB, in.OrderID, in.Reason)
}

// SettleInput ends an order (store/chargeorder).
type SettleInput = chargeorder.SettleInput

// Settled is the priced, paid order (store/chargeorder).
type Settled = chargeorder.Settled

// SettleChargingOrder prices, books and completes the order
// (chargeorder.Settle).
func (a *Activities) SettleChargingOrder(ctx context.Context, in SettleInput) (Settled, error) {
	return chargeorder.Settle(ctx, a.DB, in)
}
