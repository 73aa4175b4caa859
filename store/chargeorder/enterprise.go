package chargeorder

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/enterprise"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
)

// EnterpriseCard is the enterprise a card is bound to (企业卡, F3) with
// what it may still spend.
type EnterpriseCard struct {
	EnterpriseID string
	Code         string
	ProjectID    string
	Funding      chargepay.Funding
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// EnterpriseOf reads the enterprise a card is bound to and its funding:
// the credit left under the limit (the receivable's ledger balance is what
// is used), or the enterprise wallet's balance when it has no credit
// account. ok is false for a card of no enterprise.
func EnterpriseOf(ctx context.Context, q rowQuerier, cardNo string) (EnterpriseCard, bool, error) {
	var ec EnterpriseCard
	var limit *money.Amount
	var status *string
	err := q.QueryRow(ctx, `select e.id::text, e.code, e.project_id::text, c.credit_limit, c.status
		from enterprise_cards k join enterprises e on e.id=k.enterprise_id
		left join credit_accounts c on c.enterprise_id=e.id
		where k.card_no=$1 order by k.created_at limit 1`, cardNo).Scan(&ec.EnterpriseID, &ec.Code, &ec.ProjectID, &limit, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return ec, false, nil
	}
	if err != nil {
		return ec, false, fmt.Errorf("enterprise of card %s: %w", cardNo, err)
	}
	ec.Funding.Mode = chargepay.EnterpriseMode(limit != nil)
	if ec.Funding.Mode == chargepay.Credit {
		used, err := ledgerBalance(ctx, q, ec.ProjectID, creditline.Receivable(ec.Code), ledgerdom.Asset)
		if err != nil {
			return ec, false, err
		}
		acc := creditline.Account{Limit: *limit, Used: used, Status: creditline.Status(*status)}
		ec.Funding.Available, ec.Funding.Suspended = acc.Available(), acc.Status == creditline.Suspended
		return ec, true, nil
	}
	ec.Funding.Available, err = ledgerBalance(ctx, q, ec.ProjectID, enterprise.Wallet(ec.Code), ledgerdom.Liability)
	return ec, true, err
}

// ledgerBalance is an account's balance as a person reads it (0 when unused).
func ledgerBalance(ctx context.Context, q rowQuerier, projectID, code string, kind ledgerdom.Kind) (money.Amount, error) {
	var raw money.Amount
	err := q.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2`, projectID, code).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Zero, nil
	}
	if err != nil {
		return money.Zero, fmt.Errorf("balance of %s: %w", code, err)
	}
	return ledgerdom.Display(kind, raw), nil
}
