package platformbilling

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Emergency overdraft (应急透支, M7): how far below zero a platform-side
// meter's wallet may run before billing switches it off. The allowance is
// the meter's own when set, else its open account's, else its project's
// default, else none — so one account's meters share a rule, and a meter
// can still be treated apart.

// ErrNotFound: the meter or account is not in the project.
var ErrNotFound = errors.New("not found")

// ErrNegativeOverdraft: an allowance must not be negative.
var ErrNegativeOverdraft = errors.New("overdraft must not be negative")

// nullable is a stored allowance: nil clears it.
func nullable(a *money.Amount) (*string, error) {
	if a == nil {
		return nil, nil
	}
	if a.IsNegative() {
		return nil, ErrNegativeOverdraft
	}
	v := a.String()
	return &v, nil
}

// SetMeterOverdraft sets (nil: clears) a meter's own allowance. Billing
// uses it from the meter's next reading or sale on, whether or not the
// meter has been billed yet.
func SetMeterOverdraft(ctx context.Context, db *store.DB, projectID, meterID string, allowance *money.Amount) error {
	v, err := nullable(allowance)
	if err != nil {
		return fmt.Errorf("overdraft of meter %s: %w", meterID, err)
	}
	tag, err := db.Exec(ctx, `update meters set overdraft=$3 where id=$1 and project_id=$2`, meterID, projectID, v)
	if err != nil {
		return fmt.Errorf("overdraft of meter %s: %w", meterID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("meter %s: %w", meterID, ErrNotFound)
	}
	return nil
}

// SetAccountOverdraft sets (nil: clears) the allowance of an account's
// meters that have none of their own.
func SetAccountOverdraft(ctx context.Context, db *store.DB, projectID, accountID string, allowance *money.Amount) error {
	v, err := nullable(allowance)
	if err != nil {
		return fmt.Errorf("overdraft of account %s: %w", accountID, err)
	}
	tag, err := db.Exec(ctx, `update prepaid_accounts set overdraft=$3 where id::text=$1 and project_id=$2`,
		accountID, projectID, v)
	if err != nil {
		return fmt.Errorf("overdraft of account %s: %w", accountID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	return nil
}

// Overdraft is a meter's allowance in force: its own, else its open
// account's, else its project's, else zero. q is a pool or the billing
// transaction.
func Overdraft(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, meterID string) (money.Amount, error) {
	var a money.Amount
	err := q.QueryRow(ctx, `select coalesce(m.overdraft, a.overdraft, p.overdraft, 0)
		from meters m join projects p on p.id = m.project_id
		left join prepaid_accounts a on a.id = m.account_id and a.status = 'open'
		where m.id = $1`, meterID).Scan(&a)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Zero, fmt.Errorf("overdraft of meter %s: %w", meterID, ErrNotFound)
	}
	if err != nil {
		return money.Zero, fmt.Errorf("overdraft of meter %s: %w", meterID, err)
	}
	return a, nil
}
