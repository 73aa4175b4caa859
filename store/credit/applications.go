package credit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// Application is a credit-limit application (信用额度申请 / 调整申请).
// Statuses: pending_approval, completed (limit in force), rejected.
type Application struct {
	ID             string             `json:"id"`
	ProjectID      string             `json:"projectId"`
	EnterpriseID   string             `json:"enterpriseId"`
	EnterpriseCode string             `json:"enterpriseCode"`
	ApplicationNo  string             `json:"applicationNo"`
	Kind           creditline.Kind    `json:"kind"`
	RequestedLimit money.Amount       `json:"requestedLimit"`
	PreviousLimit  *money.Amount      `json:"previousLimit,omitempty"`
	Cycle          bill.Cycle         `json:"-"`
	CycleMs        int64              `json:"cycleMs,omitempty"`
	Status         rechargedom.Status `json:"status"`
	Failure        string             `json:"failure,omitempty"`
	WorkflowID     string             `json:"workflowId"`
	CreatedBy      string             `json:"createdBy"`
	CreatedAt      time.Time          `json:"createdAt"`
	UpdatedAt      time.Time          `json:"updatedAt"`
}

// Same reports whether a repeated applicationNo carries the same request.
func (a Application) Same(b Application) bool {
	return a.EnterpriseID == b.EnterpriseID && a.Kind == b.Kind && a.RequestedLimit.Equal(b.RequestedLimit) &&
		a.ApplicationNo == b.ApplicationNo && a.Cycle == b.Cycle
}

