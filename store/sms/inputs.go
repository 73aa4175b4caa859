package sms

// ErrTypeUndeliverable is the error type (temporal.ApplicationError) of a
// message every configured provider rejected (activities/sms): retrying
// cannot help, the alarm records it and goes on.
const ErrTypeUndeliverable = "SMSUndeliverable"

// SendInput is one SMS to one recipient. (WorkflowID, AlarmID, Stage,
// Recipient) identify it: sending it again is a no-op.
type SendInput struct {
	ProjectID  string            `json:"projectId"`
	WorkflowID string            `json:"workflowId"`
	AlarmID    string            `json:"alarmId"`
	Stage      string            `json:"stage"`
	Recipient  string            `json:"recipient"`
	Kind       string            `json:"kind"`
	MeterNo    string            `json:"meterNo"`
	Template   string            `json:"template"`
	Values     map[string]string `json:"values"`
	// Urgent messages (arrears cut-off, a trip) are never held back by the
	// per-number rate limit.
	Urgent bool `json:"urgent,omitempty"`
	// Secret names the values only the recipient may read (a login code):
	// the provider gets them, the stored message (what operators read at
	// GET /api/v1/sms) has them masked.
	Secret []string `json:"secret,omitempty"`
}
