package chargeorder

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// TOURow is the 尖峰平谷 figure of one station and period over a time range
// (seed: 充电记录尖峰平谷信息), from completed orders started in the range.
type TOURow struct {
	StationID  string          `json:"stationId"`
	Period     string          `json:"period"`
	Orders     int             `json:"orders"`
	KWh        decimal.Decimal `json:"kwh"`
	EnergyFee  money.Amount    `json:"energyFee"`
	ServiceFee money.Amount    `json:"serviceFee"`
}

// TOUStats sums the orders' per-period lines by station and period.
func TOUStats(ctx context.Context, db *store.DB, projects []string, scope store.StationScope, stationID string, from, to *time.Time) ([]TOURow, error) {
	rows, err := db.Query(ctx, `select o.station_id, l->>'period', count(distinct o.id)::int,
		sum((l->>'kwh')::numeric), sum((l->>'energyFee')::numeric), sum((l->>'serviceFee')::numeric)
		from charging_orders o cross join lateral jsonb_array_elements(o.lines) l
		where o.status='completed' and o.project_id::text = any($1) and ($2 = '' or o.station_id=$2)
		and ($3::timestamptz is null or o.started_at >= $3) and ($4::timestamptz is null or o.started_at < $4)
		and `+scope.SQL("o.project_id", "o.station_id", 5)+`
		group by 1, 2 order by 1, array_position(array['sharp','peak','flat','valley'], l->>'period')`,
		projects, stationID, from, to, scope.Args()[0], scope.Args()[1])
	if err != nil {
		return nil, fmt.Errorf("tou stats: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TOURow, error) {
		var t TOURow
		var e, s decimal.Decimal
		err := r.Scan(&t.StationID, &t.Period, &t.Orders, &t.KWh, &e, &s)
		t.EnergyFee, t.ServiceFee = money.Round(e), money.Round(s)
		return t, err
	})
}

// Headers and Cells make TOU rows a spreadsheet.
func (TOURow) Headers() []string {
	return []string{"Station", "Period", "Orders", "kWh", "Energy fee", "Service fee"}
}

// Cells of a TOU row.
func (t TOURow) Cells() []any {
	kwh, _ := t.KWh.Float64()
	return []any{t.StationID, t.Period, t.Orders, kwh, t.EnergyFee.String(), t.ServiceFee.String()}
}

// Cursor is unused: TOU statistics are one page.
func (t TOURow) Cursor() string { return t.StationID + "|" + t.Period }

// OrderHeaders are the columns of the order export.
func OrderHeaders() []string {
	return []string{"Order", "Source", "Card", "VIN", "Station", "Equipment", "Connector", "Status", "Failure reason",
		"Stop reason", "Started", "Stopped", "kWh", "Energy fee", "Service fee", "Discount", "Amount", "Abnormal"}
}

// OrderCells is an order as a spreadsheet row.
func OrderCells(o Order) []any {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	t := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.Format(time.RFC3339)
	}
	a := func(p *money.Amount) string {
		if p == nil {
			return ""
		}
		return p.String()
	}
	abn := ""
	for i, x := range o.Abnormal {
		if i > 0 {
			abn += ","
		}
		abn += x
	}
	return []any{o.ID, o.Source, s(o.CardNo), s(o.VIN), o.StationID, o.EquipmentID, o.Connector, o.Status,
		s(o.FailureReason), s(o.StopReason), t(o.StartedAt), t(o.StoppedAt), s(o.EnergyKWh), a(o.EnergyFee),
		a(o.ServiceFee), a(o.Discount), a(o.Amount), abn}
}
