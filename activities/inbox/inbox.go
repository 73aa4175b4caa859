// Package inbox is the Temporal adapter over store/inbox: workflows open and
// close tasks through these activities.
package inbox

import (
	"context"

	"github.com/voltflow/voltflow/store"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
)

// Status of a task.
const (
	Pending  = inboxstore.Pending
	Approved = inboxstore.Approved
	Rejected = inboxstore.Rejected
	Expired  = inboxstore.Expired
)

// Task is the stored row; the alias keeps the activities' result type where
// workflows (and their recorded histories) expect it.
type Task = inboxstore.Task

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// Activity inputs are store/inbox types, so workflows build them without
// importing this package.
type (
	OpenTaskInput = inboxstore.NewTask
	DecideInput   = inboxstore.Decision
	ExpireInput   = inboxstore.Expiry
)

// OpenTask writes the task row once per workflow and kind.
func (a *Activities) OpenTask(ctx context.Context, in OpenTaskInput) (Task, error) {
	return inboxstore.Open(ctx, a.DB, in)
}

// DecideTask records who decided, when and why (see inbox.Decide).
func (a *Activities) DecideTask(ctx context.Context, in DecideInput) (Task, error) {
	return inboxstore.Decide(ctx, a.DB, in)
}

// ExpireTask marks a task no one decided in time.
func (a *Activities) ExpireTask(ctx context.Context, in ExpireInput) error {
	return inboxstore.Expire(ctx, a.DB, in.TaskID)
}
