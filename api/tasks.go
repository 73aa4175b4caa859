package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/voltflow/voltflow/domain/access"
	inboxstore "github.com/voltflow/voltflow/store/inbox"
	"github.com/voltflow/voltflow/workflows/approval"
	metercmdwf "github.com/voltflow/voltflow/workflows/metercmd"
	rechargewf "github.com/voltflow/voltflow/workflows/recharge"
	replacementwf "github.com/voltflow/voltflow/workflows/replacement"
	safetywf "github.com/voltflow/voltflow/workflows/safety"
)

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := inboxstore.Filter{Projects: op.projectsFor(access.ViewData), Scope: op.scope(), Status: q.Get("status"), Limit: p.limit,
		Before: p.before, BeforeID: p.beforeID}
	switch f.Status {
	case "", inboxstore.Pending, inboxstore.Approved, inboxstore.Rejected, inboxstore.Expired:
	default:
		writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "status must be pending, approved, rejected or expired", "status")
		return
	}
	if role := q.Get("role"); role != "" {
		if !access.Role(role).Valid() {
			writeProblemField(w, http.StatusBadRequest, CodeInvalidField, "unknown role "+role, "role")
			return
		}
		f.Roles = []string{role}
	}
	if project := q.Get("project"); project != "" {
		f.Projects = filterProjects(f.Projects, project)
	}
	items, err := inboxstore.List(r.Context(), s.cfg.DB, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, p.limit, func(last inboxstore.Task) (time.Time, string) { return last.CreatedAt, last.ID })
}

func filterProjects(ps []string, want string) []string {
	for _, p := range ps {
		if p == want {
			return []string{p}
		}
	}
	return []string{}
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	getByID(s, w, r, inboxstore.Get, inboxstore.ErrNotFound, "task not found")
}

type decisionRequest struct {
	Comment string `json:"comment"`
}

// decide forwards an approval or rejection to the waiting workflow as an
// Update; the workflow's validator has the last word on role and state.
func (s *Server) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op := operatorFrom(r.Context())
		var req decisionRequest
		if r.ContentLength != 0 && !decode(w, r, &req) {
			return
		}
		if len(req.Comment) > 2000 {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "comment longer than 2000 characters", "comment")
			return
		}
		t, err := inboxstore.Get(r.Context(), s.cfg.DB, op.Grants.Projects(), chi.URLParam(r, "id"))
		if !s.found(w, r, err, inboxstore.ErrNotFound, "task not found") {
			return
		}
		setAudit(r, t.ProjectID, t.ID, map[string]any{"approve": approve, "comment": req.Comment, "workflowId": t.WorkflowID})
		if t.Status != inboxstore.Pending {
			writeProblem(w, http.StatusConflict, CodeTaskDecided, "task is "+t.Status)
			return
		}
		var decided inboxstore.Task
		if !s.update(w, r, t.WorkflowID, approval.UpdateDecide, approval.Decision{
			TaskID: t.ID, Approve: approve, Comment: req.Comment, OperatorID: op.ID, OperatorName: op.Username,
			Roles: op.Grants[t.ProjectID], Deadline: time.Now().Add(s.cfg.UpdateTimeout),
		}, &decided) {
			return
		}
		writeJSON(w, http.StatusOK, decided)
	}
}

// updateProblem maps an Update's failure to a status and problem code.
func updateProblem(ctx context.Context, err error) (int, string) {
	msg := updateDetail(err)
	var notFound *serviceerror.NotFound
	// The server may give up waiting for a worker a moment before our own
	// deadline; the SDK names that case with its own error type.
	var waited *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case errors.As(err, &waited), ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded), msg == approval.ErrTooLate.Error():
		return http.StatusServiceUnavailable, CodeWorkerUnavailable
	case msg == approval.ErrNotYourRole.Error():
		return http.StatusForbidden, CodeForbidden
	case msg == approval.ErrAlreadyDecided.Error(), msg == approval.ErrUnknownTask.Error():
		return http.StatusConflict, CodeTaskDecided
	case msg == rechargewf.ErrNotRedispatched.Error(), msg == metercmdwf.ErrNotRedispatched.Error():
		return http.StatusConflict, CodeNotRedispatchable
	case msg == replacementwf.ErrNoReadingWanted.Error():
		return http.StatusConflict, CodeNoReadingWanted
	case msg == safetywf.ErrNotLockedOut.Error():
		return http.StatusConflict, CodeNotLockedOut
	case errors.As(err, &notFound), strings.Contains(msg, "workflow execution already completed"):
		return http.StatusConflict, CodeTaskDecided
	case isUnavailable(err):
		return http.StatusServiceUnavailable, CodeTemporalUnavailable
	}
	return http.StatusInternalServerError, CodeInternal
}

func updateDetail(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

func isUnavailable(err error) bool {
	var u *serviceerror.Unavailable
	var d *serviceerror.DeadlineExceeded
	return errors.As(err, &u) || errors.As(err, &d)
}
