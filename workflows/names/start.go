package names

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// StartOnce starts a business workflow of type kind under its meaningful ID
// on MainQueue. Starting again is harmless: a running one is reused and a
// closed one is not restarted (its ID is taken), so a retried request, or a
// row whose first start never reached Temporal, starts the work exactly once.
func StartOnce(ctx context.Context, c client.Client, id, kind string, attrs temporal.SearchAttributes, in any) error {
	return startOnce(ctx, c, MainQueue, id, kind, attrs, in)
}

// StartInteractive is StartOnce on InteractiveQueue: for the work someone
// is waiting for (a single meter command, a sale), which must not queue
// behind sweeps and batches. The workflow type must be registered on the
// interactive workers (workflows.RegisterMain is).
func StartInteractive(ctx context.Context, c client.Client, id, kind string, attrs temporal.SearchAttributes, in any) error {
	return startOnce(ctx, c, InteractiveQueue, id, kind, attrs, in)
}

func startOnce(ctx context.Context, c client.Client, queue, id, kind string, attrs temporal.SearchAttributes, in any) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    attrs,
	}, kind, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil // it ran before and is closed: nothing to heal
	}
	return err
}

// DeviceQueue is the task queue for a workflow's device activities:
// InteractiveDevicesQueue for a run started on InteractiveQueue,
// DevicesQueue otherwise. It depends only on the queue the run started on,
// which its history records, so a run started before the interactive lane
// existed replays with the DevicesQueue it scheduled on.
func DeviceQueue(ctx workflow.Context) string {
	if workflow.GetInfo(ctx).TaskQueueName == InteractiveQueue {
		return InteractiveDevicesQueue
	}
	return DevicesQueue
}
