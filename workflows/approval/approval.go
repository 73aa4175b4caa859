// Package approval is the review step (审核) every business workflow shares:
// open a task in the inbox, wait for an approver's decision delivered as a
// Temporal Update, record who decided, when and why.
package approval

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voltflow/voltflow/domain/access"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	"github.com/voltflow/voltflow/workflows/options"
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
	// Deadline is when the caller stops waiting. A decision that reaches the
	// workflow later is refused, so a caller told 503 can trust nothing happened.
	Deadline time.Time `json:"deadline"`
}

// Errors the validator returns; the API maps their messages to problem codes.
var (
	ErrNotYourRole    = errors.New("the operator lacks the role this task needs")
	ErrAlreadyDecided = errors.New("the task is already decided")
	ErrUnknownTask    = errors.New("no such open task on this workflow")
	ErrTooLate        = errors.New("the decision arrived after its caller gave up waiting")
)

// Outcome of a review.
type Outcome struct {
	Approved bool
	Expired  bool
	Task     inboxstore.Task
}

// Refusal is the reason a refused review shows: it expired or an approver
// rejected it.
func (o Outcome) Refusal() string {
	if o.Expired {
		return "approval expired"
	}
	return "rejected by approver"
}

// Review is the approval step of one workflow. Create it with New at the very
// start of the workflow: its Update handler must exist before any Update can
// arrive, including on a replay after a worker restart.
type Review struct {
	task            inboxstore.Task
	open            bool // task row exists and awaits a decision
	decided, closed bool
	out             Outcome
}

// New registers the decide Update handler.
func New(ctx workflow.Context) (*Review, error) {
	r := &Review{}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, r.decide,
		workflow.UpdateHandlerOptions{Validator: r.validate})
	return r, err
}

func (r *Review) validate(ctx workflow.Context, d Decision) error {
	switch {
	case !r.open || d.TaskID != r.task.ID:
		return ErrUnknownTask
	case r.decided:
		return ErrAlreadyDecided
	case !HasRole(d.Roles, r.task.Role):
		return ErrNotYourRole
	case !d.Deadline.IsZero() && workflow.Now(ctx).After(d.Deadline):
		return ErrTooLate
	}
	return nil
}

func (r *Review) decide(ctx workflow.Context, d Decision) (inboxstore.Task, error) {
	if r.decided { // a concurrent update passed the validator first
		return inboxstore.Task{}, ErrAlreadyDecided
	}
	r.decided = true
	var t inboxstore.Task
	err := decideTask(dbCtx(ctx), inboxstore.Decision{TaskID: r.task.ID, Approve: d.Approve,
		Comment: d.Comment, OperatorID: d.OperatorID, OperatorName: d.OperatorName}).Get(ctx, &t)
	if err != nil {
		r.decided = false
		return inboxstore.Task{}, err
	}
	r.out.Approved, r.out.Task, r.closed = d.Approve, t, true
	return t, nil
}

// Request opens the task and blocks until it is decided or times out.
// onOpen runs once the task exists (e.g. to project pending_approval).
func (r *Review) Request(ctx workflow.Context, in inboxstore.NewTask, timeout time.Duration, onOpen func() error) (Outcome, error) {
	if err := openTask(dbCtx(ctx), in).Get(ctx, &r.task); err != nil {
		return Outcome{}, err
	}
	r.open = true
	if onOpen != nil {
		if err := onOpen(); err != nil {
			return Outcome{}, err
		}
	}
	ok, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool { return r.closed })
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		r.decided = true
		if err := expireTask(dbCtx(ctx), inboxstore.Expiry{TaskID: r.task.ID}).Get(ctx, nil); err != nil {
			return Outcome{}, err
		}
		r.out.Expired, r.out.Task = true, r.task
	}
	r.open = false
	return r.out, nil
}

func dbCtx(ctx workflow.Context) workflow.Context {
	return options.DB(ctx)
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

// Again readies the review for a further decision in the same workflow (a
// process with two review steps, e.g. a voucher batch's application and its
// issuance). Call it only after Request returned; the next Request needs a
// task kind of its own.
func (r *Review) Again() { *r = Review{} }
