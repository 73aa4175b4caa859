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
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

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
// and marks the recharge dispatching, in one transaction. An adjustment
// (调整电费充值) brings no cash: it is booked from the adjustment account, a
// monthly allowance (月补电量) from the allowance account. The
// kind is read from the row, so the workflow's input needs no new field.
func BookRecharge(ctx context.Context, db *store.DB, in BookInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var kind string
		if err := tx.QueryRow(ctx, `select kind from recharges where id=$1`, in.RechargeID).Scan(&kind); err != nil {
			return fmt.Errorf("kind of recharge %s: %w", in.RechargeID, err)
		}
		from := ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}
		entryKind, memo := "recharge", "sale to meter "+in.MeterNo
		switch rechargedom.Kind(kind) {
		case rechargedom.Adjustment:
			from = ledgerdom.Posting{Account: ledgerdom.AdjustmentAccount, Kind: ledgerdom.Expense}
			entryKind, memo = "recharge-adjustment", "adjustment recharge of meter "+in.MeterNo
		case rechargedom.Allowance:
			// 月补电量: the property company's subsidy, no cash.
			from = ledgerdom.Posting{Account: ledgerdom.AllowanceAccount, Kind: ledgerdom.Expense}
			entryKind, memo = "recharge-allowance", "monthly allowance of meter "+in.MeterNo
		}
		e := ledgerdom.Transfer(saleKey(in.RechargeID), entryKind, memo,
			ledgerdom.Posting{Account: ledgerdom.PendingDeliveryCode, Kind: ledgerdom.Liability}, from, in.Amount)
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
	// Kind is sale or adjustment; Reason explains an adjustment.
	Kind   rechargedom.Kind `json:"kind"`
	Reason string           `json:"reason,omitempty"`
	// KWh, Price and Ratio describe a sale by kWh (电度方式): amount =
	// kwh × ratio (CT × PT) × price.
	KWh   *rechargedom.Energy `json:"kwh,omitempty"`
	Price *money.Price        `json:"price,omitempty"`
	Ratio *int                `json:"ratio,omitempty"`
}

// ErrNotFound is an unknown recharge, or one of a project the caller cannot see.
var ErrNotFound = errors.New("recharge not found")

const columns = `id, project_id, meter_id, meter_no, amount, transaction_no, status, needs_approval, workflow_id,
	created_by, created_at, updated_at, completed_at, meter_counter, failure, kind, reason, kwh, price::text, ratio`

