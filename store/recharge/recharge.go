// Package recharge keeps the recharge projection in PostgreSQL and books
// recharges in the ledger: the queries and writes the API, the activities
// (activities/recharge) and reports share. Each write is idempotent.
package recharge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// StatusInput moves a recharge to a status.
type StatusInput struct {
	RechargeID string             `json:"rechargeId"`
	Status     rechargedom.Status `json:"status"`
	Failure    string             `json:"failure"`
}

// SetRechargeStatus writes the status the API shows.
func SetRechargeStatus(ctx context.Context, db *store.DB, in StatusInput) error {
	return WriteStatus(ctx, db, "recharges", "recharge", in.RechargeID, in.Status, in.Failure)
}

// WriteStatus writes the status the API shows of a process that follows the
// recharge life cycle (a sale, a refund, an enterprise recharge, a credit
// application) into its projection table; subject names it in the error.
func WriteStatus(ctx context.Context, db *store.DB, table, subject, id string, status rechargedom.Status, failure string) error {
	_, err := db.Exec(ctx, `update `+table+` set status=$2, failure=$3, updated_at=now() where id=$1`, id, string(status), failure)
	if err != nil {
		return fmt.Errorf("%s %s status %s: %w", subject, id, status, err)
	}
	return nil
}

// BookInput books a sale.
type BookInput struct {
	RechargeID string       `json:"rechargeId"`
	ProjectID  string       `json:"projectId"`
	MeterNo    string       `json:"meterNo"`
	Amount     money.Amount `json:"amount"`
}

// Entry keys, one per step, so a replayed step books nothing new.
func saleKey(id string) string     { return "recharge/" + id + "/sale" }
func deliveryKey(id string) string { return "recharge/" + id + "/delivered" }

// BookRecharge books the sale — cash in, owed to the meter until it takes it —
// and marks the recharge dispatching, in one transaction.
func BookRecharge(ctx context.Context, db *store.DB, in BookInput) error {
	e := ledgerdom.Transfer(saleKey(in.RechargeID), "recharge", "sale to meter "+in.MeterNo,
		ledgerdom.Posting{Account: ledgerdom.PendingDeliveryCode, Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, in.Amount)
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update recharges set status='dispatching', updated_at=now() where id=$1`, in.RechargeID)
		return err
	})
}

// SettleInput completes a sale the meter took.
type SettleInput struct {
	RechargeID string       `json:"rechargeId"`
	ProjectID  string       `json:"projectId"`
	MeterNo    string       `json:"meterNo"`
	Amount     money.Amount `json:"amount"`
	Counter    int          `json:"counter"`
}

// SettleRecharge moves the sale from pending delivery to the meter's wallet
// and marks the recharge completed.
func SettleRecharge(ctx context.Context, db *store.DB, in SettleInput) error {
	e := ledgerdom.Transfer(deliveryKey(in.RechargeID), "recharge-delivered", "meter "+in.MeterNo+" took the recharge",
		ledgerdom.Posting{Account: ledgerdom.MeterWallet(in.MeterNo), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.PendingDeliveryCode, Kind: ledgerdom.Liability}, in.Amount)
	return Settle(ctx, db, "recharges", in.ProjectID, in.RechargeID, in.Counter, e)
}

// Settle books the entry of an operation its meter confirmed (a sale or a
// refund) and marks its row of table completed with the meter's counter, in
// one transaction: a completed operation is always booked.
func Settle(ctx context.Context, db *store.DB, table, projectID, id string, counter int, e ledgerdom.Entry) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := ledgerstore.BookTx(ctx, tx, projectID, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update `+table+` set status='completed', failure='', meter_counter=$2,
			completed_at=coalesce(completed_at, now()), updated_at=now() where id=$1`, id, counter)
		return err
	})
}

// Recharge is the projection the API reads.
type Recharge struct {
	ID            string             `json:"id"`
	ProjectID     string             `json:"-"`
	MeterID       string             `json:"-"`
	MeterNo       string             `json:"meterNo"`
	Amount        money.Amount       `json:"amount"`
	TransactionNo string             `json:"transactionNo"`
	Status        rechargedom.Status `json:"status"`
	NeedsApproval bool               `json:"needsApproval"`
	WorkflowID    string             `json:"workflowId"`
	CreatedBy     string             `json:"createdBy"`
	CreatedAt     time.Time          `json:"createdAt"`
	UpdatedAt     time.Time          `json:"updatedAt"`
	CompletedAt   *time.Time         `json:"completedAt,omitempty"`
	MeterCounter  *int               `json:"meterCounter,omitempty"`
	Failure       string             `json:"failure,omitempty"`
}

// ErrNotFound is an unknown recharge, or one of a project the caller cannot see.
var ErrNotFound = errors.New("recharge not found")

const columns = `id, project_id, meter_id, meter_no, amount, transaction_no, status, needs_approval, workflow_id,
	created_by, created_at, updated_at, completed_at, meter_counter, failure`

func scan(row pgx.Row) (Recharge, error) {
	var r Recharge
	var status string
	err := row.Scan(&r.ID, &r.ProjectID, &r.MeterID, &r.MeterNo, &r.Amount, &r.TransactionNo, &status, &r.NeedsApproval,
		&r.WorkflowID, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.CompletedAt, &r.MeterCounter, &r.Failure)
	r.Status = rechargedom.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Get reads one recharge within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Recharge, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from recharges where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// ByTransactionNo finds a recharge by its idempotency key.
func ByTransactionNo(ctx context.Context, db *store.DB, projectID, transactionNo string) (Recharge, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from recharges where project_id=$1 and transaction_no=$2`, projectID, transactionNo))
}

// Create inserts a new recharge; it reports created=false and the existing
// row when the transaction number was used before in the project.
func Create(ctx context.Context, db *store.DB, r Recharge) (Recharge, bool, error) {
	_, err := db.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status,
		needs_approval, workflow_id, created_by) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		r.ID, r.ProjectID, r.MeterID, r.MeterNo, r.TransactionNo, r.Amount, string(r.Status), r.NeedsApproval, r.WorkflowID, r.CreatedBy)
	if store.IsUniqueViolation(err) {
		existing, err := ByTransactionNo(ctx, db, r.ProjectID, r.TransactionNo)
		return existing, false, err
	}
	if err != nil {
		return Recharge{}, false, fmt.Errorf("create recharge: %w", err)
	}
	created, err := Get(ctx, db, []string{r.ProjectID}, r.ID)
	return created, true, err
}

// List returns recharges of the projects, newest first, after the cursor.
func List(ctx context.Context, db *store.DB, projects []string, meterNo string, limit int, before *time.Time, beforeID string) ([]Recharge, error) {
	rows, err := db.Query(ctx, `select `+columns+` from recharges where project_id::text = any($1)
		and ($2 = '' or meter_no = $2)
		and ($3::timestamptz is null or (created_at, id::text) < ($3, $4))
		order by created_at desc, id::text desc limit $5`, projects, meterNo, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recharge
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
