// Package inbox stores the task inbox: one row per decision a workflow waits
// for. Workflows open and close tasks through activities/inbox, which calls
// these functions; the API lists them and forwards decisions as Updates.
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
)

// Status of a task.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
	Expired  = "expired"
)

// Task is one decision.
type Task struct {
	ID            string            `json:"id"`
	ProjectID     string            `json:"projectId"`
	Kind          string            `json:"kind"`
	Subject       string            `json:"subject"`
	Role          access.Role       `json:"role"`
	WorkflowID    string            `json:"workflowId"`
	Status        string            `json:"status"`
	Details       map[string]string `json:"details"`
	CreatedAt     time.Time         `json:"createdAt"`
	DecidedBy     *string           `json:"decidedBy,omitempty"`
	DecidedByName *string           `json:"decidedByName,omitempty"`
	DecidedAt     *time.Time        `json:"decidedAt,omitempty"`
	Comment       string            `json:"comment,omitempty"`
}

// NewTask describes the decision a workflow needs.
// It is also the input of the OpenTask activity, hence the JSON names.
type NewTask struct {
	ProjectID  string            `json:"projectId"`
	Kind       string            `json:"kind"`
	Subject    string            `json:"subject"`
	Role       access.Role       `json:"role"`
	WorkflowID string            `json:"workflowId"`
	Details    map[string]string `json:"details"`
}

// Open writes the task row once per workflow and kind.
func Open(ctx context.Context, db *store.DB, in NewTask) (Task, error) {
	details, err := json.Marshal(in.Details)
	if err != nil {
		return Task{}, err
	}
	_, err = db.Exec(ctx, `insert into tasks(id, project_id, kind, subject, role, workflow_id, status, details)
		values($1,$2,$3,$4,$5,$6,'pending',$7) on conflict (workflow_id, kind) do nothing`,
		uuid.NewString(), in.ProjectID, in.Kind, in.Subject, string(in.Role), in.WorkflowID, details)
	if err != nil {
		return Task{}, fmt.Errorf("open task %s for %s: %w", in.Kind, in.WorkflowID, err)
	}
	return scan(db.QueryRow(ctx, `select `+columns+` from tasks where workflow_id=$1 and kind=$2`, in.WorkflowID, in.Kind))
}

// Decision as recorded on the task; also the DecideTask activity's input.
type Decision struct {
	TaskID       string `json:"taskId"`
	Approve      bool   `json:"approve"`
	Comment      string `json:"comment"`
	OperatorID   string `json:"operatorId"`
	OperatorName string `json:"operatorName"`
}

// Decide records who decided, when and why. Deciding again with the
// same outcome returns the task (a retried activity); a different outcome is refused.
func Decide(ctx context.Context, db *store.DB, in Decision) (Task, error) {
	status := Rejected
	if in.Approve {
		status = Approved
	}
	_, err := db.Exec(ctx, `update tasks set status=$2, decided_by=$3, decided_by_name=$4, decided_at=now(), comment=$5
		where id=$1 and status='pending'`, in.TaskID, status, in.OperatorID, in.OperatorName, in.Comment)
	if err != nil {
		return Task{}, fmt.Errorf("decide task %s: %w", in.TaskID, err)
	}
	t, err := scan(db.QueryRow(ctx, `select `+columns+` from tasks where id=$1`, in.TaskID))
	if err != nil {
		return Task{}, err
	}
	if t.Status != status {
		return Task{}, fmt.Errorf("task %s is already %s", in.TaskID, t.Status)
	}
	return t, nil
}

// Expiry closes an undecided task: the ExpireTask activity's input.
type Expiry struct {
	TaskID string `json:"taskId"`
}

// Expire marks a task no one decided in time.
func Expire(ctx context.Context, db *store.DB, taskID string) error {
	_, err := db.Exec(ctx, `update tasks set status='expired', decided_at=now() where id=$1 and status='pending'`, taskID)
	return err
}

// ErrNotFound is an unknown task or one of a project the caller cannot see.
var ErrNotFound = errors.New("task not found")

const columns = `id, project_id, kind, subject, role, workflow_id, status, details, created_at, decided_by, decided_by_name, decided_at, comment`

func scan(row pgx.Row) (Task, error) {
	var t Task
	var role string
	err := row.Scan(&t.ID, &t.ProjectID, &t.Kind, &t.Subject, &role, &t.WorkflowID, &t.Status, &t.Details, &t.CreatedAt,
		&t.DecidedBy, &t.DecidedByName, &t.DecidedAt, &t.Comment)
	t.Role = access.Role(role)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Get reads a task within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Task, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from tasks where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// Filter selects tasks for the inbox.
type Filter struct {
	Projects []string
	Roles    []string // empty: any role
	Status   string   // empty: any status
	Limit    int
	Before   *time.Time
	BeforeID string
	// Scope keeps a site-scoped caller to tasks about its meters (a
	// task's subject is the meter number when it is about a meter).
	Scope store.Scope
}

// List returns tasks newest first.
func List(ctx context.Context, db *store.DB, f Filter) ([]Task, error) {
	if f.Roles == nil {
		f.Roles = []string{} // a nil slice is SQL NULL, whose cardinality is NULL: no task would match
	}
	rows, err := db.Query(ctx, `select `+columns+` from tasks where project_id::text = any($1)
		and (cardinality($2::text[]) = 0 or role = any($2)) and ($3 = '' or status = $3)
		and ($4::timestamptz is null or (created_at, id::text) < ($4, $5))
		and `+f.Scope.StrictSQL("tasks.project_id", `(select m.id from meters m where m.project_id = tasks.project_id and m.meter_no = tasks.subject)`, 7)+`
		order by created_at desc, id::text desc limit $6`, f.Projects, f.Roles, f.Status, f.Before, f.BeforeID, f.Limit,
		f.Scope.Args()[0], f.Scope.Args()[1])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
