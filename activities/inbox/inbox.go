// Package inbox is the Temporal adapter over store/inbox: workflows open and
// close tasks through these activities.
package inbox

import (
	"context"

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

// Activity inputs are store/inbox types, so workflows build them without
// importing this package.
type (
	OpenTaskInput = inbox.NewTask
	DecideInput   = inbox.Decision
	ExpireInput   = inbox.Expiry
)

// OpenTask writes the task row once per workflow and kind.
func (a *Activities) OpenTask(ctx context.Context, in OpenTaskInput) (Task, error) {
	return inbox.Open(ctx, a.DB, in)
}

// DecideTask records who decided, when and why (see inbox.Decide).
func (a *Activities) DecideTask(ctx context.Context, in DecideInput) (Task, error) {
	return inbox.Decide(ctx, a.DB, in)
}

// ExpireTask marks a task no one decided in time.
func (a *Activities) ExpireTask(ctx context.Context, in ExpireInput) error {
	return inbox.Expire(ctx, a.DB, in.TaskID)
}