func scan(row pgx.Row) (Recharge, error) {
	var r Recharge
	var status, kind string
	var kwh decimal.NullDecimal
	var price *string
	err := row.Scan(&r.ID, &r.ProjectID, &r.MeterID, &r.MeterNo, &r.Amount, &r.TransactionNo, &status, &r.NeedsApproval,
		&r.WorkflowID, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.CompletedAt, &r.MeterCounter, &r.Failure,
		&kind, &r.Reason, &kwh, &price, &r.Ratio)
	r.Status, r.Kind = rechargedom.Status(status), rechargedom.Kind(kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	if kwh.Valid {
		r.KWh = &rechargedom.Energy{Decimal: kwh.Decimal.Round(2)}
	}
	if price != nil {
		p, err := money.ParsePrice(*price)
		if err != nil {
			return r, fmt.Errorf("price of recharge %s: %w", r.ID, err)
		}
		r.Price = &p
	}
	return r, nil
}

// Get reads one recharge within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Recharge, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from recharges where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// ByTransactionNo finds a recharge by its idempotency key.
func ByTransactionNo(ctx context.Context, db *store.DB, projectID, transactionNo string) (Recharge, error) {
	return byTransactionNo(ctx, db, projectID, transactionNo)
}

// Create inserts a new recharge; it reports created=false and the existing
// row when the transaction number was used before in the project.
func Create(ctx context.Context, db *store.DB, r Recharge) (Recharge, bool, error) {
	return CreateCapped(ctx, db, r, nil)
}

// CreateCapped is Create under the project's hoarding cap (囤积金额上限; nil
// is none): a new sale that would take the meter's balance above it is
// refused with domain/recharge.ErrHoardingCapExceeded and writes nothing. A
// transaction number used before returns its recharge without the check.
// The check holds a per-meter lock, so two sales cannot both fit under the
// same headroom.
func CreateCapped(ctx context.Context, db *store.DB, r Recharge, limit *money.Amount) (Recharge, bool, error) {
	var err error
	if limit == nil {
		err = insert(ctx, db, r)
	} else {
		err = store.InTx(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('recharge:' || $1))`, r.MeterID); err != nil {
				return fmt.Errorf("lock sales of %s: %w", r.MeterNo, err)
			}
			// A replay is not checked: its insert fails on the number, below.
			if _, err := byTransactionNo(ctx, tx, r.ProjectID, r.TransactionNo); errors.Is(err, ErrNotFound) {
				held, err := Held(ctx, tx, r.ProjectID, r.MeterID, r.MeterNo)
				if err != nil {
					return err
				}
				if err := rechargedom.CheckHoardingCap(limit, held, r.Amount); err != nil {
					return err
				}
			}
			return insert(ctx, tx, r)
		})
	}
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

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func insert(ctx context.Context, q querier, r Recharge) error {
	if r.Kind == "" {
		r.Kind = rechargedom.Sale
	}
	var price *string
	if r.Price != nil {
		p := r.Price.String()
		price = &p
	}
	_, err := q.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status,
		needs_approval, workflow_id, created_by, kind, reason, kwh, price, ratio)
		values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14::numeric,$15)`,
		r.ID, r.ProjectID, r.MeterID, r.MeterNo, r.TransactionNo, r.Amount, string(r.Status), r.NeedsApproval, r.WorkflowID, r.CreatedBy,
		string(r.Kind), r.Reason, r.KWh, price, r.Ratio)
	return err
}

func byTransactionNo(ctx context.Context, q querier, projectID, transactionNo string) (Recharge, error) {
	return scan(q.QueryRow(ctx, `select `+columns+` from recharges where project_id=$1 and transaction_no=$2`, projectID, transactionNo))
}

// Held is the balance a hoarding cap bounds: what the meter holds — its
// ledger wallet when it is platform-side, else its remaining money as last
// read (0 if never read) — plus its sales not yet completed or rejected,
// which neither shows yet.
func Held(ctx context.Context, q querier, projectID, meterID, meterNo string) (money.Amount, error) {
	var wallet, remaining, pending money.Amount
	var platform bool
	err := q.QueryRow(ctx, `select m.prepaid_mode = 'platform',
		coalesce((select balance from ledger_accounts where project_id=$1 and code=$2), 0),
		coalesce((select remaining from meter_state where meter_id=$3), 0),
		coalesce((select sum(amount) from recharges where meter_id=$3 and status not in ('completed','rejected')), 0)
		from meters m where m.id=$3`, projectID, ledgerdom.MeterWallet(meterNo), meterID).Scan(&platform, &wallet, &remaining, &pending)
	if err != nil {
		return money.Zero, fmt.Errorf("balance held by %s: %w", meterNo, err)
	}
	if platform {
		return ledgerdom.Display(ledgerdom.Liability, wallet).Add(pending), nil
	}
	return remaining.Add(pending), nil
}

// List returns recharges of the projects, newest first, after the cursor;
// a site-scoped caller's (scope) only of its meters.
func List(ctx context.Context, db *store.DB, projects []string, scope store.Scope, meterNo string, limit int, before *time.Time, beforeID string) ([]Recharge, error) {
	rows, err := db.Query(ctx, `select `+columns+` from recharges where project_id::text = any($1)
		and ($2 = '' or meter_no = $2)
		and ($3::timestamptz is null or (created_at, id::text) < ($3, $4))
		and `+scope.SQL("meter_id", 6)+`
		order by created_at desc, id::text desc limit $5`, projects, meterNo, before, beforeID, limit, scope.Args()[0], scope.Args()[1])
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
