// Package wallet keeps the recharges and refunds of charging-card wallets
// (F2, card_wallet_requests) and books them in the ledger on the card's
// prepaid account (customer-wallet:<account no>); it also reads a wallet's
// statement. The API, the activities (activities/wallet) and reports share
// these functions; each write is idempotent.
package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/card"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// ErrNotFound is an unknown request id among the caller's projects.
var ErrNotFound = errors.New("wallet request not found")

// Request is a recharge or refund of a card's wallet as the API shows it.
// Statuses are the recharge's: pending_approval, approved, completed
// (booked), rejected.
type Request struct {
	ID            string             `json:"id"`
	ProjectID     string             `json:"projectId"`
	Kind          card.WalletKind    `json:"kind"`
	CardNo        string             `json:"cardNo"`
	AccountNo     string             `json:"accountNo"`
	Method        card.Method        `json:"method,omitempty"`
	TransactionNo string             `json:"transactionNo"`
	Amount        money.Amount       `json:"amount"`
	Status        rechargedom.Status `json:"status"`
	NeedsApproval bool               `json:"needsApproval"`
	WorkflowID    string             `json:"workflowId"`
	Failure       string             `json:"failure,omitempty"`
	CreatedBy     string             `json:"createdBy"`
	CreatedAt     time.Time          `json:"createdAt"`
	UpdatedAt     time.Time          `json:"updatedAt"`
}

// Same reports whether a repeated transaction number carries the same
// request; a different body under the same key is a conflict.
func (r Request) Same(o Request) bool {
	return r.Kind == o.Kind && r.CardNo == o.CardNo && r.Method == o.Method && r.TransactionNo == o.TransactionNo && r.Amount.Equal(o.Amount)
}

// Apply records a request once per (kind, transaction number) in its
// project; a repeat returns the first one (created false) for the caller
// to compare.
func Apply(ctx context.Context, db *store.DB, want Request) (Request, bool, error) {
	tag, err := db.Exec(ctx, `insert into card_wallet_requests(id, project_id, kind, card_no, account_no, method, transaction_no,
		amount, status, needs_approval, workflow_id, created_by) values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,nullif($12,'')::uuid)
		on conflict (project_id, kind, transaction_no) do nothing`,
		want.ID, want.ProjectID, string(want.Kind), want.CardNo, want.AccountNo, string(want.Method), want.TransactionNo,
		want.Amount, string(want.Status), want.NeedsApproval, want.WorkflowID, want.CreatedBy)
	if err != nil {
		return Request{}, false, fmt.Errorf("apply wallet %s %s: %w", want.Kind, want.TransactionNo, err)
	}
	got, err := scan(db.QueryRow(ctx, `select `+columns+` from card_wallet_requests
		where project_id=$1 and kind=$2 and transaction_no=$3`, want.ProjectID, string(want.Kind), want.TransactionNo))
	return got, tag.RowsAffected() == 1, err
}

const columns = `id, project_id, kind, card_no, account_no, method, transaction_no, amount, status, needs_approval,
	workflow_id, failure, coalesce(created_by::text, ''), created_at, updated_at`

