// Package charging holds what the OCPP central system (activities/centralsystem)
// tells the rest of the platform about transactions and faults: charging
// orders, smart dispatch and work orders follow these events.
package charging

import (
	"time"

	"github.com/voltflow/voltflow/domain/chargefault"
)

// TxKind says what happened to a transaction.
type TxKind string

// Transaction events.
const (
	TxStarted TxKind = "started"
	TxMeter   TxKind = "meter"
	TxStopped TxKind = "stopped"
)

// TxEvent is what the central system tells the rest of the platform about a
// transaction, after it is stored: charging orders follow these.
type TxEvent struct {
	Kind          TxKind
	ChargePointID string
	Connector     int
	ConnectorID   string
	TransactionID int
	IdTag         string
	Authorized    bool // the card's standing at start (Accepted)
	MeterWh       int64
	PowerW        *float64
	SOC           *int
	Reason        string // stop reason
	At            time.Time
}

// FaultEvent is a fault episode beginning or ending (recorded in
// charger_faults first): work orders and the regulator's alarm pushes
// follow these.
type FaultEvent struct {
	FaultID       int64
	ChargePointID string
	Connector     int // 0: the charge point as a whole
	OCPPCode      string
	VendorCode    string
	Info          string
	Alarm         chargefault.Alarm
	Recovered     bool
	At            time.Time // start, or recovery
}
