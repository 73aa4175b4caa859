package chargeorder

import (
	"fmt"

	"github.com/google/uuid"
)

// The charging order activities' inputs (activities/chargeorder; settle.go
// has the settlement's): workflows build them without importing the
// activities.

// orderNS makes order ids of charger-started transactions deterministic, so
// every hook call for one transaction reaches the same workflow.
var orderNS = uuid.MustParse("5d1f3d8e-61a4-4b8e-9d4e-0c6f1f6d2a11")

// TxOrderID is the order id of an OCPP transaction.
func TxOrderID(chargePointID string, transactionID int) string {
	return uuid.NewSHA1(orderNS, fmt.Appendf(nil, "%s/%d", chargePointID, transactionID)).String()
}

// FailStartInput fails an app start that did not begin.
type FailStartInput struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}
