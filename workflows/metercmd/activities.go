package metercmd

import (
	"go.temporal.io/sdk/workflow"

	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
)

// The meter command activities (activities/metercmd: Devices on the devices
// queue, Activities on the main queue), executed by their registered names:
// the API imports this package to start commands and must not pull in the
// activities and what they depend on.

// sendMeterCommand's result is a metercmd.Response.
func sendMeterCommand(ctx workflow.Context, in metercmdstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendMeterCommand", in)
}

func setMeterCommandStatus(ctx workflow.Context, in metercmdstore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetMeterCommandStatus", in)
}

func finishMeterCommand(ctx workflow.Context, in metercmdstore.Result) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FinishMeterCommand", in)
}

// listMeterBatchPage's result is a []metercmd.BatchItem.
func listMeterBatchPage(ctx workflow.Context, in metercmdstore.PageInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ListMeterBatchPage", in)
}

// recordMeterBatchOutcomes' result is a metercmd.Totals.
func recordMeterBatchOutcomes(ctx workflow.Context, in metercmdstore.RecordInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RecordMeterBatchOutcomes", in)
}

// finishMeterBatch's result is a metercmd.Totals.
func finishMeterBatch(ctx workflow.Context, in metercmdstore.FinishInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FinishMeterBatch", in)
}
