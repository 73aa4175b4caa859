// Package billing holds what workflows send to the platform-side billing
// activities (activities/billing), so that they and the API that starts
// them build it without importing the activities.
package billing

import "github.com/voltflow/voltflow/domain/money"

// CreditInput is a completed sale (售电) to a platform-side meter.
type CreditInput struct {
	RechargeID string       `json:"rechargeId"`
	ProjectID  string       `json:"projectId"`
	MeterID    string       `json:"meterId"`
	MeterNo    string       `json:"meterNo"`
	Amount     money.Amount `json:"amount"`
}
