// Package closing keeps account closings (销户, M4) of prepaid meters in
// PostgreSQL and books their final settlement: once the refundable remainder
// went back through the refund workflow, what the meter's accounts still hold
// — cash the meter used up and voucher value — is settled to consumption
// income, and the meter takes no more sales.
package closing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	billingacts "github.com/voltflow/voltflow/activities/billing"
	"github.com/voltflow/voltflow/activities/ledger"
	domledger "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/voucher"
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

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// RejectInput ends a closing whose refund was refused.
type RejectInput struct {
	ClosingID string `json:"closingId"`
	Failure   string `json:"failure"`
}

// RejectClosing reopens the account: its refund was refused.
func (a *Activities) RejectClosing(ctx context.Context, in RejectInput) error {
	_, err := a.DB.Exec(ctx, `update account_closings set status='rejected', failure=$2, updated_at=now()
		where id=$1 and status='closing'`, in.ClosingID, in.Failure)
	return err
}

// SettleInput settles a closing.
type SettleInput struct {
	ClosingID string `json:"closingId"`
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
}

// Settled is the final settlement.
type Settled struct {
	FinalBalance money.Amount `json:"finalBalance"`
	WrittenOff   money.Amount `json:"writtenOff"`
}

// SettleClosing books what the meter's cash wallet and voucher account still
// hold after the refund to consumption income (cash the meter used up, and
// voucher value, which is never paid out), records the final balance (what
// both held before the settlement) and closes the account, in one
// transaction. Settling again books nothing new.
func (a *Activities) SettleClosing(ctx context.Context, in SettleInput) (Settled, error) {
	var out Settled
	err := store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
		var status string
		var final *money.Amount
		if err := tx.QueryRow(ctx, `select status, final_balance from account_closings where id=$1 for update`, in.ClosingID).Scan(&status, &final); err != nil {
			return fmt.Errorf("closing %s: %w", in.ClosingID, err)
		}
		if status == string(StatusClosed) && final != nil {
			return tx.QueryRow(ctx, `select final_balance, written_off from account_closings where id=$1`, in.ClosingID).
				Scan(&out.FinalBalance, &out.WrittenOff)
		}
		e := domledger.Entry{Key: "account-closing/" + in.ClosingID + "/settled", Kind: "account-closed",
			Memo: "account of meter " + in.MeterNo + " closed (销户)"}
		total := money.Zero
		for _, code := range []string{domledger.MeterWallet(in.MeterNo), voucher.MeterAccount(in.MeterNo)} {
			var raw money.Amount
			err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`, in.ProjectID, code).Scan(&raw)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if held := domledger.Display(domledger.Liability, raw); !held.IsZero() {
				e.Postings = append(e.Postings, domledger.Posting{Account: code, Kind: domledger.Liability, Amount: held})
				total = total.Add(held)
			}
		}
		if !total.IsZero() {
			e.Postings = append(e.Postings, domledger.Posting{Account: billingacts.ConsumptionIncome, Kind: domledger.Income, Amount: total.Neg()})
			if _, err := ledger.BookTx(ctx, tx, in.ProjectID, e); err != nil {
				return err
			}
		}
		var refunded money.Amount
		if err := tx.QueryRow(ctx, `select coalesce((select f.amount from refunds f join account_closings c on c.refund_id=f.id
			where c.id=$1 and f.status='completed'), 0)`, in.ClosingID).Scan(&refunded); err != nil {
			return err
		}
		out = Settled{FinalBalance: total.Add(refunded), WrittenOff: total}
		if _, err := tx.Exec(ctx, `update account_closings set status='closed', final_balance=$2, written_off=$3, closed_at=now(),
			updated_at=now() where id=$1`, in.ClosingID, out.FinalBalance, out.WrittenOff); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update prepaid_accounts set status='closed' where id=(select account_id from meters where id=$1)`, in.MeterID)
		return err
	})
	return out, err
}
