package approval

import (
	"go.temporal.io/sdk/workflow"

	inboxstore "github.com/voltflow/voltflow/store/inbox"
)

// The inbox activities (activities/inbox), executed by their registered
// names: the API imports this package to start workflows and must not pull
// in the activities and what they depend on.

func openTask(ctx workflow.Context, in inboxstore.NewTask) workflow.Future {
	return workflow.ExecuteActivity(ctx, "OpenTask", in)
}

func decideTask(ctx workflow.Context, in inboxstore.Decision) workflow.Future {
	return workflow.ExecuteActivity(ctx, "DecideTask", in)
}

func expireTask(ctx workflow.Context, in inboxstore.Expiry) workflow.Future {
	return workflow.ExecuteActivity(ctx, "ExpireTask", in)
}
