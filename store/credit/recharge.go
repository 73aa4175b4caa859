package credit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/enterprise"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// Recharge is an enterprise recharge (企业充值) as the API shows it. Its
// statuses are the foundation recharge's: pending_approval, completed
// (booked), rejected.
type Recharge struct {
	ID             string             `json:"id"`
	ProjectID      string             `json:"projectId"`
	EnterpriseID   string             `json:"enterpriseId"`
	EnterpriseCode string             `json:"enterpriseCode"`
	TransactionNo  string             `json:"transactionNo"`
	Amount         money.Amount       `json:"amount"`
	Status         rechargedom.Status `json:"status"`
	WorkflowID     string             `json:"workflowId"`
	Failure        string             `json:"failure,omitempty"`
	CreatedBy      string             `json:"createdBy"`
	CreatedAt      time.Time          `json:"createdAt"`
	UpdatedAt      time.Time          `json:"updatedAt"`
}

// Request is the recharge as domain rules see it.
func (r Recharge) Request() enterprise.RechargeRequest {
	return enterprise.RechargeRequest{EnterpriseID: r.EnterpriseID, Amount: r.Amount, TransactionNo: r.TransactionNo}
}

// ApplyRecharge records an application once per transactionNo; a repeat
// returns the first one (created false) for the caller to compare.
func ApplyRecharge(ctx context.Context, db *store.DB, want Recharge) (Recharge, bool, error) {
	tag, err := db.Exec(ctx, `insert into enterprise_recharges(id, project_id, enterprise_id, transaction_no, amount, status, workflow_id, created_by)
		values($1,$2,$3,$4,$5,$6,$7,$8) on conflict (project_id, transaction_no) do nothing`,
		want.ID, want.ProjectID, want.EnterpriseID, want.TransactionNo, want.Amount, string(want.Status), want.WorkflowID, want.CreatedBy)
	if err != nil {
		return Recharge{}, false, fmt.Errorf("apply enterprise recharge %s: %w", want.TransactionNo, err)
	}
	got, err := scanRecharge(db.QueryRow(ctx, `select `+rechargeColumns+` from enterprise_recharges r join enterprises e on e.id=r.enterprise_id
		where r.project_id=$1 and r.transaction_no=$2`, want.ProjectID, want.TransactionNo))
	return got, tag.RowsAffected() == 1, err
}

const rechargeColumns = `r.id, r.project_id, r.enterprise_id, e.code, r.transaction_no, r.amount, r.status, r.workflow_id, r.failure,
	r.created_by, r.created_at, r.updated_at`

func scanRecharge(row pgx.Row) (Recharge, error) {
	var r Recharge
	var status string
	err := row.Scan(&r.ID, &r.ProjectID, &r.EnterpriseID, &r.EnterpriseCode, &r.TransactionNo, &r.Amount, &status, &r.WorkflowID,
		&r.Failure, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt)
	r.Status = rechargedom.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// GetRecharge reads an enterprise recharge of the given projects.
func GetRecharge(ctx context.Context, db *store.DB, projects []string, id string) (Recharge, error) {
	return scanRecharge(db.QueryRow(ctx, `select `+rechargeColumns+` from enterprise_recharges r join enterprises e on e.id=r.enterprise_id
		where r.id::text=$1 and r.project_id::text = any($2)`, id, projects))
}

// RechargeStatusInput moves an enterprise recharge to a status.
type RechargeStatusInput struct {
	RechargeID string             `json:"rechargeId"`
	Status     rechargedom.Status `json:"status"`
	Failure    string             `json:"failure"`
}

// SetEnterpriseRechargeStatus writes the status the API shows.
func SetEnterpriseRechargeStatus(ctx context.Context, db *store.DB, in RechargeStatusInput) error {
	return rechargestore.WriteStatus(ctx, db, "enterprise_recharges", "enterprise recharge", in.RechargeID, in.Status, in.Failure)
}

// BookRechargeInput books an approved enterprise recharge.
type BookRechargeInput struct {
	RechargeID     string       `json:"rechargeId"`
	ProjectID      string       `json:"projectId"`
	EnterpriseCode string       `json:"enterpriseCode"`
	Amount         money.Amount `json:"amount"`
}

// BookEnterpriseRecharge books cash into the enterprise's wallet (记账) and
// completes the recharge in one transaction: a completed recharge is
// always booked, a rejected one never.
func BookEnterpriseRecharge(ctx context.Context, db *store.DB, in BookRechargeInput) error {
	e := enterprise.RechargeEntry("enterprise-recharge/"+in.RechargeID, in.EnterpriseCode, in.Amount)
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update enterprise_recharges set status=$2, updated_at=now() where id=$1`, in.RechargeID, string(rechargedom.Completed))
		return err
	})
}
