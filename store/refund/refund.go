// Package refund keeps the refund projection in PostgreSQL (退电 and 冲正) and
// books refunds in the ledger: the queries and writes the API, the
// activities (activities/refund) and reports share. Each write is idempotent.
package refund

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// StatusInput moves a refund to a status.
type StatusInput struct {
	RefundID string             `json:"refundId"`
	Status   rechargedom.Status `json:"status"`
	Failure  string             `json:"failure"`
}

// SetRefundStatus writes the status the API shows.
func SetRefundStatus(ctx context.Context, db *store.DB, in StatusInput) error {
	return rechargestore.WriteStatus(ctx, db, "refunds", "refund", in.RefundID, in.Status, in.Failure)
}

// BookInput books a refund once it is approved.
type BookInput struct {
	RefundID  string         `json:"refundId"`
	ProjectID string         `json:"projectId"`
	MeterNo   string         `json:"meterNo"`
	Amount    money.Amount   `json:"amount"`
	Kind      refunddom.Kind `json:"kind"`
}

// BalanceError is BookRefund's refusal when the wallet no longer covers the
// refund (another refund was booked since the application); it wraps
// domain.ErrExceedsBalance.
type BalanceError struct{ Msg string }

func (e *BalanceError) Error() string { return e.Msg }
func (e *BalanceError) Unwrap() error { return refunddom.ErrExceedsBalance }

// ErrTypeExceedsBalance is the error type (temporal.ApplicationError) the
// BookRefund activity reports a BalanceError with.
const ErrTypeExceedsBalance = "RefundExceedsBalance"

// Entry keys, one per step, so a replayed step books nothing new.
func withdrawnKey(id string) string { return "refund/" + id + "/withdrawn" }
func paidKey(id string) string      { return "refund/" + id + "/paid" }

// BookRefund takes the amount out of the meter's wallet into refund payable
// and marks the refund dispatching, in one transaction. The wallet is
// locked and checked first: a wallet never goes below zero.
func BookRefund(ctx context.Context, db *store.DB, in BookInput) error {
	wallet := ledgerdom.MeterWallet(in.MeterNo)
	e := ledgerdom.Transfer(withdrawnKey(in.RefundID), string(in.Kind), string(in.Kind)+" from meter "+in.MeterNo,
		ledgerdom.Posting{Account: ledgerdom.PendingRefundCode, Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: wallet, Kind: ledgerdom.Liability}, in.Amount)
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var booked bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from journal_entries where project_id=$1 and key=$2)`,
			in.ProjectID, e.Key).Scan(&booked); err != nil {
			return fmt.Errorf("book refund %s: %w", in.RefundID, err)
		}
		if !booked {
			var raw money.Amount
			err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`,
				in.ProjectID, wallet).Scan(&raw)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("lock wallet %s: %w", wallet, err)
			}
			if have := ledgerdom.Display(ledgerdom.Liability, raw); in.Amount.GreaterThan(have) {
				msg := fmt.Sprintf("wallet %s holds %s, less than the %s of %s", wallet, have, in.Kind, in.Amount)
				return &BalanceError{Msg: msg}
			}
			if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `update refunds set status='dispatching', updated_at=now() where id=$1`, in.RefundID)
		return err
	})
}

// SettleInput completes a refund the meter took.
type SettleInput struct {
	RefundID  string         `json:"refundId"`
	ProjectID string         `json:"projectId"`
	MeterNo   string         `json:"meterNo"`
	Amount    money.Amount   `json:"amount"`
	Kind      refunddom.Kind `json:"kind"`
	Counter   int            `json:"counter"`
}

// SettleRefund pays the refund out in cash and marks it completed.
func SettleRefund(ctx context.Context, db *store.DB, in SettleInput) error {
	e := ledgerdom.Transfer(paidKey(in.RefundID), string(in.Kind)+"-paid", "meter "+in.MeterNo+" gave back the "+string(in.Kind),
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset},
		ledgerdom.Posting{Account: ledgerdom.PendingRefundCode, Kind: ledgerdom.Liability}, in.Amount)
	return rechargestore.Settle(ctx, db, "refunds", in.ProjectID, in.RefundID, in.Counter, e)
}

// Refund is the projection the API reads.
type Refund struct {
	ID                 string             `json:"id"`
	ProjectID          string             `json:"-"`
	MeterID            string             `json:"-"`
	MeterNo            string             `json:"meterNo"`
	Amount             money.Amount       `json:"amount"`
	TransactionNo      string             `json:"transactionNo"`
	Kind               refunddom.Kind     `json:"kind"`
	ReversesRechargeID *string            `json:"reversesRechargeId,omitempty"`
	Reason             string             `json:"reason,omitempty"`
	Status             rechargedom.Status `json:"status"`
	WorkflowID         string             `json:"workflowId"`
	CreatedBy          string             `json:"createdBy"`
	CreatedAt          time.Time          `json:"createdAt"`
	UpdatedAt          time.Time          `json:"updatedAt"`
	CompletedAt        *time.Time         `json:"completedAt,omitempty"`
	MeterCounter       *int               `json:"meterCounter,omitempty"`
	Failure            string             `json:"failure,omitempty"`
	// Full: a full refund (彻底退费), its amount the whole refundable balance
	// read when it was applied for. KeepPower: a refund without cutting
	// power (不断电退费), the meter kept on in protect mode (保电).
	Full      bool `json:"full"`
	KeepPower bool `json:"keepPower"`
}

