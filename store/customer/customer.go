// Package customer is where a project's customers and their prepaid
// accounts (开户) are read and written (issue 17, M4).
package customer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ErrNotFound is a customer, unit or meter unknown in the project.
var ErrNotFound = errors.New("customer: not found")

// ErrMeterInAccount is a meter already in an open account.
var ErrMeterInAccount = errors.New("customer: meter already in an open account")

// Customer is a person or a company that holds accounts.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Kind  string `json:"kind"` // person | company
}

// Create writes a customer.
func Create(ctx context.Context, db *store.DB, projectID string, c Customer) (Customer, error) {
	c.ID = uuid.NewString()
	if _, err := db.Exec(ctx, `insert into customers(id, project_id, name, phone, kind) values($1,$2,$3,$4,$5)`,
		c.ID, projectID, c.Name, c.Phone, c.Kind); err != nil {
		return c, fmt.Errorf("create customer %s: %w", c.Name, err)
	}
	return c, nil
}

// Account is a prepaid account opened for a customer on a unit's meters.
type Account struct {
	ID         string   `json:"id"`
	AccountNo  string   `json:"accountNo"`
	CustomerID string   `json:"customerId"`
	UnitID     string   `json:"unitId"`
	Meters     []string `json:"meters"`
	Status     string   `json:"status"`
	// Sites, when not nil, is the opener's site scope: the unit must lie
	// under these sites, and so must every meter already under a unit.
	Sites []string `json:"-"`
}

// Problem says which input an OpenAccount refused.
type Problem struct {
	Field, Value string
	Err          error // ErrNotFound or ErrMeterInAccount
}

func (p *Problem) Error() string { return p.Field + " " + p.Value + ": " + p.Err.Error() }
func (p *Problem) Unwrap() error { return p.Err }

// OpenAccount opens an account (开户) for a customer on meters of a unit:
// one account, several meters (一户多表), each meter keeping its own balance.
// A meter in another open account refuses the whole account; the meters
// are locked first, so two concurrent openings cannot both take one.
func OpenAccount(ctx context.Context, db *store.DB, projectID string, a Account) (Account, error) {
	a.ID, a.Status = uuid.NewString(), "open"
	a.AccountNo = "A-" + a.ID[:8]
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var customerOK, unitOK bool
		if err := tx.QueryRow(ctx, `select exists (select 1 from customers where id::text=$1 and project_id=$3),
			exists (select 1 from units where id::text=$2 and project_id=$3 and ($4::text[] is null or site_id::text = any($4)))`,
			a.CustomerID, a.UnitID, projectID, a.Sites).Scan(&customerOK, &unitOK); err != nil {
			return fmt.Errorf("customer and unit: %w", err)
		}
		if !customerOK {
			return &Problem{"customerId", a.CustomerID, ErrNotFound}
		}
		if !unitOK {
			return &Problem{"unitId", a.UnitID, ErrNotFound}
		}
		rows, err := tx.Query(ctx, `select m.meter_no, coalesce(pa.status = 'open', false) from meters m
			left join prepaid_accounts pa on pa.id = m.account_id
			where m.project_id=$1 and m.meter_no = any($2)
				and ($3::text[] is null or m.unit_id is null or exists (select 1 from units su
					where su.id = m.unit_id and su.site_id::text = any($3)))
			order by m.meter_no for update of m`, projectID, a.Meters, a.Sites)
		if err != nil {
			return fmt.Errorf("lock meters: %w", err)
		}
		found := map[string]bool{}
		var busy string
		for rows.Next() {
			var no string
			var open bool
			if err := rows.Scan(&no, &open); err != nil {
				rows.Close()
				return fmt.Errorf("lock meters: %w", err)
			}
			found[no] = true
			if open && busy == "" {
				busy = no
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock meters: %w", err)
		}
		for i, no := range a.Meters {
			if !found[no] {
				return &Problem{fmt.Sprintf("meters[%d]", i), no, ErrNotFound}
			}
		}
		if busy != "" {
			return &Problem{fmt.Sprintf("meters[%d]", slices.Index(a.Meters, busy)), busy, ErrMeterInAccount}
		}
		if _, err := tx.Exec(ctx, `insert into prepaid_accounts(id, project_id, customer_id, account_no, unit_id)
			values($1,$2,$3,$4,$5)`, a.ID, projectID, a.CustomerID, a.AccountNo, a.UnitID); err != nil {
			return fmt.Errorf("open account: %w", err)
		}
		if _, err := tx.Exec(ctx, `update meters set account_id=$1, unit_id=$2 where project_id=$3 and meter_no = any($4)`,
			a.ID, a.UnitID, projectID, a.Meters); err != nil {
			return fmt.Errorf("assign meters to account %s: %w", a.ID, err)
		}
		return nil
	})
	return a, err
}

// AccountMeters answers an account's status and meter numbers. sites
// non-nil is the caller's site scope: an account with a meter outside it,
// or whose unit is outside it, is not found.
func AccountMeters(ctx context.Context, db *store.DB, projectID, accountID string, sites []string) (string, []string, error) {
	var status string
	var meters []string
	err := db.QueryRow(ctx, `select a.status, coalesce((select array_agg(m.meter_no order by m.meter_no) from meters m where m.account_id=a.id), '{}')
		from prepaid_accounts a where a.id::text=$1 and a.project_id=$2
			and ($3::text[] is null or (
				(a.unit_id is null or exists(select 1 from units u where u.id=a.unit_id and u.site_id::text = any($3)))
				and not exists(select 1 from meters m where m.account_id=a.id and not exists(
					select 1 from units u where u.id=m.unit_id and u.site_id::text = any($3)))))`,
		accountID, projectID, sites).Scan(&status, &meters)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("account %s: %w", accountID, err)
	}
	return status, meters, nil
}
