// Package voucher keeps vouchers (代金券) in PostgreSQL and books them in the
// ledger: issuance debits the promotion account and credits one account per
// voucher; redemption moves value from a voucher into the meter's
// voucher-funded account (never its cash wallet); voiding and expiry book the
// unused value back. The API and the activities (activities/voucher) share
// these queries and writes; each write is idempotent.
package voucher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Batch is the projection of one application.
type Batch struct {
	ID             string                 `json:"id"`
	ProjectID      string                 `json:"projectId"`
	TransactionNo  string                 `json:"transactionNo"`
	Name           string                 `json:"name"`
	FaceValue      money.Amount           `json:"faceValue"`
	Quantity       int                    `json:"quantity"`
	ExpiresAt      time.Time              `json:"expiresAt"`
	Status         voucherdom.BatchStatus `json:"status"`
	IssuingGroupID *string                `json:"issuingGroupId,omitempty"`
	WorkflowID     string                 `json:"workflowId"`
	CreatedBy      string                 `json:"createdBy"`
	CreatedAt      time.Time              `json:"createdAt"`
	UpdatedAt      time.Time              `json:"updatedAt"`
	Reason         string                 `json:"reason,omitempty"`
	Recipients     []string               `json:"recipients"`
	// ChargingRule is what its vouchers pay of a charging order: whole or service_fee.
	ChargingRule string `json:"chargingRule"`
}

// Voucher is one voucher with its unused value from the ledger.
type Voucher struct {
	ID         string            `json:"id"`
	ProjectID  string            `json:"projectId"`
	BatchID    string            `json:"batchId"`
	VoucherNo  string            `json:"voucherNo"`
	CustomerID string            `json:"customerId"`
	FaceValue  money.Amount      `json:"faceValue"`
	Unused     money.Amount      `json:"unused"`
	Status     voucherdom.Status `json:"status"`
	ExpiresAt  time.Time         `json:"expiresAt"`
	IssuedAt   time.Time         `json:"issuedAt"`
	ClosedAt   *time.Time        `json:"closedAt,omitempty"`
	// ChargingRule is what it pays of a charging order: whole or service_fee.
	ChargingRule string `json:"chargingRule"`
}

// Errors of the projection.
var (
	ErrNotFound         = errors.New("not found")
	ErrUnknownCustomers = errors.New("unknown customer in this project")
	ErrVoidUnderWay     = errors.New("a void of this voucher is already under way")
)

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const batchColumns = `id, project_id, transaction_no, name, face_value, quantity, expires_at, status, issuing_group_id,
	workflow_id, created_by, created_at, updated_at, reason,
	array(select customer_id::text from voucher_batch_recipients r where r.batch_id = voucher_batches.id order by 1), charging_rule`

