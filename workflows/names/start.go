package names

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// StartOnce starts a business workflow of type kind under its meaningful ID
// on MainQueue. Starting again is harmless: a running one is reused and a
// closed one is not restarted (its ID is taken), so a retried request, or a
// row whose first start never reached Temporal, starts the work exactly once.
func StartOnce(ctx context.Context, c client.Client, id, kind string, attrs temporal.SearchAttributes, in any) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                MainQueue,
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
