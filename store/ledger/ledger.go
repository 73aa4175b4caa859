// Package ledger writes and reads the double-entry ledger in PostgreSQL.
// Every store package that books money (recharges, refunds, vouchers,
// credit, closings, charging orders) books through BookTx inside its own
// transaction, so a projection and its bookkeeping commit together.
package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Booked tells what Book did.
type Booked struct {
	EntryID string `json:"entryId"`
	// Created is false when the key had been booked before (idempotent replay).
	Created bool `json:"created"`
}

// Book writes an entry unless its key was booked before in the project.
func Book(ctx context.Context, db *store.DB, projectID string, e ledgerdom.Entry) (Booked, error) {
	var out Booked
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		out, err = BookTx(ctx, tx, projectID, e)
		return err
	})
	return out, err
}

// BookTx is Book inside the caller's transaction, so a projection and its
// bookkeeping commit together.
func BookTx(ctx context.Context, tx pgx.Tx, projectID string, e ledgerdom.Entry) (Booked, error) {
	if err := e.Validate(); err != nil {
		return Booked{}, fmt.Errorf("book %s: %w", e.Key, err)
	}
	id := uuid.NewString()
	tag, err := tx.Exec(ctx, `insert into journal_entries(id, project_id, key, kind, memo)
		values($1,$2,$3,$4,$5) on conflict (project_id, key) do nothing`, id, projectID, e.Key, e.Kind, e.Memo)
	if err != nil {
		return Booked{}, fmt.Errorf("book %s: %w", e.Key, err)
	}
	if tag.RowsAffected() == 0 {
		var existing string
		if err := tx.QueryRow(ctx, `select id from journal_entries where project_id=$1 and key=$2`, projectID, e.Key).Scan(&existing); err != nil {
			return Booked{}, fmt.Errorf("book %s: find existing: %w", e.Key, err)
		}
		return Booked{EntryID: existing}, nil
	}
	for _, p := range e.Postings {
		accountID, err := ensureAccount(ctx, tx, projectID, p.Account, p.Kind)
		if err != nil {
			return Booked{}, err
		}
		if _, err := tx.Exec(ctx, `insert into postings(entry_id, account_id, amount) values($1,$2,$3)`, id, accountID, p.Amount); err != nil {
			return Booked{}, fmt.Errorf("posting %s: %w", p.Account, err)
		}
		if _, err := tx.Exec(ctx, `update ledger_accounts set balance = balance + $2 where id=$1`, accountID, p.Amount); err != nil {
			return Booked{}, fmt.Errorf("balance %s: %w", p.Account, err)
		}
	}
	return Booked{EntryID: id, Created: true}, nil
}

func ensureAccount(ctx context.Context, tx pgx.Tx, projectID, code string, kind ledgerdom.Kind) (string, error) {
	if kind == "" {
		return "", fmt.Errorf("account %s: kind missing", code)
	}
	var id, have string
	err := tx.QueryRow(ctx, `insert into ledger_accounts(id, project_id, code, kind) values($1,$2,$3,$4)
		on conflict (project_id, code) do update set code = excluded.code returning id, kind`,
		uuid.NewString(), projectID, code, string(kind)).Scan(&id, &have)
	if err != nil {
		return "", fmt.Errorf("account %s: %w", code, err)
	}
	if have != string(kind) {
		return "", fmt.Errorf("account %s is %s, posting says %s", code, have, kind)
	}
	return id, nil
}

// Balance is an account's balance as a person reads it (liabilities positive
// when we owe). An account never posted to has 0.00.
func Balance(ctx context.Context, db *store.DB, projectID, code string) (money.Amount, error) {
	var raw money.Amount
	var kind string
	err := db.QueryRow(ctx, `select balance, kind from ledger_accounts where project_id=$1 and code=$2`, projectID, code).Scan(&raw, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Zero, nil
	}
	if err != nil {
		return money.Zero, fmt.Errorf("balance %s: %w", code, err)
	}
	return ledgerdom.Display(ledgerdom.Kind(kind), raw), nil
}

// CheckInvariant verifies the whole ledger: every entry sums to zero, all
// postings sum to zero, and every stored balance equals its postings.
func CheckInvariant(ctx context.Context, db *store.DB) error {
	var bad []string
	rows, err := db.Query(ctx, `select e.key from journal_entries e join postings p on p.entry_id=e.id
		group by e.id, e.key having sum(p.amount) <> 0`)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, k := range keys {
		bad = append(bad, "unbalanced entry "+k)
	}
	var total money.Amount
	if err := db.QueryRow(ctx, `select coalesce(sum(amount),0) from postings`).Scan(&total); err != nil {
		return err
	}
	if !total.IsZero() {
		bad = append(bad, "postings sum to "+total.String())
	}
	rows, err = db.Query(ctx, `select a.code from ledger_accounts a left join postings p on p.account_id=a.id
		group by a.id, a.code, a.balance having a.balance <> coalesce(sum(p.amount),0)`)
	if err != nil {
		return err
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, c := range codes {
		bad = append(bad, "balance differs from postings: "+c)
	}
	var empty int
	if err := db.QueryRow(ctx, `select count(*) from journal_entries e where (select count(*) from postings where entry_id=e.id) < 2`).Scan(&empty); err != nil {
		return err
	}
	if empty > 0 {
		bad = append(bad, fmt.Sprintf("%d entries with fewer than two postings", empty))
	}
	if len(bad) > 0 {
		return fmt.Errorf("ledger invariant broken: %v", bad)
	}
	return nil
}