func scanBatch(row pgx.Row) (Batch, error) {
	var b Batch
	var status string
	err := row.Scan(&b.ID, &b.ProjectID, &b.TransactionNo, &b.Name, &b.FaceValue, &b.Quantity, &b.ExpiresAt, &status,
		&b.IssuingGroupID, &b.WorkflowID, &b.CreatedBy, &b.CreatedAt, &b.UpdatedAt, &b.Reason, &b.Recipients, &b.ChargingRule)
	b.Status = voucherdom.BatchStatus(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	return b, err
}

// GetBatch reads one batch within the given projects.
func GetBatch(ctx context.Context, q querier, projects []string, id string) (Batch, error) {
	return scanBatch(q.QueryRow(ctx, `select `+batchColumns+` from voucher_batches where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// CreateBatch records an application; a transaction number used before in
// the project returns that batch (created=false).
func CreateBatch(ctx context.Context, db *store.DB, b Batch) (Batch, bool, error) {
	if b.ChargingRule == "" {
		b.ChargingRule = "whole"
	}
	_, err := db.Exec(ctx, `insert into voucher_batches(id, project_id, transaction_no, name, face_value, quantity, expires_at,
		status, workflow_id, created_by, charging_rule) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		b.ID, b.ProjectID, b.TransactionNo, b.Name, b.FaceValue, b.Quantity, b.ExpiresAt, string(b.Status), b.WorkflowID, b.CreatedBy,
		b.ChargingRule)
	if store.IsUniqueViolation(err) {
		existing, err := scanBatch(db.QueryRow(ctx, `select `+batchColumns+` from voucher_batches where project_id=$1 and transaction_no=$2`,
			b.ProjectID, b.TransactionNo))
		return existing, false, err
	}
	if err != nil {
		return Batch{}, false, fmt.Errorf("create voucher batch: %w", err)
	}
	got, err := GetBatch(ctx, db, []string{b.ProjectID}, b.ID)
	return got, true, err
}

// ListBatches returns batches newest first after the cursor.
func ListBatches(ctx context.Context, db *store.DB, projects []string, limit int, before *time.Time, beforeID string) ([]Batch, error) {
	rows, err := db.Query(ctx, `select `+batchColumns+` from voucher_batches where project_id::text = any($1)
		and ($2::timestamptz is null or (created_at, id::text) < ($2, $3))
		order by created_at desc, id::text desc limit $4`, projects, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Batch, error) { return scanBatch(r) })
}

const voucherColumns = `v.id, v.project_id, v.batch_id, v.voucher_no, v.customer_id, v.face_value,
	coalesce((select -a.balance from ledger_accounts a where a.project_id=v.project_id and a.code='` + voucherdom.AccountPrefix + `' || v.voucher_no), 0),
	v.status, v.expires_at, v.issued_at, v.closed_at, v.charging_rule`

func scanVoucher(row pgx.Row) (Voucher, error) {
	var v Voucher
	var status string
	err := row.Scan(&v.ID, &v.ProjectID, &v.BatchID, &v.VoucherNo, &v.CustomerID, &v.FaceValue, &v.Unused, &status,
		&v.ExpiresAt, &v.IssuedAt, &v.ClosedAt, &v.ChargingRule)
	v.Status = voucherdom.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// GetVoucher reads one voucher by id or number within the given projects.
func GetVoucher(ctx context.Context, q querier, projects []string, idOrNo string) (Voucher, error) {
	return scanVoucher(q.QueryRow(ctx, `select `+voucherColumns+` from vouchers v
		where (v.id::text=$1 or v.voucher_no=$1) and v.project_id::text = any($2)`, idOrNo, projects))
}

// VoucherFilter selects vouchers, a page at a time: at most Limit (500
// when 0) with numbers after After.
type VoucherFilter struct {
	Projects   []string
	BatchID    string
	CustomerID string
	Status     string
	Limit      int
	After      string // the last voucher number of the previous page
}

// ListVouchers returns the vouchers the filter selects, by number.
func ListVouchers(ctx context.Context, q querier, f VoucherFilter) ([]Voucher, error) {
	if f.Limit == 0 {
		f.Limit = 500
	}
	rows, err := q.Query(ctx, `select `+voucherColumns+` from vouchers v where v.project_id::text = any($1)
		and ($2 = '' or v.batch_id::text = $2) and ($3 = '' or v.customer_id::text = $3) and ($4 = '' or v.status = $4)
		and v.voucher_no > $5
		order by v.voucher_no limit $6`, f.Projects, f.BatchID, f.CustomerID, f.Status, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Voucher, error) { return scanVoucher(r) })
}

// Customers resolves an issuance's recipients: the customers named and the
// members of the issuing group, each once, all of the project.
func Customers(ctx context.Context, db *store.DB, projectID string, customerIDs []string, groupID string) ([]string, error) {
	rows, err := db.Query(ctx, `select distinct c.id::text from customers c where c.project_id=$1 and (c.id::text = any($2)
		or c.id in (select customer_id from issuing_group_members m join issuing_groups g on g.id=m.group_id
			where g.id::text=$3 and g.project_id=$1)) order by 1`, projectID, customerIDs, groupID)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, id := range ids {
		found[id] = true
	}
	for _, id := range customerIDs {
		if !found[id] {
			return nil, fmt.Errorf("customer %s: %w", id, ErrUnknownCustomers)
		}
	}
	return ids, nil
}

// StatusInput moves a batch to a status.
type StatusInput struct {
	BatchID string                 `json:"batchId"`
	Status  voucherdom.BatchStatus `json:"status"`
	Reason  string                 `json:"reason"`
}

// SetBatchStatus writes the status the API shows.
func SetBatchStatus(ctx context.Context, db *store.DB, in StatusInput) error {
	_, err := db.Exec(ctx, `update voucher_batches set status=$2, reason=$3, updated_at=now() where id=$1`,
		in.BatchID, string(in.Status), in.Reason)
	if err != nil {
		return fmt.Errorf("voucher batch %s status %s: %w", in.BatchID, in.Status, err)
	}
	return nil
}

// IssuanceInput is an issuance applied for (电子券发放).
type IssuanceInput struct {
	BatchID     string   `json:"batchId"`
	CustomerIDs []string `json:"customerIds"`
	GroupID     string   `json:"groupId,omitempty"`
}

// RecordIssuance writes the recipients and moves the batch to issuing.
func RecordIssuance(ctx context.Context, db *store.DB, in IssuanceInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		for _, c := range in.CustomerIDs {
			if _, err := tx.Exec(ctx, `insert into voucher_batch_recipients(batch_id, customer_id) values($1,$2)
				on conflict do nothing`, in.BatchID, c); err != nil {
				return fmt.Errorf("recipient %s: %w", c, err)
			}
		}
		var group any
		if in.GroupID != "" {
			group = in.GroupID
		}
		_, err := tx.Exec(ctx, `update voucher_batches set status='issuing', issuing_group_id=$2, updated_at=now() where id=$1`,
			in.BatchID, group)
		return err
	})
}

