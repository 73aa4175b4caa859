// Package settlement closes a project's month (月底结算日, issue 20 §8):
// for every prepaid wallet of the ledger its opening balance, recharges,
// refunds, consumption, fees, other movements and closing balance, stored
// per account and month. A settled month is never rewritten: settling it
// again returns what was stored, and an entry booked later falls into the
// next month (see the migration 0047 on the cum_ columns).
package settlement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	"github.com/voltflow/voltflow/store"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Errors.
var (
	ErrNotFound = errors.New("not found")
	// ErrNotEnded: the month's period has not closed yet.
	ErrNotEnded = errors.New("the month has not ended")
	// ErrLaterSettled: a later month is settled; an earlier one cannot be
	// settled after it (its closing would not be the later one's opening).
	ErrLaterSettled = errors.New("a later month is already settled")
)

// Entry kinds by column. Everything else posted to a wallet is "other"
// (vouchers, replacements, allowances, …), signed as it moves the balance.
var (
	rechargeKinds    = []string{"recharge-delivered", "card-topup"}
	refundKinds      = []string{"refund", "reversal"}
	consumptionKinds = []string{"consumption", "account-closed"}
	feeKinds         = []string{"property_fee", "common-area"}
)

// ProjectDay is the project's settlement day; ok is false when unset.
func ProjectDay(ctx context.Context, db *store.DB, projectID string) (settlementdom.Day, bool, error) {
	var d *string
	err := db.QueryRow(ctx, `select settlement_day from projects where id=$1`, projectID).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("%w: project %s", ErrNotFound, projectID)
	}
	if err != nil {
		return "", false, fmt.Errorf("settlement day of project %s: %w", projectID, err)
	}
	if d == nil {
		return settlementdom.Last, false, nil
	}
	return settlementdom.Day(*d), true, nil
}

// SetProjectDay sets (or with nil clears) the project's settlement day.
func SetProjectDay(ctx context.Context, db *store.DB, projectID string, d *settlementdom.Day) error {
	tag, err := db.Exec(ctx, `update projects set settlement_day=$2 where id=$1`, projectID, d)
	if err != nil {
		return fmt.Errorf("set settlement day of project %s: %w", projectID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: project %s", ErrNotFound, projectID)
	}
	return nil
}

// Project is one with a settlement day, for its Schedule.
type Project struct {
	ID, Code string
	Day      settlementdom.Day
}

// ListProjects lists the projects with a settlement day.
func ListProjects(ctx context.Context, db *store.DB) ([]Project, error) {
	rows, err := db.Query(ctx, `select id::text, code, settlement_day from projects where settlement_day is not null order by code`)
	if err != nil {
		return nil, fmt.Errorf("projects with a settlement day: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) {
		var p Project
		err := r.Scan(&p.ID, &p.Code, &p.Day)
		return p, err
	})
}

// DueInput asks which month a scheduled run at At settles.
type DueInput struct {
	ProjectID string    `json:"projectId"`
	At        time.Time `json:"at"`
}

// DueResult is that month.
type DueResult struct {
	Month string `json:"month"`
}

// Due is the latest month of the project closed at in.At.
func Due(ctx context.Context, db *store.DB, in DueInput) (DueResult, error) {
	d, _, err := ProjectDay(ctx, db, in.ProjectID)
	if err != nil {
		return DueResult{}, err
	}
	return DueResult{Month: d.Due(in.At).String()}, nil
}

// SettleInput settles one month of a project.
type SettleInput struct {
	ProjectID string `json:"projectId"`
	Month     string `json:"month"` // YYYY-MM
}

// Settlement is a settled month's header.
type Settlement struct {
	Month     string    `json:"month"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Day       string    `json:"settlementDay"`
	Accounts  int       `json:"accounts"`
	SettledAt time.Time `json:"settledAt"`
	// Created is false when the month had been settled before (a rerun).
	Created bool `json:"created"`
}

// Period is the month's span under the project's day now (or, once a
// month before it is settled, from that month's close).
func Period(ctx context.Context, q querier, projectID string, m settlementdom.Month, d settlementdom.Day) (from, to time.Time, err error) {
	from, to = d.Period(m)
	var prevTo time.Time
	err = q.QueryRow(ctx, `select period_to from month_settlements where project_id=$1 and month<$2
		order by month desc limit 1`, projectID, m.String()).Scan(&prevTo)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return from, to, nil
	case err != nil:
		return from, to, fmt.Errorf("previous settlement: %w", err)
	}
	// Months stay contiguous when the settlement day changes.
	return prevTo, to, nil
}

// Settle closes the month once. now is the clock (the period must have
// ended). Concurrent calls serialise on the project's advisory lock; the
// second finds the first's rows and returns them with Created false.
func Settle(ctx context.Context, db *store.DB, in SettleInput, now time.Time) (Settlement, error) {
	m, err := settlementdom.ParseMonth(in.Month)
	if err != nil {
		return Settlement{}, err
	}
	var out Settlement
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('month-settlement:' || $1))`, in.ProjectID); err != nil {
			return err
		}
		out, err = header(ctx, tx, in.ProjectID, in.Month)
		if err == nil {
			return nil // settled before: never rewritten
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		var later bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from month_settlements where project_id=$1 and month>$2)`,
			in.ProjectID, in.Month).Scan(&later); err != nil {
			return err
		}
		if later {
			return fmt.Errorf("settle %s: %w", in.Month, ErrLaterSettled)
		}
		var day *string
		if err := tx.QueryRow(ctx, `select settlement_day from projects where id=$1`, in.ProjectID).Scan(&day); err != nil {
			return fmt.Errorf("project %s: %w", in.ProjectID, err)
		}
		d := settlementdom.Last
		if day != nil {
			d = settlementdom.Day(*day)
		}
		from, to, err := Period(ctx, tx, in.ProjectID, m, d)
		if err != nil {
			return err
		}
		if now.Before(to) {
			return fmt.Errorf("settle %s (ends %s): %w", in.Month, to.In(settlementdom.China).Format(time.DateTime), ErrNotEnded)
		}
		n, err := insertAccounts(ctx, tx, in.ProjectID, m, from, to)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into month_settlements(project_id, month, period_from, period_to, settlement_day, accounts)
			values($1,$2,$3,$4,$5,$6)`, in.ProjectID, in.Month, from, to, string(d), n); err != nil {
			return fmt.Errorf("settle %s: %w", in.Month, err)
		}
		out, err = header(ctx, tx, in.ProjectID, in.Month)
		out.Created = true
		return err
	})
	return out, err
}

