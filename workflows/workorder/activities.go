package workorder

import (
	"go.temporal.io/sdk/workflow"

	smsstore "github.com/voltflow/voltflow/store/sms"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
)

// The activities a work order runs (activities/workorder, activities/sms),
// executed by their registered names: the API imports this package to
// signal work orders and must not pull in the activities and what they
// depend on.

// openWorkOrder's result is a wostore.Opened.
func openWorkOrder(ctx workflow.Context, in workorderstore.OpenInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "OpenWorkOrder", in)
}

func recordWorkOrderFault(ctx workflow.Context, in workorderstore.FaultInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RecordWorkOrderFault", in)
}

func acknowledgeWorkOrder(ctx workflow.Context, in workorderstore.AckInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "AcknowledgeWorkOrder", in)
}

func closeWorkOrder(ctx workflow.Context, in workorderstore.CloseInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CloseWorkOrder", in)
}

func escalateWorkOrder(ctx workflow.Context, in workorderstore.EscalateInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "EscalateWorkOrder", in)
}

func sendSMS(ctx workflow.Context, in smsstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendSMS", in)
}
