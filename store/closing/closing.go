// Package closing stores account closings (销户, M4) of prepaid meters: the
// projection the API reads, opening one (refused while the meter is busy or
// already closed), the refund that pays its remainder out and the final
// settlement (Settle). activities/closing adapts them for the workflow.
package closing

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Status of a closing.
type Status string

const (
	StatusClosing  Status = "closing"  // under way: no more sales
	StatusClosed   Status = "closed"   // settled
	StatusRejected Status = "rejected" // its refund was refused: the account stays open
)

// Closing is the projection the API reads.
type Closing struct {
	ID            string        `json:"id"`
	ProjectID     string        `json:"projectId"`
	MeterID       string        `json:"-"`
	MeterNo       string        `json:"meterNo"`
	TransactionNo string        `json:"transactionNo"`
	Reason        string        `json:"reason,omitempty"`
	RefundID      *string       `json:"refundId,omitempty"`
	RefundAmount  money.Amount  `json:"refundAmount"`
	FinalBalance  *money.Amount `json:"finalBalance,omitempty"`
	WrittenOff    *money.Amount `json:"writtenOff,omitempty"`
	Status        Status        `json:"status"`
	WorkflowID    string        `json:"workflowId"`
	CreatedBy     string        `json:"createdBy"`
	CreatedAt     time.Time     `json:"createdAt"`
	ClosedAt      *time.Time    `json:"closedAt,omitempty"`
	Failure       string        `json:"failure,omitempty"`
}

// Errors of the projection.
var (
	ErrNotFound      = errors.New("account closing not found")
	ErrAlreadyClosed = errors.New("the meter's account is closed or being closed")
	ErrBusy          = errors.New("the meter has a recharge or refund under way; close it once they finish")
)

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const columns = `id, project_id, meter_id, meter_no, transaction_no, reason, refund_id, refund_amount, final_balance, written_off,
	status, workflow_id, created_by, created_at, closed_at, failure`

func scan(row pgx.Row) (Closing, error) {
	var c Closing
	var status string
	err := row.Scan(&c.ID, &c.ProjectID, &c.MeterID, &c.MeterNo, &c.TransactionNo, &c.Reason, &c.RefundID, &c.RefundAmount,
		&c.FinalBalance, &c.WrittenOff, &status, &c.WorkflowID, &c.CreatedBy, &c.CreatedAt, &c.ClosedAt, &c.Failure)
	c.Status = Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// Get reads one closing within the given projects.
func Get(ctx context.Context, q querier, projects []string, id string) (Closing, error) {
	return scan(q.QueryRow(ctx, `select `+columns+` from account_closings where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// IsClosed reports whether a meter's account is closed or being closed, so
// a sale to it is refused.
func IsClosed(ctx context.Context, q querier, meterID string) (bool, error) {
	var closed bool
	err := q.QueryRow(ctx, `select exists(select 1 from account_closings where meter_id=$1 and status <> 'rejected')`, meterID).Scan(&closed)
	return closed, err
}

// Open records a closing; a transaction number used before returns that
// closing (created=false). A meter already closed or being closed is
// ErrAlreadyClosed; one with a sale or refund under way ErrBusy.
func Open(ctx context.Context, db *store.DB, c Closing) (out Closing, created bool, err error) {
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		// The same lock refunds take: no refund application slips in between.
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('refund:' || $1))`, c.MeterID); err != nil {
			return err
		}
		existing, err := scan(tx.QueryRow(ctx, `select `+columns+` from account_closings where project_id=$1 and transaction_no=$2`,
			c.ProjectID, c.TransactionNo))
		if err == nil {
			out = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if closed, err := IsClosed(ctx, tx, c.MeterID); err != nil || closed {
			if err == nil {
				err = ErrAlreadyClosed
			}
			return err
		}
		var busy bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from recharges where meter_id=$1 and status not in ('completed','rejected'))
			or exists(select 1 from refunds where meter_id=$1 and status not in ('completed','rejected'))`, c.MeterID).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return ErrBusy
		}
		if _, err := tx.Exec(ctx, `insert into account_closings(id, project_id, meter_id, meter_no, transaction_no, reason, status,
			workflow_id, created_by) values($1,$2,$3,$4,$5,$6,'closing',$7,$8)`, c.ID, c.ProjectID, c.MeterID, c.MeterNo,
			c.TransactionNo, c.Reason, c.WorkflowID, c.CreatedBy); err != nil {
			return err
		}
		out, err = Get(ctx, tx, []string{c.ProjectID}, c.ID)
		created = true
		return err
	})
	if store.IsUniqueViolation(err) {
		return Closing{}, false, ErrAlreadyClosed
	}
	return out, created, err
}

// SetRefund records the refund that pays the refundable remainder out.
func SetRefund(ctx context.Context, db *store.DB, closingID, refundID string, amount money.Amount) error {
	_, err := db.Exec(ctx, `update account_closings set refund_id=$2, refund_amount=$3, updated_at=now() where id=$1`,
		closingID, refundID, amount)
	return err
}

// Reject reopens the account: its refund was refused.
func Reject(ctx context.Context, db *store.DB, closingID, failure string) error {
	_, err := db.Exec(ctx, `update account_closings set status='rejected', failure=$2, updated_at=now()
		where id=$1 and status='closing'`, closingID, failure)
	return err
}
