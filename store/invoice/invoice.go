// Package invoice keeps invoices (开票) in PostgreSQL: applications against
// completed recharges, their issue (number, title, tax id, amount) and the
// mark that a recharge is invoiced. An invoice moves no money, so it books
// nothing; the partial unique index invoice_lines_once keeps a recharge on
// one live invoice. The API and the activities (activities/invoice) share
// these queries and writes; each write is idempotent.
package invoice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	invoicedom "github.com/voltflow/voltflow/domain/invoice"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Invoice is the projection the API reads.
type Invoice struct {
	ID            string            `json:"id"`
	ProjectID     string            `json:"projectId"`
	TransactionNo string            `json:"transactionNo"`
	Title         string            `json:"title"`
	TaxID         string            `json:"taxId"`
	Amount        money.Amount      `json:"amount"`
	Status        invoicedom.Status `json:"status"`
	InvoiceNo     *string           `json:"invoiceNo,omitempty"`
	WorkflowID    string            `json:"workflowId"`
	CreatedBy     string            `json:"createdBy"`
	CreatedAt     time.Time         `json:"createdAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	IssuedAt      *time.Time        `json:"issuedAt,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	RechargeIDs   []string          `json:"rechargeIds"`
}

// Errors of the projection.
var (
	ErrNotFound         = errors.New("invoice not found")
	ErrUnknownRecharges = errors.New("unknown recharge in this project")
)

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const columns = `id, project_id, transaction_no, title, tax_id, amount, status, invoice_no, workflow_id, created_by,
	created_at, updated_at, issued_at, reason,
	array(select recharge_id::text from invoice_lines l where l.invoice_id = invoices.id order by 1)`

func scan(row pgx.Row) (Invoice, error) {
	var v Invoice
	var status string
	err := row.Scan(&v.ID, &v.ProjectID, &v.TransactionNo, &v.Title, &v.TaxID, &v.Amount, &status, &v.InvoiceNo, &v.WorkflowID,
		&v.CreatedBy, &v.CreatedAt, &v.UpdatedAt, &v.IssuedAt, &v.Reason, &v.RechargeIDs)
	v.Status = invoicedom.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// Get reads one invoice within the given projects.
func Get(ctx context.Context, q querier, projects []string, id string) (Invoice, error) {
	return scan(q.QueryRow(ctx, `select `+columns+` from invoices where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// Apply records an application and holds its recharges. A transaction number
// used before returns that invoice (created=false); a recharge not completed
// is domain.ErrNotPaid, one held by a live invoice domain.ErrInvoiced — both
// refused without writing anything.
func Apply(ctx context.Context, db *store.DB, v Invoice) (out Invoice, created bool, err error) {
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		existing, err := scan(tx.QueryRow(ctx, `select `+columns+` from invoices where project_id=$1 and transaction_no=$2`,
			v.ProjectID, v.TransactionNo))
		if err == nil {
			out = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		rows, err := tx.Query(ctx, `select id::text, amount, status = 'completed' from recharges
			where project_id=$1 and id::text = any($2) order by id for share`, v.ProjectID, v.RechargeIDs)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoicedom.Line, error) {
			var l invoicedom.Line
			err := r.Scan(&l.RechargeID, &l.Amount, &l.Completed)
			return l, err
		})
		if err != nil {
			return err
		}
		if len(lines) != len(v.RechargeIDs) {
			return ErrUnknownRecharges
		}
		total, err := invoicedom.Total(lines)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into invoices(id, project_id, transaction_no, title, tax_id, amount, status, workflow_id, created_by)
			values($1,$2,$3,$4,$5,$6,'pending_approval',$7,$8)`, v.ID, v.ProjectID, v.TransactionNo, v.Title, v.TaxID, total,
			v.WorkflowID, v.CreatedBy); err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := tx.Exec(ctx, `insert into invoice_lines(invoice_id, recharge_id, amount) values($1,$2,$3)`,
				v.ID, l.RechargeID, l.Amount); err != nil {
				return err
			}
		}
		out, err = Get(ctx, tx, []string{v.ProjectID}, v.ID)
		created = true
		return err
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.ConstraintName == "invoice_lines_once":
		return Invoice{}, false, fmt.Errorf("%s: %w", pe.Detail, invoicedom.ErrInvoiced)
	case store.IsUniqueViolation(err):
		// The same transaction number in a race: the first one holds it.
		existing, err := scan(db.QueryRow(ctx, `select `+columns+` from invoices where project_id=$1 and transaction_no=$2`,
			v.ProjectID, v.TransactionNo))
		return existing, false, err
	case err != nil:
		return Invoice{}, false, fmt.Errorf("apply for invoice: %w", err)
	}
	return out, created, nil
}

// List returns invoices newest first after the cursor (limit 0: all).
func List(ctx context.Context, db *store.DB, projects []string, status string, limit int, before *time.Time, beforeID string) ([]Invoice, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.Query(ctx, `select `+columns+` from invoices where project_id::text = any($1) and ($2 = '' or status = $2)
		and ($3::timestamptz is null or (created_at, id::text) < ($3, $4))
		order by created_at desc, id::text desc limit $5`, projects, status, before, beforeID, lim)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) { return scan(r) })
}

// DecideInput names an invoice and the decision's reason.
type DecideInput struct {
	InvoiceID string `json:"invoiceId"`
	Reason    string `json:"reason"`
}

// IssueInvoice gives an approved invoice its number and marks it issued; its
// recharges stay invoiced. Issuing again returns the same number.
func IssueInvoice(ctx context.Context, db *store.DB, in DecideInput) (string, error) {
	var no string
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var have *string
		if err := tx.QueryRow(ctx, `select invoice_no from invoices where id=$1 for update`, in.InvoiceID).Scan(&have); err != nil {
			return fmt.Errorf("invoice %s: %w", in.InvoiceID, err)
		}
		if have != nil {
			no = *have
			return nil
		}
		var seq int64
		var now time.Time
		if err := tx.QueryRow(ctx, `select nextval('invoice_numbers'), now()`).Scan(&seq, &now); err != nil {
			return err
		}
		no = invoicedom.Number(now, seq)
		_, err := tx.Exec(ctx, `update invoices set status='issued', invoice_no=$2, issued_at=$3, updated_at=now() where id=$1`,
			in.InvoiceID, no, now)
		return err
	})
	return no, err
}

// RejectInvoice records a refusal and releases the recharges, so another
// application may name them.
func RejectInvoice(ctx context.Context, db *store.DB, in DecideInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update invoices set status='rejected', reason=$2, updated_at=now() where id=$1 and status='pending_approval'`,
			in.InvoiceID, in.Reason)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `update invoice_lines set released=true where invoice_id=$1`, in.InvoiceID)
		return err
	})
}
