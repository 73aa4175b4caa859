// Package credit keeps enterprise customers, their prepaid recharges,
// credit accounts, consumption on credit, bills and repayments in
// PostgreSQL, and books each in the ledger in the same transaction as its
// projection. The API and the activities (activities/credit) share these
// queries and writes; the activities' steps are idempotent.
package credit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/enterprise"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Errors the API maps to problem codes.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
	ErrKeyReused = errors.New("idempotency key used for a different request")
)

// Credit is an enterprise's credit account as the API shows it.
type Credit struct {
	Limit     money.Amount      `json:"limit"`
	Used      money.Amount      `json:"used"`
	Available money.Amount      `json:"available"`
	Status    creditline.Status `json:"status"`
	CycleMs   int64             `json:"cycleMs"`
	OpenedAt  time.Time         `json:"openedAt"`
}

// Enterprise is an enterprise customer with its ledger-derived balances.
type Enterprise struct {
	ID        string       `json:"id"`
	ProjectID string       `json:"projectId"`
	Code      string       `json:"code"`
	Name      string       `json:"name"`
	Email     string       `json:"email"`
	Phone     string       `json:"phone"`
	CreatedAt time.Time    `json:"createdAt"`
	Wallet    money.Amount `json:"walletBalance"` // prepaid, ledger account enterprise-wallet:<code>
	Credit    *Credit      `json:"credit"`        // nil until an opening is approved
}

// CreateEnterprise records a new enterprise customer.
func CreateEnterprise(ctx context.Context, db *store.DB, projectID string, e enterprise.Enterprise) (Enterprise, error) {
	id := uuid.NewString()
	_, err := db.Exec(ctx, `insert into enterprises(id, project_id, code, name, email, phone) values($1,$2,$3,$4,$5,$6)`,
		id, projectID, e.Code, e.Name, e.Email, e.Phone)
	if store.IsUniqueViolation(err) {
		return Enterprise{}, fmt.Errorf("enterprise %s: %w", e.Code, ErrDuplicate)
	}
	if err != nil {
		return Enterprise{}, fmt.Errorf("create enterprise %s: %w", e.Code, err)
	}
	return GetEnterprise(ctx, db, []string{projectID}, id)
}

const enterpriseColumns = `e.id, e.project_id, e.code, e.name, e.email, e.phone, e.created_at`

func scanEnterprise(row pgx.Row) (Enterprise, error) {
	var e Enterprise
	err := row.Scan(&e.ID, &e.ProjectID, &e.Code, &e.Name, &e.Email, &e.Phone, &e.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// GetEnterprise reads an enterprise of the given projects with its balances.
func GetEnterprise(ctx context.Context, db *store.DB, projects []string, id string) (Enterprise, error) {
	e, err := scanEnterprise(db.QueryRow(ctx, `select `+enterpriseColumns+` from enterprises e
		where e.id::text=$1 and e.project_id::text = any($2)`, id, projects))
	if err != nil {
		return e, err
	}
	if e.Wallet, err = ledgerstore.Balance(ctx, db, e.ProjectID, enterprise.Wallet(e.Code)); err != nil {
		return e, err
	}
	acc, open, err := creditAccount(ctx, db, e.ProjectID, e.ID, e.Code)
	if err != nil || !open {
		return e, err
	}
	e.Credit = &acc
	return e, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// creditAccount reads the account and the used amount from the ledger
// (inside a transaction that holds the row lock when one is passed).
func creditAccount(ctx context.Context, q querier, projectID, enterpriseID, code string) (Credit, bool, error) {
	var c Credit
	var status string
	err := q.QueryRow(ctx, `select credit_limit, status, cycle_ms, opened_at from credit_accounts where enterprise_id=$1`,
		enterpriseID).Scan(&c.Limit, &status, &c.CycleMs, &c.OpenedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("credit account of %s: %w", code, err)
	}
	c.Status = creditline.Status(status)
	if c.Used, err = receivable(ctx, q, projectID, code); err != nil {
		return c, false, err
	}
	c.Available = c.rules().Available()
	return c, true, nil
}

func (c Credit) rules() creditline.Account {
	return creditline.Account{Limit: c.Limit, Used: c.Used, Status: c.Status}
}

// receivable is the ledger balance of the enterprise's credit receivable.
func receivable(ctx context.Context, q querier, projectID, code string) (money.Amount, error) {
	var v money.Amount
	err := q.QueryRow(ctx, `select coalesce((select balance from ledger_accounts where project_id=$1 and code=$2), 0)`,
		projectID, creditline.Receivable(code)).Scan(&v)
	if err != nil {
		return v, fmt.Errorf("receivable of %s: %w", code, err)
	}
	return v, nil
}

// ListEnterprises lists enterprises newest first.
func ListEnterprises(ctx context.Context, db *store.DB, projects []string, limit int, before *time.Time, beforeID string) ([]Enterprise, error) {
	rows, err := db.Query(ctx, `select `+enterpriseColumns+` from enterprises e where e.project_id::text = any($1)
		and ($2::timestamptz is null or (e.created_at, e.id::text) < ($2, $3))
		order by e.created_at desc, e.id::text desc limit $4`, projects, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Enterprise, error) { return scanEnterprise(r) })
}

// StaffMember is one member of an enterprise with their cards.
type StaffMember struct {
	ID           string    `json:"id"`
	EnterpriseID string    `json:"enterpriseId"`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	Cards        []string  `json:"cards"`
	CreatedAt    time.Time `json:"createdAt"`
}

// AddStaff records a member and their cards; a card already listed for
// the enterprise is a duplicate and nothing is written.
func AddStaff(ctx context.Context, db *store.DB, enterpriseID string, s enterprise.Staff) (StaffMember, error) {
	m := StaffMember{ID: uuid.NewString(), EnterpriseID: enterpriseID, Name: s.Name, Phone: s.Phone, Cards: s.Cards}
	if m.Cards == nil {
		m.Cards = []string{}
	}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `insert into enterprise_staff(id, enterprise_id, name, phone) values($1,$2,$3,$4) returning created_at`,
			m.ID, enterpriseID, s.Name, s.Phone).Scan(&m.CreatedAt); err != nil {
			return err
		}
		for _, c := range s.Cards {
			if _, err := tx.Exec(ctx, `insert into enterprise_cards(card_no, enterprise_id, staff_id) values($1,$2,$3)`, c, enterpriseID, m.ID); err != nil {
				if store.IsUniqueViolation(err) {
					return fmt.Errorf("card %s: %w", c, ErrDuplicate)
				}
				return err
			}
		}
		return nil
	})
	return m, err
}

// ListStaff lists an enterprise's members with their cards.
func ListStaff(ctx context.Context, db *store.DB, enterpriseID string) ([]StaffMember, error) {
	rows, err := db.Query(ctx, `select s.id, s.enterprise_id, s.name, s.phone, s.created_at,
		coalesce(array_agg(c.card_no order by c.card_no) filter (where c.card_no is not null), '{}')
		from enterprise_staff s left join enterprise_cards c on c.staff_id=s.id
		where s.enterprise_id=$1 group by s.id order by s.created_at, s.id`, enterpriseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaffMember, error) {
		var m StaffMember
		err := r.Scan(&m.ID, &m.EnterpriseID, &m.Name, &m.Phone, &m.CreatedAt, &m.Cards)
		return m, err
	})
}
