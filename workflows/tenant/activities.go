package tenant

import (
	"go.temporal.io/sdk/workflow"

	smsstore "github.com/voltflow/voltflow/store/sms"
)

// sendSMS is activities/sms SendSMS, executed by its registered name.
func sendSMS(ctx workflow.Context, in smsstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendSMS", in)
}
