package voucher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
)

// VoidStatus of a void application.
type VoidStatus string

const (
	VoidPending   VoidStatus = "pending_approval"
	VoidCompleted VoidStatus = "completed"
	VoidRejected  VoidStatus = "rejected"
)

// Void is an application to void a voucher (代金券作废申请).
type Void struct {
	ID         string     `json:"id"`
	ProjectID  string     `json:"projectId"`
	VoucherID  string     `json:"voucherId"`
	VoucherNo  string     `json:"voucherNo"`
	Reason     string     `json:"reason"`
	Status     VoidStatus `json:"status"`
	WorkflowID string     `json:"workflowId"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

const voidColumns = `d.id, d.project_id, d.voucher_id, v.voucher_no, d.reason, d.status, d.workflow_id, d.created_by, d.created_at, d.updated_at`

func scanVoid(row pgx.Row) (Void, error) {
	var d Void
	var status string
	err := row.Scan(&d.ID, &d.ProjectID, &d.VoucherID, &d.VoucherNo, &d.Reason, &status, &d.WorkflowID, &d.CreatedBy, &d.CreatedAt, &d.UpdatedAt)
	d.Status = VoidStatus(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// GetVoid reads one void application within the given projects.
func GetVoid(ctx context.Context, q querier, projects []string, id string) (Void, error) {
	return scanVoid(q.QueryRow(ctx, `select `+voidColumns+` from voucher_voids d join vouchers v on v.id=d.voucher_id
		where d.id::text=$1 and d.project_id::text = any($2)`, id, projects))
}

// ApplyVoid records a void application for an active voucher; one void at a
// time per voucher (ErrVoidUnderWay), none for a voucher no longer active
// (domain.ErrNotVoidable). Nothing is written on refusal.
func ApplyVoid(ctx context.Context, db *store.DB, d Void) (Void, error) {
	var out Void
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `select status from vouchers where id=$1 for update`, d.VoucherID).Scan(&status); err != nil {
			return fmt.Errorf("voucher %s: %w", d.VoucherID, err)
		}
		if err := voucherdom.CheckVoid(voucherdom.Status(status)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into voucher_voids(id, project_id, voucher_id, reason, status, workflow_id, created_by)
			values($1,$2,$3,$4,'pending_approval',$5,$6)`, d.ID, d.ProjectID, d.VoucherID, d.Reason, d.WorkflowID, d.CreatedBy); err != nil {
			return err
		}
		var err error
		out, err = GetVoid(ctx, tx, []string{d.ProjectID}, d.ID)
		return err
	})
	if store.IsUniqueViolation(err) {
		return Void{}, ErrVoidUnderWay
	}
	return out, err
}

// VoidInput names a void application.
type VoidInput struct {
	VoidID string `json:"voidId"`
	Reason string `json:"reason"`
}

// RejectVoid records a refused void; the voucher stays as it was.
func RejectVoid(ctx context.Context, db *store.DB, in VoidInput) error {
	_, err := db.Exec(ctx, `update voucher_voids set status='rejected', updated_at=now() where id=$1 and status='pending_approval'`, in.VoidID)
	return err
}

// VoidVoucher books an approved void: the voucher's unused value goes back
// to promotion and the voucher is voided, with the application completed,
// in one transaction. A voucher that stopped being active meanwhile (spent
// or expired) has nothing left to void: the application completes without
// booking. It reports the voucher's status afterwards.
func VoidVoucher(ctx context.Context, db *store.DB, in VoidInput) (voucherdom.Status, error) {
	var out voucherdom.Status
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var voucherID, projectID string
		if err := tx.QueryRow(ctx, `select voucher_id, project_id from voucher_voids where id=$1`, in.VoidID).Scan(&voucherID, &projectID); err != nil {
			return fmt.Errorf("void %s: %w", in.VoidID, err)
		}
		v, err := scanVoucher(tx.QueryRow(ctx, `select `+voucherColumns+` from vouchers v where v.id=$1 for update`, voucherID))
		if err != nil {
			return err
		}
		out = v.Status
		if v.Status == voucherdom.Active {
			if err := closeVoucher(ctx, tx, v, voucherdom.Voided, "voucher-void/"+in.VoidID, "voucher-voided"); err != nil {
				return err
			}
			out = voucherdom.Voided
		}
		_, err = tx.Exec(ctx, `update voucher_voids set status='completed', updated_at=now() where id=$1`, in.VoidID)
		return err
	})
	return out, err
}
