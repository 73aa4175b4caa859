// Package platformbilling holds what workflows exchange with the platform-side
// billing activities (activities/platformbilling), so that they and the API that
// starts them use it without importing the activities, and the emergency
// overdraft allowances (overdraft.go) the API sets and billing reads.
package platformbilling

import "github.com/voltflow/voltflow/domain/money"

// CreditInput is a completed sale (售电) to a platform-side meter.
type CreditInput struct {
	RechargeID string       `json:"rechargeId"`
	ProjectID  string       `json:"projectId"`
	MeterID    string       `json:"meterId"`
	MeterNo    string       `json:"meterNo"`
	Amount     money.Amount `json:"amount"`
}

// Switch is a switch-off or switch-on billing decided, recorded as a meter
// command in the same transaction as the charge that caused it.
type Switch struct {
	CommandID   string `json:"commandId"`
	WorkflowID  string `json:"workflowId"`
	ProjectID   string `json:"projectId"`
	ProjectCode string `json:"projectCode"`
	MeterID     string `json:"meterId"`
	MeterNo     string `json:"meterNo"`
	Command     string `json:"command"`
	// Balance is the meter wallet when it was decided (without overdraft).
	Balance money.Amount `json:"balance"`
}