// Errors of the projection.
var (
	ErrNotFound        = errors.New("refund not found")
	ErrAlreadyReversed = errors.New("the recharge is already reversed or has a reversal under way")
)

const columns = `id, project_id, meter_id, meter_no, amount, transaction_no, kind, reverses_recharge_id, reason, status,
	workflow_id, created_by, created_at, updated_at, completed_at, meter_counter, failure, full_refund, keep_power`

func scan(row pgx.Row) (Refund, error) {
	var r Refund
	var status, kind string
	err := row.Scan(&r.ID, &r.ProjectID, &r.MeterID, &r.MeterNo, &r.Amount, &r.TransactionNo, &kind, &r.ReversesRechargeID,
		&r.Reason, &status, &r.WorkflowID, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.CompletedAt, &r.MeterCounter, &r.Failure,
		&r.Full, &r.KeepPower)
	r.Status, r.Kind = rechargedom.Status(status), refunddom.Kind(kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Get reads one refund within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Refund, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from refunds where id::text=$1 and project_id::text = any($2)`, id, projects))
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func byTransactionNo(ctx context.Context, q querier, projectID, transactionNo string) (Refund, error) {
	return scan(q.QueryRow(ctx, `select `+columns+` from refunds where project_id=$1 and transaction_no=$2`, projectID, transactionNo))
}

// Balance reads what bounds a new refund on a meter (domain/refund.Balance).
func Balance(ctx context.Context, q querier, projectID, meterID, meterNo string) (refunddom.Balance, error) {
	var b refunddom.Balance
	var raw money.Amount
	err := q.QueryRow(ctx, `select
		coalesce((select balance from ledger_accounts where project_id=$1 and code=$2), 0),
		(select remaining from meter_state where meter_id=$3),
		coalesce((select sum(amount) from refunds where meter_id=$3 and status in ('pending_approval','approved')), 0),
		coalesce((select sum(amount) from refunds where meter_id=$3 and status not in ('completed','rejected')), 0)`,
		projectID, ledgerdom.MeterWallet(meterNo), meterID).Scan(&raw, &b.Remaining, &b.Unbooked, &b.Undelivered)
	if err != nil {
		return b, fmt.Errorf("refundable balance of %s: %w", meterNo, err)
	}
	b.Wallet = ledgerdom.Display(ledgerdom.Liability, raw)
	return b, nil
}

// Apply records a refund application. A transaction number used before in
// the project returns that refund (created=false) without any check; a new
// one is checked against the refundable balance under a per-meter lock, so
// two applications cannot both spend the same balance, and is refused with
// domain.ErrExceedsBalance without writing anything.
func Apply(ctx context.Context, db *store.DB, r Refund) (out Refund, created bool, err error) {
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('refund:' || $1))`, r.MeterID); err != nil {
			return fmt.Errorf("lock refunds of %s: %w", r.MeterNo, err)
		}
		existing, err := byTransactionNo(ctx, tx, r.ProjectID, r.TransactionNo)
		if err == nil {
			out = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if r.ReversesRechargeID != nil {
			// Before the balance: a reversed recharge's amount has left the wallet.
			var reversed bool
			if err := tx.QueryRow(ctx, `select exists(select 1 from refunds where reverses_recharge_id=$1 and status <> 'rejected')`,
				*r.ReversesRechargeID).Scan(&reversed); err != nil {
				return err
			}
			if reversed {
				return ErrAlreadyReversed
			}
		}
		b, err := Balance(ctx, tx, r.ProjectID, r.MeterID, r.MeterNo)
		if err != nil {
			return err
		}
		if r.Full {
			// The amount is read here, under the lock: everything refundable now.
			r.Amount = b.Refundable()
			if !r.Amount.IsPositive() {
				return fmt.Errorf("nothing refundable: %w", refunddom.ErrExceedsBalance)
			}
		}
		if err := b.Check(r.Amount); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into refunds(id, project_id, meter_id, meter_no, transaction_no, amount, kind,
			reverses_recharge_id, reason, status, workflow_id, created_by, full_refund, keep_power)
			values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
			r.ID, r.ProjectID, r.MeterID, r.MeterNo, r.TransactionNo, r.Amount, string(r.Kind), r.ReversesRechargeID,
			r.Reason, string(r.Status), r.WorkflowID, r.CreatedBy, r.Full, r.KeepPower); err != nil {
			return err
		}
		out, err = scan(tx.QueryRow(ctx, `select `+columns+` from refunds where id=$1`, r.ID))
		created = true
		return err
	})
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, ErrAlreadyReversed), errors.As(err, &pe) && pe.ConstraintName == "refunds_reverses_once":
		return Refund{}, false, ErrAlreadyReversed
	case store.IsUniqueViolation(err):
		// The same number on another meter, in a race: the first one holds it.
		existing, err := byTransactionNo(ctx, db, r.ProjectID, r.TransactionNo)
		return existing, false, err
	case err != nil:
		return Refund{}, false, fmt.Errorf("apply for %s: %w", r.Kind, err)
	}
	return out, created, nil
}
