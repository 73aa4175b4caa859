package recharge

import (
	"context"
	"fmt"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Paper is what a receipt (小票) shows beyond the operation's own row: the
// project, the meter's unit and tenant, the operator, and the meter's
// balance just before the operation (as read under the dispatch lock; nil
// when the meter never took it, or for a platform-side meter, whose wallet
// is in the ledger).
type Paper struct {
	ProjectName     string
	Unit            string
	Tenant          string
	Operator        string
	RemainingBefore *money.Amount
}

// PaperOf reads the receipt context of a recharge (kind "recharge") or a
// refund or reversal (kind "refund") with id on meterID, made by operatorID.
func PaperOf(ctx context.Context, db *store.DB, kind, id, meterID, operatorID string) (Paper, error) {
	var p Paper
	err := db.QueryRow(ctx, `select p.name, coalesce(u.name, ''), coalesce(c.name, ''),
			coalesce((select coalesce(nullif(display_name, ''), username) from operators where id=$3), ''),
			(select remaining_before from meter_purchases where kind=$4 and recharge_id=$1 and state='applied')
		from meters m join projects p on p.id = m.project_id
		left join units u on u.id = m.unit_id
		left join prepaid_accounts pa on pa.id = m.account_id
		left join customers c on c.id = pa.customer_id
		where m.id=$2`, id, meterID, operatorID, kind).Scan(&p.ProjectName, &p.Unit, &p.Tenant, &p.Operator, &p.RemainingBefore)
	if err != nil {
		return p, fmt.Errorf("receipt of %s %s: %w", kind, id, err)
	}
	return p, nil
}