func scan(row pgx.Row) (Request, error) {
	var r Request
	err := row.Scan(&r.ID, &r.ProjectID, &r.Kind, &r.CardNo, &r.AccountNo, &r.Method, &r.TransactionNo, &r.Amount, &r.Status,
		&r.NeedsApproval, &r.WorkflowID, &r.Failure, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Get reads a request of one kind among the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, kind card.WalletKind, id string) (Request, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from card_wallet_requests
		where id::text=$1 and kind=$2 and project_id::text = any($3)`, id, string(kind), projects))
}

// StatusInput moves a request to a status.
type StatusInput struct {
	RequestID string             `json:"requestId"`
	Status    rechargedom.Status `json:"status"`
	Failure   string             `json:"failure"`
}

// SetStatus writes the status the API shows.
func SetStatus(ctx context.Context, db *store.DB, in StatusInput) error {
	return rechargestore.WriteStatus(ctx, db, "card_wallet_requests", "wallet request", in.RequestID, in.Status, in.Failure)
}

// BookInput books an approved request.
type BookInput struct {
	RequestID string          `json:"requestId"`
	ProjectID string          `json:"projectId"`
	Kind      card.WalletKind `json:"kind"`
	Method    card.Method     `json:"method,omitempty"`
	AccountNo string          `json:"accountNo"`
	Amount    money.Amount    `json:"amount"`
}

// BalanceError is Book's refusal of a refund the wallet no longer covers
// (the holder charged, or another refund was booked, since the application).
type BalanceError struct{ Msg string }

func (e *BalanceError) Error() string { return e.Msg }

// ErrTypeExceedsBalance is the error type (temporal.ApplicationError) the
// BookWalletRequest activity reports a BalanceError with.
const ErrTypeExceedsBalance = "WalletExceedsBalance"

// Book books the request in the ledger (记账) and completes it in one
// transaction: a completed request is always booked, a rejected one never.
// A refund locks the wallet and is refused when it does not cover it.
func Book(ctx context.Context, db *store.DB, in BookInput) error {
	e, err := card.WalletEntry("card-wallet-"+string(in.Kind)+"/"+in.RequestID, in.Kind, in.Method, in.AccountNo, in.Amount)
	if err != nil {
		return err
	}
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var booked bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from journal_entries where project_id=$1 and key=$2)`,
			in.ProjectID, e.Key).Scan(&booked); err != nil {
			return fmt.Errorf("book wallet %s %s: %w", in.Kind, in.RequestID, err)
		}
		if !booked && in.Kind == card.WalletRefund {
			var raw money.Amount
			err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`,
				in.ProjectID, ledgerdom.CustomerWallet(in.AccountNo)).Scan(&raw)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("lock wallet %s: %w", in.AccountNo, err)
			}
			if have := ledgerdom.Display(ledgerdom.Liability, raw); in.Amount.GreaterThan(have) {
				return &BalanceError{Msg: fmt.Sprintf("wallet %s holds %s, less than the refund of %s", in.AccountNo, have, in.Amount)}
			}
		}
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update card_wallet_requests set status=$2, failure='', updated_at=now() where id=$1`,
			in.RequestID, string(rechargedom.Completed))
		return err
	})
}

// Movement is one line of a wallet statement: a posting to the wallet with
// the balance after it (credit-normal: a recharge is positive).
type Movement struct {
	At      time.Time    `json:"at"`
	Kind    string       `json:"kind"` // the journal entry's kind: card-wallet-recharge, charging, ...
	Key     string       `json:"reference"`
	Memo    string       `json:"memo"`
	Amount  money.Amount `json:"amount"`
	Balance money.Amount `json:"balance"`
}

// Statement lists the movements of a prepaid account's wallet, oldest
// first, with the running balance.
func Statement(ctx context.Context, db *store.DB, projectID, accountNo string) ([]Movement, error) {
	rows, err := db.Query(ctx, `select e.created_at, e.kind, e.key, e.memo, -p.amount,
			sum(-p.amount) over (order by e.created_at, p.id)
		from postings p join journal_entries e on e.id = p.entry_id join ledger_accounts a on a.id = p.account_id
		where a.project_id=$1 and a.code=$2 order by e.created_at, p.id`, projectID, ledgerdom.CustomerWallet(accountNo))
	if err != nil {
		return nil, fmt.Errorf("statement of %s: %w", accountNo, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Movement, error) {
		var m Movement
		err := row.Scan(&m.At, &m.Kind, &m.Key, &m.Memo, &m.Amount, &m.Balance)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("statement of %s: %w", accountNo, err)
	}
	return out, nil
}

// Cursor, Headers and Cells make a movement a report row (format=xlsx).
func (m Movement) Cursor() string { return m.Key }

// Headers names the columns of Cells.
func (Movement) Headers() []string {
	return []string{"时间 Time", "类型 Kind", "凭证 Reference", "摘要 Memo", "金额 Amount", "余额 Balance"}
}

// Cells is the row.
func (m Movement) Cells() []any {
	return []any{m.At.Format(time.RFC3339), m.Kind, m.Key, m.Memo, m.Amount.String(), m.Balance.String()}
}
