package chargeorder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Invoice is an invoice of charging orders (F7). It moves no money, so it
// books nothing; charging_invoice_orders keys an order to one invoice.
type Invoice struct {
	ID        string       `json:"id"`
	ProjectID string       `json:"projectId"`
	InvoiceNo string       `json:"invoiceNo"`
	Title     string       `json:"title"`
	TaxID     string       `json:"taxId"`
	Amount    money.Amount `json:"amount"`
	OrderIDs  []string     `json:"orderIds"`
	CreatedBy string       `json:"createdBy"`
	CreatedAt time.Time    `json:"createdAt"`
}

// InvoiceRequest invoices a set of orders.
type InvoiceRequest struct {
	Projects  []string
	Title     string
	TaxID     string
	OrderIDs  []string
	CreatedBy string
}

// CreateInvoice invoices completed orders of one project, each once: an
// order already invoiced makes the whole request chargepay.ErrAlreadyInvoiced
// and writes nothing. The orders are locked, so two invoices racing for
// one order cannot both take it.
func CreateInvoice(ctx context.Context, db *store.DB, in InvoiceRequest) (Invoice, error) {
	id := uuid.NewString()
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select o.id::text, o.project_id::text, o.status, coalesce(o.amount,0),
			exists(select 1 from charging_invoice_orders i where i.order_id=o.id)
			from charging_orders o where o.id::text = any($1) and o.project_id::text = any($2) order by o.id for update of o`,
			in.OrderIDs, in.Projects)
		if err != nil {
			return err
		}
		var project string
		lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chargepay.InvoiceLine, error) {
			var l chargepay.InvoiceLine
			var p string
			err := r.Scan(&l.OrderID, &p, &l.Status, &l.Amount, &l.Invoiced)
			if project == "" {
				project = p
			} else if p != project {
				err = fmt.Errorf("orders of two projects: %w", chargepay.ErrNotInvoiceable)
			}
			return l, err
		})
		if err != nil {
			return err
		}
		if len(lines) != len(in.OrderIDs) {
			return fmt.Errorf("%d of %d orders: %w", len(lines), len(in.OrderIDs), ErrNotFound)
		}
		total, err := chargepay.InvoiceTotal(lines)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into charging_invoices(id, project_id, invoice_no, title, tax_no, amount, created_by)
			values($1,$2,'CI'||to_char(now() at time zone 'Asia/Shanghai','YYYYMMDD')||lpad(nextval('charging_invoice_seq')::text,8,'0'),
			$3,$4,$5,nullif($6,'')::uuid)`, id, project, in.Title, in.TaxID, total, in.CreatedBy); err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := tx.Exec(ctx, `insert into charging_invoice_orders(order_id, invoice_id, amount) values($1,$2,$3)`,
				l.OrderID, id, l.Amount); err != nil {
				if store.IsUniqueViolation(err) {
					return fmt.Errorf("order %s: %w", l.OrderID, chargepay.ErrAlreadyInvoiced)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Invoice{}, err
	}
	return GetInvoice(ctx, db, in.Projects, id)
}

// GetInvoice reads an invoice of charging orders among the projects.
func GetInvoice(ctx context.Context, db *store.DB, projects []string, id string) (Invoice, error) {
	var v Invoice
	var by *string
	err := db.QueryRow(ctx, `select id::text, project_id::text, invoice_no, title, tax_no, amount, created_by::text, created_at,
		array(select order_id::text from charging_invoice_orders o where o.invoice_id=i.id order by 1)
		from charging_invoices i where id::text=$1 and project_id::text = any($2)`, id, projects).
		Scan(&v.ID, &v.ProjectID, &v.InvoiceNo, &v.Title, &v.TaxID, &v.Amount, &by, &v.CreatedAt, &v.OrderIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("invoice %s: %w", id, ErrNotFound)
	}
	if by != nil {
		v.CreatedBy = *by
	}
	return v, err
}
