package chargeorder

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// DeductionRow is one completed order of the order deduction detail
// (订单扣费明细): what it cost and what each source paid.
type DeductionRow struct {
	OrderID      string         `json:"orderId"`
	CardNo       *string        `json:"cardNo"`
	EnterpriseID *string        `json:"enterpriseId"`
	StationID    string         `json:"stationId"`
	StartedAt    *time.Time     `json:"startedAt"`
	EnergyKWh    string         `json:"energyKwh"`
	Total        money.Amount   `json:"total"` // the priced amount, before the voucher
	PaidBy       chargepay.Mode `json:"paidBy"`
	chargepay.Deduction
	CreatedAt time.Time `json:"createdAt"`
}

// DeductionQuery filters the detail.
type DeductionQuery struct {
	Projects     []string
	Scope        store.StationScope
	CardNo       string
	EnterpriseID string
	From, To     *time.Time
	Limit        int
	Before       *time.Time
	BeforeID     string
}

// Deductions lists completed orders newest first with their split.
func Deductions(ctx context.Context, db *store.DB, q DeductionQuery) ([]DeductionRow, error) {
	rows, err := db.Query(ctx, `select id::text, card_no, enterprise_id::text, coalesce(station_id,''), started_at,
		coalesce(energy_kwh,0)::text, coalesce(amount,0), voucher_amount, package_waived, paid_by, created_at
		from charging_orders where status='completed' and project_id::text = any($1)
		and ($2 = '' or card_no=$2) and ($3 = '' or enterprise_id::text=$3)
		and ($4::timestamptz is null or started_at >= $4) and ($5::timestamptz is null or started_at < $5)
		and ($6::timestamptz is null or (created_at, id::text) < ($6, $7))
		and `+q.Scope.SQL("project_id", "station_id", 9)+`
		order by created_at desc, id desc limit $8`,
		q.Projects, q.CardNo, q.EnterpriseID, q.From, q.To, q.Before, q.BeforeID, q.Limit, q.Scope.Args()[0], q.Scope.Args()[1])
	if err != nil {
		return nil, fmt.Errorf("order deductions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeductionRow, error) {
		var d DeductionRow
		var paid, voucher, pkg money.Amount
		err := r.Scan(&d.OrderID, &d.CardNo, &d.EnterpriseID, &d.StationID, &d.StartedAt, &d.EnergyKWh, &paid, &voucher, &pkg,
			&d.PaidBy, &d.CreatedAt)
		d.Total = paid.Add(voucher)
		d.Deduction = chargepay.Split(d.PaidBy, d.Total, voucher, pkg)
		return d, err
	})
}

// Headers and Cells make deduction rows a spreadsheet.
func (DeductionRow) Headers() []string {
	return []string{"Order", "Card", "Enterprise", "Station", "Started", "kWh", "Total", "Paid by",
		"Wallet", "Credit", "Enterprise wallet", "Voucher", "Package"}
}

// Cells of a deduction row.
func (d DeductionRow) Cells() []any {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	started := ""
	if d.StartedAt != nil {
		started = d.StartedAt.In(cst).Format("2006-01-02 15:04:05")
	}
	return []any{d.OrderID, str(d.CardNo), str(d.EnterpriseID), d.StationID, started, d.EnergyKWh, d.Total.String(),
		string(d.PaidBy), d.Wallet.String(), d.Credit.String(), d.EnterpriseWallet.String(), d.Voucher.String(), d.Package.String()}
}

// Cursor is the row's order id.
func (d DeductionRow) Cursor() string { return d.OrderID }
