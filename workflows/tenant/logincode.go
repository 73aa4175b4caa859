// Package tenant holds the workflows of tenant self-service: the SMS that
// carries a one-time login code (login-code/<code id>), sent through the
// same SMS providers, failover and records as every other message.
package tenant

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	smsstore "github.com/voltflow/voltflow/store/sms"
)

// Names shared with the API.
const (
	KindLoginCode = "login-code"
	// TemplateLoginCode is the SMS template of a code (activities/sms).
	TemplateLoginCode = "login_code"
)

// LoginCodeWorkflowID is the workflow of one code.
func LoginCodeWorkflowID(codeID string) string { return "login-code/" + codeID }

// LoginCodeInput sends one code. The code is in the input because the SMS
// carries it; the database keeps only its hash.
type LoginCodeInput struct {
	CodeID    string `json:"codeId"`
	ProjectID string `json:"projectId"`
	Phone     string `json:"phone"`
	Code      string `json:"code"`
}

// LoginCode sends the code's SMS, retried while the code is still valid.
func LoginCode(ctx workflow.Context, in LoginCodeInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, HeartbeatTimeout: 20 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute, // the code's life: later it is useless
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{smsstore.ErrTypeUndeliverable}},
	})
	return sendSMS(ctx, smsstore.SendInput{ProjectID: in.ProjectID, WorkflowID: LoginCodeWorkflowID(in.CodeID), AlarmID: in.CodeID,
		Stage: "login_code", Recipient: in.Phone, Kind: "login_code", Template: TemplateLoginCode,
		Values: map[string]string{"code": in.Code}, Urgent: true,
		// Operators read the SMS log: the code is for the tenant alone.
		Secret: []string{"code"}}).Get(ctx, nil)
}
