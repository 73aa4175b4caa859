package replacement

import (
	"go.temporal.io/sdk/workflow"

	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	metersstore "github.com/voltflow/voltflow/store/meters"
	replacementstore "github.com/voltflow/voltflow/store/replacement"
)

// The activities a replacement runs, executed by their registered names:
// activities/replacement on the main queue, and the device activities it
// reuses — activities/metercmd (SendMeterCommand, FinishMeterCommand) and
// activities/meters (ReadMeter, DispatchRecharge). The API imports this
// package to start replacements and must not pull in the activities.

func setReplacementStatus(ctx workflow.Context, in replacementstore.StatusInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SetReplacementStatus", in)
}

func recordReplacementReading(ctx workflow.Context, in replacementstore.ReadingInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "RecordReplacementReading", in)
}

func completeReplacement(ctx workflow.Context, in replacementstore.CompleteInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "CompleteReplacement", in)
}

// sendMeterCommand's result is a metercmd.Response.
func sendMeterCommand(ctx workflow.Context, in metercmdstore.SendInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "SendMeterCommand", in)
}

func finishMeterCommand(ctx workflow.Context, in metercmdstore.Result) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FinishMeterCommand", in)
}

// readMeter's result is a meters.Reading.
func readMeter(ctx workflow.Context, in metersstore.ReadInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ReadMeter", in)
}

// dispatchRecharge's result is a meters.DispatchResult.
func dispatchRecharge(ctx workflow.Context, in metersstore.DispatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DispatchRecharge", in)
}
