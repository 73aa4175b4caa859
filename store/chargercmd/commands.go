// Package chargercmd holds the commands the charger activities
// (activities/chargercmd) send over OCPP and the answers they record in
// charger_commands: workflows and the API build them without importing the
// activities.
package chargercmd

import "time"

// ErrOffline is the error type (temporal.ApplicationError) of a command to
// a charger that is not connected: retryable, callers bound the attempts.
const ErrOffline = "ChargerOffline"

// Result is the charger's answer to a command.
type Result struct {
	CommandID int64  `json:"commandId"`
	Status    string `json:"status"` // Accepted, Rejected, ...
}

// Accepted says whether the charger accepted it.
func (r Result) Accepted() bool { return r.Status == "Accepted" }

// Start asks a charger to start charging IdTag on a connector, optionally
// already limited to LimitW.
type Start struct {
	ChargePointID string  `json:"chargePointId"`
	Connector     int     `json:"connector"`
	IdTag         string  `json:"idTag"`
	LimitW        float64 `json:"limitW,omitempty"` // 0: no limit
	Origin        string  `json:"origin,omitempty"` // who asks: a workflow id, an operator
}

// Stop asks a charger to stop a transaction.
type Stop struct {
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector,omitempty"` // for the log
	TransactionID int    `json:"transactionId"`
	Origin        string `json:"origin,omitempty"`
}

// Limit installs a power limit on a connector as a charging profile:
// TxDefaultProfile (stays for the connector's next sessions) unless
// TransactionID is set (TxProfile, this session only). ProfileID and
// StackLevel let callers replace their own profile (same id) without
// touching others.
type Limit struct {
	ChargePointID string     `json:"chargePointId"`
	Connector     int        `json:"connector"`
	LimitW        float64    `json:"limitW"`
	TransactionID int        `json:"transactionId,omitempty"`
	ProfileID     int        `json:"profileId"`
	StackLevel    int        `json:"stackLevel"`
	ValidTo       *time.Time `json:"validTo,omitempty"`
	Origin        string     `json:"origin,omitempty"`
}

// Release removes a profile installed by Limit.
type Release struct {
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector"`
	ProfileID     int    `json:"profileId"`
	Origin        string `json:"origin,omitempty"`
}

// Availability makes a connector (0: the whole charger) operative or not.
type Availability struct {
	ChargePointID string `json:"chargePointId"`
	Connector     int    `json:"connector"`
	Operative     bool   `json:"operative"`
	Origin        string `json:"origin,omitempty"`
}
