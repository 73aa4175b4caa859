package credit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// ConsumeInput charges consumption to an enterprise's credit; Key makes it
// idempotent (e.g. the charging order number).
type ConsumeInput struct {
	ProjectID    string       `json:"projectId"`
	EnterpriseID string       `json:"enterpriseId"`
	Key          string       `json:"key"`
	Amount       money.Amount `json:"amount"`
	Description  string       `json:"description"`
}

// Consumption is one charge to credit.
type Consumption struct {
	ID           string       `json:"id"`
	EnterpriseID string       `json:"enterpriseId"`
	Key          string       `json:"key"`
	Amount       money.Amount `json:"amount"`
	Description  string       `json:"description"`
	BillID       *string      `json:"billId,omitempty"`
	CreatedAt    time.Time    `json:"createdAt"`
	Available    money.Amount `json:"available"` // credit left after this charge
}

// Consume is the one way consumption reaches credit (creditline.Consume in
// the design card): under the credit account's row lock it reads what is
// used from the ledger, applies the limit and suspension rules and books
// the charge, so two concurrent charges can never pass the limit together.
// A repeated key returns the first charge; with another amount, ErrKeyReused.
func Consume(ctx context.Context, db *store.DB, in ConsumeInput) (Consumption, bool, error) {
	var out Consumption
	var created bool
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var code string
		if err := tx.QueryRow(ctx, `select e.code from credit_accounts c join enterprises e on e.id=c.enterprise_id
			where c.enterprise_id=$1 and c.project_id=$2 for update of c`, in.EnterpriseID, in.ProjectID).Scan(&code); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return creditline.ErrNotOpen
			}
			return fmt.Errorf("lock credit of %s: %w", in.EnterpriseID, err)
		}
		acc, _, err := creditAccount(ctx, tx, in.ProjectID, in.EnterpriseID, code)
		if err != nil {
			return err
		}
		prev, err := scanConsumption(tx.QueryRow(ctx, `select `+consumptionColumns+` from credit_consumptions
			where project_id=$1 and key=$2`, in.ProjectID, in.Key))
		if err == nil {
			if prev.EnterpriseID != in.EnterpriseID || !prev.Amount.Equal(in.Amount) {
				return fmt.Errorf("consumption %s: %w", in.Key, ErrKeyReused)
			}
			out = prev
			out.Available = acc.Available
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := acc.rules().CheckConsume(in.Amount); err != nil {
			return err
		}
		id := uuid.NewString()
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, creditline.ConsumptionEntry("credit-consumption/"+in.Key, code,
			"consumption on credit "+in.Key, in.Amount)); err != nil {
			return err
		}
		out, err = scanConsumption(tx.QueryRow(ctx, `insert into credit_consumptions(id, project_id, enterprise_id, key, amount, description)
			values($1,$2,$3,$4,$5,$6) returning `+consumptionColumns, id, in.ProjectID, in.EnterpriseID, in.Key, in.Amount, in.Description))
		if err != nil {
			return fmt.Errorf("record consumption %s: %w", in.Key, err)
		}
		created = true
		out.Available = acc.Limit.Sub(acc.Used).Sub(in.Amount)
		return nil
	})
	return out, created, err
}

const consumptionColumns = `id, enterprise_id, key, amount, description, bill_id, created_at`

func scanConsumption(row pgx.Row) (Consumption, error) {
	var c Consumption
	err := row.Scan(&c.ID, &c.EnterpriseID, &c.Key, &c.Amount, &c.Description, &c.BillID, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// SettledConsumption is a charging order settled on credit.
type SettledConsumption struct {
	Consumption
	OverLimit bool `json:"overLimit"` // the order took the account past its limit
}

// ConsumeSettledTx books a settled charging order on the enterprise's
// credit inside the caller's transaction (the order's settlement). Unlike
// Consume it never refuses: the energy is already delivered, and the
// session was started and stopped against the available credit, so the
// last few cents past the limit, or a suspension during the session, are
// still owed and listed on the next bill; OverLimit says so. A repeated
// key returns the first booking.
func ConsumeSettledTx(ctx context.Context, tx pgx.Tx, in ConsumeInput) (SettledConsumption, error) {
	var code string
	// The same lock as Consume's, so the two never pass each other.
	if err := tx.QueryRow(ctx, `select e.code from credit_accounts c join enterprises e on e.id=c.enterprise_id
		where c.enterprise_id=$1 and c.project_id=$2 for update of c`, in.EnterpriseID, in.ProjectID).Scan(&code); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return SettledConsumption{}, creditline.ErrNotOpen
		}
		return SettledConsumption{}, fmt.Errorf("lock credit of %s: %w", in.EnterpriseID, err)
	}
	prev, err := scanConsumption(tx.QueryRow(ctx, `select `+consumptionColumns+` from credit_consumptions
		where project_id=$1 and key=$2`, in.ProjectID, in.Key))
	if err == nil {
		return SettledConsumption{Consumption: prev}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return SettledConsumption{}, err
	}
	acc, _, err := creditAccount(ctx, tx, in.ProjectID, in.EnterpriseID, code)
	if err != nil {
		return SettledConsumption{}, err
	}
	if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, creditline.ConsumptionEntry("credit-consumption/"+in.Key, code,
		in.Description, in.Amount)); err != nil {
		return SettledConsumption{}, err
	}
	c, err := scanConsumption(tx.QueryRow(ctx, `insert into credit_consumptions(id, project_id, enterprise_id, key, amount, description)
		values($1,$2,$3,$4,$5,$6) returning `+consumptionColumns, uuid.NewString(), in.ProjectID, in.EnterpriseID, in.Key, in.Amount, in.Description))
	if err != nil {
		return SettledConsumption{}, fmt.Errorf("record consumption %s: %w", in.Key, err)
	}
	c.Available = acc.Limit.Sub(acc.Used).Sub(in.Amount)
	return SettledConsumption{Consumption: c, OverLimit: c.Available.IsNegative()}, nil
}