// Apply records an application once per applicationNo after checking it
// against the enterprise's credit account as it is now (the approved
// application is checked again when it takes effect).
func Apply(ctx context.Context, db *store.DB, want Application) (Application, bool, error) {
	var created bool
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		got, err := scanApplication(tx.QueryRow(ctx, `select `+applicationColumns+` from credit_applications a join enterprises e on e.id=a.enterprise_id
			where a.project_id=$1 and a.application_no=$2`, want.ProjectID, want.ApplicationNo))
		if err == nil {
			want = got
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		acc, open, err := creditAccount(ctx, tx, want.ProjectID, want.EnterpriseID, want.EnterpriseCode)
		if err != nil {
			return err
		}
		if err := creditline.CheckApplication(want.Kind, open, acc.Limit, want.RequestedLimit); err != nil {
			return err
		}
		var prev any
		if open {
			prev = acc.Limit
		}
		_, err = tx.Exec(ctx, `insert into credit_applications(id, project_id, enterprise_id, application_no, kind, requested_limit,
			previous_limit, cycle_ms, due_after_ms, suspend_ms, status, workflow_id, created_by) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
			want.ID, want.ProjectID, want.EnterpriseID, want.ApplicationNo, string(want.Kind), want.RequestedLimit, prev,
			want.Cycle.Length.Milliseconds(), want.Cycle.DueAfter.Milliseconds(), want.Cycle.SuspendWait.Milliseconds(),
			string(want.Status), want.WorkflowID, want.CreatedBy)
		if err != nil {
			return fmt.Errorf("apply credit %s: %w", want.ApplicationNo, err)
		}
		created = true
		want, err = scanApplication(tx.QueryRow(ctx, `select `+applicationColumns+` from credit_applications a join enterprises e on e.id=a.enterprise_id
			where a.id=$1`, want.ID))
		return err
	})
	if store.IsUniqueViolation(err) { // a concurrent first application with the same number won
		return Apply(ctx, db, want)
	}
	return want, created, err
}

const applicationColumns = `a.id, a.project_id, a.enterprise_id, e.code, a.application_no, a.kind, a.requested_limit, a.previous_limit,
	a.cycle_ms, a.due_after_ms, a.suspend_ms, a.status, a.failure, a.workflow_id, a.created_by, a.created_at, a.updated_at`

func scanApplication(row pgx.Row) (Application, error) {
	var a Application
	var kind, status string
	var cycle, due, suspend int64
	err := row.Scan(&a.ID, &a.ProjectID, &a.EnterpriseID, &a.EnterpriseCode, &a.ApplicationNo, &kind, &a.RequestedLimit, &a.PreviousLimit,
		&cycle, &due, &suspend, &status, &a.Failure, &a.WorkflowID, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	a.Kind, a.Status = creditline.Kind(kind), rechargedom.Status(status)
	a.Cycle = bill.Cycle{Length: time.Duration(cycle) * time.Millisecond, DueAfter: time.Duration(due) * time.Millisecond,
		SuspendWait: time.Duration(suspend) * time.Millisecond}
	a.CycleMs = cycle
	return a, err
}

// GetApplication reads an application of the given projects.
func GetApplication(ctx context.Context, db *store.DB, projects []string, id string) (Application, error) {
	return scanApplication(db.QueryRow(ctx, `select `+applicationColumns+` from credit_applications a join enterprises e on e.id=a.enterprise_id
		where a.id::text=$1 and a.project_id::text = any($2)`, id, projects))
}

// ApplicationStatusInput moves an application to a status.
type ApplicationStatusInput struct {
	ApplicationID string             `json:"applicationId"`
	Status        rechargedom.Status `json:"status"`
	Failure       string             `json:"failure"`
}

// SetApplicationStatus writes the status the API shows.
func SetApplicationStatus(ctx context.Context, db *store.DB, in ApplicationStatusInput) error {
	return rechargestore.WriteStatus(ctx, db, "credit_applications", "credit application", in.ApplicationID, in.Status, in.Failure)
}

// ApplyLimitInput puts an approved application into force.
type ApplyLimitInput struct {
	ApplicationID string `json:"applicationId"`
}

// ApplyLimitResult tells the workflow what happened.
type ApplyLimitResult struct {
	Status  rechargedom.Status `json:"status"`  // completed, or rejected when the account changed meanwhile
	Failure string             `json:"failure"` // why it was refused
	Cycle   bill.Cycle         `json:"cycle"`   // of an opened account, for its billing workflow
}

// ApplyCreditLimit opens the credit account or changes its limit under the
// enterprise's row lock, checking the application again (another opening
// may have been approved meanwhile). Applying twice changes nothing more.
func ApplyCreditLimit(ctx context.Context, db *store.DB, in ApplyLimitInput) (ApplyLimitResult, error) {
	var out ApplyLimitResult
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		app, err := scanApplication(tx.QueryRow(ctx, `select `+applicationColumns+` from credit_applications a join enterprises e on e.id=a.enterprise_id
			where a.id=$1 for update of a`, in.ApplicationID))
		if err != nil {
			return fmt.Errorf("application %s: %w", in.ApplicationID, err)
		}
		out.Cycle = app.Cycle.WithDefaults()
		if app.Status == rechargedom.Completed || app.Status == rechargedom.Rejected {
			out.Status, out.Failure = app.Status, app.Failure
			return nil
		}
		if _, err := tx.Exec(ctx, `select 1 from enterprises where id=$1 for update`, app.EnterpriseID); err != nil {
			return err
		}
		_, open, err := creditAccount(ctx, tx, app.ProjectID, app.EnterpriseID, app.EnterpriseCode)
		if err != nil {
			return err
		}
		// Range and syntax were checked at application; what may have changed
		// since is whether the account exists.
		var refused error
		switch {
		case app.Kind == creditline.Open && open:
			refused = creditline.ErrAlreadyOpen
		case app.Kind == creditline.Adjust && !open:
			refused = creditline.ErrNotOpen
		}
		if err := refused; err != nil {
			out.Status, out.Failure = rechargedom.Rejected, err.Error()
		} else {
			out.Status = rechargedom.Completed
			if app.Kind == creditline.Open {
				c := out.Cycle
				_, err = tx.Exec(ctx, `insert into credit_accounts(enterprise_id, project_id, credit_limit, status, cycle_ms, due_after_ms, suspend_ms)
					values($1,$2,$3,'active',$4,$5,$6)`, app.EnterpriseID, app.ProjectID, app.RequestedLimit,
					c.Length.Milliseconds(), c.DueAfter.Milliseconds(), c.SuspendWait.Milliseconds())
			} else {
				_, err = tx.Exec(ctx, `update credit_accounts set credit_limit=$2, updated_at=now() where enterprise_id=$1`,
					app.EnterpriseID, app.RequestedLimit)
			}
			if err != nil {
				return fmt.Errorf("apply credit limit %s: %w", app.ApplicationNo, err)
			}
		}
		_, err = tx.Exec(ctx, `update credit_applications set status=$2, failure=$3, updated_at=now() where id=$1`,
			app.ID, string(out.Status), out.Failure)
		return err
	})
	return out, err
}
