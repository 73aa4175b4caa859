package meterprice

import (
	"go.temporal.io/sdk/workflow"

	tariffsstore "github.com/voltflow/voltflow/store/tariffs"
)

// followTariff's result is a tariffsstore.FollowStep (activities/meterprice).
func followTariff(ctx workflow.Context, in tariffsstore.FollowInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, "FollowTariff", in)
}