// insertAccounts writes every wallet's month in one statement: this
// month's totals by kind (entries created before to) less the previous
// settled month's (or, for a wallet settled never before, the totals before
// from, which are its opening).
func insertAccounts(ctx context.Context, tx pgx.Tx, projectID string, m settlementdom.Month, from, to time.Time) (int, error) {
	var prev *string
	err := tx.QueryRow(ctx, `select month from month_settlements where project_id=$1 and month<$2 order by month desc limit 1`,
		projectID, m.String()).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	tag, err := tx.Exec(ctx, `
with t as (
	select a.code,
		coalesce(-sum(p.amount) filter (where e.kind = any($5) and e.created_at < $4), 0) as r,
		coalesce(sum(p.amount) filter (where e.kind = any($6) and e.created_at < $4), 0) as f,
		coalesce(sum(p.amount) filter (where e.kind = any($7) and e.created_at < $4), 0) as c,
		coalesce(sum(p.amount) filter (where e.kind = any($8) and e.created_at < $4), 0) as fe,
		coalesce(-sum(p.amount) filter (where e.kind <> all($9) and e.created_at < $4), 0) as o,
		coalesce(-sum(p.amount) filter (where e.kind = any($5) and e.created_at < $3), 0) as r0,
		coalesce(sum(p.amount) filter (where e.kind = any($6) and e.created_at < $3), 0) as f0,
		coalesce(sum(p.amount) filter (where e.kind = any($7) and e.created_at < $3), 0) as c0,
		coalesce(sum(p.amount) filter (where e.kind = any($8) and e.created_at < $3), 0) as fe0,
		coalesce(-sum(p.amount) filter (where e.kind <> all($9) and e.created_at < $3), 0) as o0
	from ledger_accounts a
	join postings p on p.account_id = a.id
	join journal_entries e on e.id = p.entry_id
	where a.project_id = $1 and (a.code like 'meter-wallet:%' or a.code like 'customer-wallet:%') and e.created_at < $4
	group by a.code
), b as (
	select t.code, t.r, t.f, t.c, t.fe, t.o,
		coalesce(s.cum_recharged, t.r0) as r0, coalesce(s.cum_refunded, t.f0) as f0, coalesce(s.cum_consumed, t.c0) as c0,
		coalesce(s.cum_fees, t.fe0) as fe0, coalesce(s.cum_other, t.o0) as o0
	from t left join month_settlement_accounts s on s.project_id = $1 and s.month = $10 and s.account = t.code
)
insert into month_settlement_accounts(project_id, month, account, opening, recharged, refunded, consumed, fees, other, closing,
	cum_recharged, cum_refunded, cum_consumed, cum_fees, cum_other)
select $1, $2, code, r0 - f0 - c0 - fe0 + o0, r - r0, f - f0, c - c0, fe - fe0, o - o0, r - f - c - fe + o, r, f, c, fe, o
from b`, projectID, m.String(), from, to, rechargeKinds, refundKinds, consumptionKinds, feeKinds,
		append(append(append(append([]string{}, rechargeKinds...), refundKinds...), consumptionKinds...), feeKinds...), prev)
	if err != nil {
		return 0, fmt.Errorf("settle accounts of %s: %w", m, err)
	}
	return int(tag.RowsAffected()), nil
}

