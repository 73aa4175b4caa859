package alarm

import (
	"go.temporal.io/sdk/workflow"

	alarmstore "github.com/voltflow/voltflow/store/alarm"
	smsstore "github.com/voltflow/voltflow/store/sms"
)

// The alarm record and SMS activities (activities/alarm, activities/sms),
// executed by their registered names: workflow packages leave the
// activities, and what they depend on, to the workers' registry.

// loadPolicy's result is an alarmstore.Policy.
func loadPolicy(ctx workflow.Context, in alarmstore.PolicyInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "LoadPolicy", in)
}

// loadConditionPolicy's result is an alarmstore.Policy.
func loadConditionPolicy(ctx workflow.Context, in alarmstore.ConditionPolicyInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "LoadConditionPolicy", in)
}

func openAlarm(ctx workflow.Context, in alarmstore.NewAlarm) workflow.Future {
	return workflow.ExecuteActivity(ctx, "OpenAlarm", in)
}

func recordStage(ctx workflow.Context, in alarmstore.StageInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RecordStage", in)
}

func closeAlarm(ctx workflow.Context, in alarmstore.CloseInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CloseAlarm", in)
}

func sendSMS(ctx workflow.Context, in smsstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendSMS", in)
}
