package fee

import (
	"go.temporal.io/sdk/workflow"

	feestore "github.com/voltflow/voltflow/store/fee"
	smsstore "github.com/voltflow/voltflow/store/sms"
)

// The fee activities (activities/fee) and the SMS activity
// (activities/sms), executed by their registered names.

// dueFees' result is a feestore.DueResult.
func dueFees(ctx workflow.Context, in feestore.DueInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DueFees", in)
}

// bookFees' result is a feestore.BatchResult.
func bookFees(ctx workflow.Context, in feestore.BatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "BookFees", in)
}

// sendSMS's result is an SMS send result (unused).
func sendSMS(ctx workflow.Context, in smsstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendSMS", in)
}
