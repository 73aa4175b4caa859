// Package inbox is the Temporal adapter over store/inbox: workflows open and
// close tasks through these activities.
package inbox

import (
	"context"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/inbox"
)

// Status of a task.
const (
	Pending  = inbox.Pending
	Approved = inbox.Approved
	Rejected = inbox.Rejected
	Expired  = inbox.Expired
)

// Task is the stored row; the alias keeps the activities' result type where
// workflows (and their recorded histories) expect it.
type Task = inbox.Task

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// OpenTaskInput describes the decision a workflow needs.
type OpenTaskInput struct {
	ProjectID  string            `json:"projectId"`
	Kind       string            `json:"kind"`
	Subject    string            `json:"subject"`
	Role       access.Role       `json:"role"`
	WorkflowID string            `json:"workflowId"`
	Details    map[string]string `json:"details"`
}

// OpenTask writes the task row once per workflow and kind.
func (a *Activities) OpenTask(ctx context.Context, in OpenTaskInput) (Task, error) {
	return inbox.Open(ctx, a.DB, inbox.NewTask(in))
}

// Decision as recorded on the task.
type DecideInput struct {
	TaskID       string `json:"taskId"`
	Approve      bool   `json:"approve"`
	Comment      string `json:"comment"`
	OperatorID   string `json:"operatorId"`
	OperatorName string `json:"operatorName"`
}

// DecideTask records who decided, when and why (see inbox.Decide).
func (a *Activities) DecideTask(ctx context.Context, in DecideInput) (Task, error) {
	return inbox.Decide(ctx, a.DB, inbox.Decision(in))
}

// ExpireInput closes an undecided task.
type ExpireInput struct {
	TaskID string `json:"taskId"`
}

// ExpireTask marks a task no one decided in time.
func (a *Activities) ExpireTask(ctx context.Context, in ExpireInput) error {
	return inbox.Expire(ctx, a.DB, in.TaskID)
}
