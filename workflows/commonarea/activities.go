package commonarea

import (
	"go.temporal.io/sdk/workflow"

	commonareastore "github.com/voltflow/voltflow/store/commonarea"
)

// The activities an allocation runs, executed by their registered names
// (activities/commonarea, main queue). The API imports this package to
// start allocations and must not pull in the activities.

// allocateCommonArea's result is a commonarea.AllocateResult.
func allocateCommonArea(ctx workflow.Context, in commonareastore.AllocateInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "AllocateCommonArea", in)
}