func header(ctx context.Context, q querier, projectID, month string) (Settlement, error) {
	s := Settlement{Month: month}
	err := q.QueryRow(ctx, `select period_from, period_to, settlement_day, accounts, settled_at from month_settlements
		where project_id=$1 and month=$2`, projectID, month).Scan(&s.From, &s.To, &s.Day, &s.Accounts, &s.SettledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("%w: settlement %s", ErrNotFound, month)
	}
	if err != nil {
		return s, fmt.Errorf("settlement %s: %w", month, err)
	}
	return s, nil
}

// Get reads a settled month's header.
func Get(ctx context.Context, db *store.DB, projectID, month string) (Settlement, error) {
	return header(ctx, db, projectID, month)
}

// AccountMonth is one wallet's settled month. Opening + Recharged −
// Refunded − Consumed − Fees + Other = Closing, to the cent.
type AccountMonth struct {
	Account   string       `json:"account"`
	Opening   money.Amount `json:"opening"`
	Recharged money.Amount `json:"recharged"` // sales the meter or card took (售电, 充值)
	Refunded  money.Amount `json:"refunded"`  // refunds and reversals (退费, 冲正)
	Consumed  money.Amount `json:"consumed"`  // consumption billed, settled at closing
	Fees      money.Amount `json:"fees"`      // property fees and common-area shares
	Other     money.Amount `json:"other"`     // other deductions (negative) and credits
	Closing   money.Amount `json:"closing"`
}

// Cursor is the row's position (report.Row).
func (r AccountMonth) Cursor() string { return r.Account }

// Headers names the spreadsheet columns.
func (AccountMonth) Headers() []string {
	return []string{"账户 Account", "期初 Opening", "充值 Recharged", "退费 Refunded", "消费 Consumed", "费用 Fees",
		"其他 Other", "期末 Closing"}
}

// Cells are the spreadsheet row.
func (r AccountMonth) Cells() []any {
	return []any{r.Account, num(r.Opening), num(r.Recharged), num(r.Refunded), num(r.Consumed), num(r.Fees), num(r.Other), num(r.Closing)}
}

func num(a money.Amount) float64 { f, _ := a.Decimal().Float64(); return f }

// Accounts lists a settled month's wallets in account order.
func Accounts(ctx context.Context, db *store.DB, projectID, month string) ([]AccountMonth, error) {
	rows, err := db.Query(ctx, `select account, opening, recharged, refunded, consumed, fees, other, closing
		from month_settlement_accounts where project_id=$1 and month=$2 order by account`, projectID, month)
	if err != nil {
		return nil, fmt.Errorf("settled accounts %s: %w", month, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountMonth, error) {
		var a AccountMonth
		err := r.Scan(&a.Account, &a.Opening, &a.Recharged, &a.Refunded, &a.Consumed, &a.Fees, &a.Other, &a.Closing)
		return a, err
	})
}
