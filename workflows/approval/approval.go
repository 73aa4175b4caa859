// Package approval is the review step (审核) every business workflow shares:
// open a task in the inbox, wait for an approver's decision delivered as a
// Temporal Update, record who decided, when and why.
package approval

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/activities/inbox"
	"github.com/voltflow/voltflow/domain/access"
)

// UpdateDecide is the Update the inbox API sends.
const UpdateDecide = "decide"

// Decision is an approver's answer.
type Decision struct {
	TaskID       string        `json:"taskId"`
	Approve      bool          `json:"approve"`
	Comment      string        `json:"comment"`
	OperatorID   string        `json:"operatorId"`
	OperatorName string        `json:"operatorName"`
	Roles        []access.Role `json:"roles"` // the decider's roles in the task's project
}

// Errors the validator returns; the API maps their messages to problem codes.
var (
	ErrNotYourRole    = errors.New("the operator lacks the role this task needs")
	ErrAlreadyDecided = errors.New("the task is already decided")
	ErrUnknownTask    = errors.New("no such open task on this workflow")
)

// Outcome of a review.
type Outcome struct {
	Approved bool
	Expired  bool
	Task     inbox.Task
}

// Request opens the task and blocks until it is decided or times out.
// onOpen runs once the task exists (e.g. to project pending_approval).
func Request(ctx workflow.Context, in inbox.OpenTaskInput, timeout time.Duration, onOpen func() error) (Outcome, error) {
	var acts *inbox.Activities
	dbCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var task inbox.Task
	if err := workflow.ExecuteActivity(dbCtx, acts.OpenTask, in).Get(ctx, &task); err != nil {
		return Outcome{}, err
	}
	if onOpen != nil {
		if err := onOpen(); err != nil {
			return Outcome{}, err
		}
	}
	var decided, closed bool
	var out Outcome
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, d Decision) (inbox.Task, error) {
			if decided { // a concurrent update passed the validator first
				return inbox.Task{}, ErrAlreadyDecided
			}
			decided = true
			var t inbox.Task
			err := workflow.ExecuteActivity(dbCtx, acts.DecideTask, inbox.DecideInput{TaskID: task.ID, Approve: d.Approve,
				Comment: d.Comment, OperatorID: d.OperatorID, OperatorName: d.OperatorName}).Get(ctx, &t)
			if err != nil {
				decided = false
				return inbox.Task{}, err
			}
			out.Approved, out.Task, closed = d.Approve, t, true
			return t, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
			switch {
			case d.TaskID != task.ID:
				return ErrUnknownTask
			case decided:
				return ErrAlreadyDecided
			case !HasRole(d.Roles, task.Role):
				return ErrNotYourRole
			}
			return nil
		}})
	if err != nil {
		return Outcome{}, err
	}
	ok, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool { return closed })
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		decided = true
		if err := workflow.ExecuteActivity(dbCtx, acts.ExpireTask, inbox.ExpireInput{TaskID: task.ID}).Get(ctx, nil); err != nil {
			return Outcome{}, err
		}
		out.Expired, out.Task = true, task
	}
	return out, nil
}

// HasRole reports whether the held roles satisfy the needed one (admin holds all).
func HasRole(held []access.Role, need access.Role) bool {
	for _, r := range held {
		if r == need || r == access.Admin {
			return true
		}
	}
	return false
}
