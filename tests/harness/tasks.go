package harness

import (
	"fmt"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
)

// Task is an inbox task (审批任务) as the API shows it.
type Task struct {
	ID            string            `json:"id"`
	Kind          string            `json:"kind"`
	Status        string            `json:"status"`
	WorkflowID    string            `json:"workflowId"`
	Details       map[string]string `json:"details"`
	Comment       string            `json:"comment"`
	DecidedBy     *string           `json:"decidedBy"`
	DecidedByName string            `json:"decidedByName"`
	DecidedAt     string            `json:"decidedAt"`
}

// PendingTask waits for the pending approver task a workflow opens (of
// kind, unless kind is empty). The workflow writes it after the API's 202,
// so a test that counts rows or decides must wait for it first. The window
// is generous: CI runs many stacks at once on two cores.
func PendingTask(t testing.TB, c *Client, workflowID, kind string) Task {
	t.Helper()
	var found Task
	eventually.True(t, 30*time.Second, "pending "+kind+" task of "+workflowID, func() (bool, string) {
		var list struct{ Items []Task }
		c.Do(t, "GET", "/api/v1/tasks?status=pending&role=approver&limit=500", nil, &list)
		for _, it := range list.Items {
			if it.WorkflowID == workflowID && (kind == "" || it.Kind == kind) {
				found = it
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d pending tasks", len(list.Items))
	})
	return found
}