// IssueInput books an approved issuance.
type IssueInput struct {
	BatchID   string `json:"batchId"`
	ProjectID string `json:"projectId"`
}

// IssueBatch creates one voucher per recipient and books them in one entry —
// promotion debited, each voucher's account credited — and marks the batch
// issued, all in one transaction.
func IssueBatch(ctx context.Context, db *store.DB, in IssueInput) (int, error) {
	var n int
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		b, err := GetBatch(ctx, tx, []string{in.ProjectID}, in.BatchID)
		if err != nil {
			return err
		}
		e := ledgerdom.Entry{Key: "voucher-batch/" + b.ID + "/issued", Kind: "voucher-issued",
			Memo: fmt.Sprintf("%d vouchers of %s (%s)", len(b.Recipients), b.FaceValue, b.Name)}
		total := money.Zero
		for i, c := range b.Recipients {
			no := voucherdom.Number(b.ID, i+1)
			if _, err := tx.Exec(ctx, `insert into vouchers(id, project_id, batch_id, voucher_no, customer_id, face_value, status, expires_at,
				charging_rule) values(gen_random_uuid(),$1,$2,$3,$4,$5,'active',$6,
				(select charging_rule from voucher_batches where id=$2)) on conflict (voucher_no) do nothing`,
				b.ProjectID, b.ID, no, c, b.FaceValue, b.ExpiresAt); err != nil {
				return fmt.Errorf("voucher %s: %w", no, err)
			}
			e.Postings = append(e.Postings, ledgerdom.Posting{Account: voucherdom.Account(no), Kind: ledgerdom.Liability, Amount: b.FaceValue.Neg()})
			total = total.Add(b.FaceValue)
		}
		n = len(b.Recipients)
		if n == 0 {
			return fmt.Errorf("batch has no recipients: %w", voucherdom.ErrNoRecipients)
		}
		e.Postings = append(e.Postings, ledgerdom.Posting{Account: voucherdom.PromotionAccount, Kind: ledgerdom.Expense, Amount: total})
		if _, err := ledgerstore.BookTx(ctx, tx, b.ProjectID, e); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `update voucher_batches set status='issued', reason='', updated_at=now() where id=$1`, b.ID)
		return err
	})
	return n, err
}

// ExpireInput expires a batch's vouchers.
type ExpireInput struct {
	BatchID   string `json:"batchId"`
	ProjectID string `json:"projectId"`
}

// ExpireBatch closes every active voucher of the batch whose expiry has
// passed, booking its unused value back to promotion, and marks the batch
// expired once none is left active. It reports how many it expired.
func ExpireBatch(ctx context.Context, db *store.DB, in ExpireInput) (int, error) {
	var n int
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select `+voucherColumns+` from vouchers v where v.batch_id=$1 and v.status='active'
			and v.expires_at <= now() order by v.voucher_no for update`, in.BatchID)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Voucher, error) { return scanVoucher(r) })
		if err != nil {
			return err
		}
		for _, v := range vs {
			if err := closeVoucher(ctx, tx, v, voucherdom.Expired, "voucher/"+v.VoucherNo+"/expired", "voucher-expired"); err != nil {
				return err
			}
		}
		n = len(vs)
		_, err = tx.Exec(ctx, `update voucher_batches set status='expired', updated_at=now() where id=$1 and status='issued'
			and not exists(select 1 from vouchers where batch_id=$1 and status='active')`, in.BatchID)
		return err
	})
	return n, err
}

// closeVoucher books a voucher's unused value back to promotion and sets its
// final status.
func closeVoucher(ctx context.Context, tx pgx.Tx, v Voucher, to voucherdom.Status, key, kind string) error {
	if v.Unused.IsPositive() {
		e := ledgerdom.Transfer(key, kind, string(to)+" voucher "+v.VoucherNo+": unused value back",
			ledgerdom.Posting{Account: voucherdom.PromotionAccount, Kind: ledgerdom.Expense},
			ledgerdom.Posting{Account: voucherdom.Account(v.VoucherNo), Kind: ledgerdom.Liability}, v.Unused)
		if _, err := ledgerstore.BookTx(ctx, tx, v.ProjectID, e); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `update vouchers set status=$2, closed_at=now() where id=$1`, v.ID, string(to))
	return err
}
