package meterprice

import (
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/store/tariffs"
)

// followTariff's result is a tariffs.FollowStep (activities/meterprice).
func followTariff(ctx workflow.Context, in tariffs.FollowInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FollowTariff", in)
}
