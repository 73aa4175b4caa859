package report

import (
	"context"
	"github.com/voltflow/voltflow/store"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
)

// StatementFilter selects the meters of an energy-plus-finance statement
// (能耗分析+财务轨迹一体式综合报表, seed 004).
type StatementFilter struct {
	Projects []string
	Period   Period
	MeterNo  string // "" = every meter
	Scope    store.Scope
}

// StatementRow is one meter's period: its energy and remaining money at the
// start and at the end, and the money that moved in between. A value is nil
// when the meter has no reading to give it.
type StatementRow struct {
	MeterNo          string        `json:"meterNo"`
	Unit             string        `json:"unit"`
	Customer         string        `json:"customer"`
	OpeningEnergyKwh *string       `json:"openingEnergyKwh"`
	ClosingEnergyKwh *string       `json:"closingEnergyKwh"`
	UsedEnergyKwh    *string       `json:"usedEnergyKwh"`
	OpeningRemaining *money.Amount `json:"openingRemaining"`
	ClosingRemaining *money.Amount `json:"closingRemaining"`
	Recharged        money.Amount  `json:"recharged"` // 售电, completed in the period
	Refunded         money.Amount  `json:"refunded"`  // 退电, completed in the period
	Reversed         money.Amount  `json:"reversed"`  // 冲正, completed in the period
	// Spent is what the meter deducted for energy: opening + recharged −
	// refunded − reversed − closing (nil without both readings).
	Spent    *money.Amount `json:"spent"`
	OpenedAt *time.Time    `json:"openedAt"` // the opening reading's time
	ClosedAt *time.Time    `json:"closedAt"` // the closing reading's time
	// CommonArea is the meter's unit's common-area (公摊) shares the meter's
	// wallet paid for the billing months that start in the period (issue
	// 20 §5: the rule and the figures shown on the statement); a monthly
	// statement shows its month's allocation. CommonAreaRule says, per
	// share, the common-area meter, the month, the rule and the unit's
	// weight of the total ("CA01 2026-11 按面积 area 25/100 × 144.00");
	// CommonAreaShares has the same with every figure.
	CommonArea       money.Amount      `json:"commonArea"`
	CommonAreaRule   string            `json:"commonAreaRule"`
	CommonAreaShares []CommonAreaShare `json:"commonAreaShares"`
}

// CommonAreaShare is one unit's share of a common-area meter's month: the
// allocation's figures (kWh × price = total, shared by method) and the
// unit's weight among the weights of all its units.
type CommonAreaShare struct {
	MeterNo     string       `json:"meterNo"` // the common-area meter
	Period      string       `json:"period"`  // YYYY-MM
	Method      string       `json:"method"`  // area, consumption or ratio
	Kwh         string       `json:"kwh"`
	Price       string       `json:"price"`
	Total       money.Amount `json:"total"`
	Weight      string       `json:"weight"`      // m², kWh or ratio
	TotalWeight string       `json:"totalWeight"` // of all the allocation's units
	Amount      money.Amount `json:"amount"`      // this unit's share
}

// Cursor is the row's keyset position.
func (r StatementRow) Cursor() string { return r.MeterNo }

// statementSQL: the opening value is the last reading at or before from
// (else the first inside the period, for a meter that started mid-period);
// the closing value is the last reading at or before to. Both searches stay
// within lookaround of the period so they prune month partitions. Money is
// counted when its recharge or refund completed in [from, to), the moment
// the meter took it.
//
// A common-area share is on the row of the meter whose wallet paid it (the
// unit's paying meter, common_area_shares.meter_no), for the months whose
// first day (China time) lies in [from, to).
//
// $1 projects, $2 from, $3 to, $4 meter no, $5 after, $6 limit, $7/$8 site scope.
var statementSQL = `select m.meter_no, coalesce(u.name, ''), coalesce(c.name, ''),
	o.energy_kwh::text, cl.energy_kwh::text, (cl.energy_kwh - o.energy_kwh)::text,
	o.remaining, cl.remaining, o.read_at, cl.read_at,
	coalesce((select sum(amount) from recharges x where x.meter_id = m.id and x.status = 'completed'
		and x.completed_at >= $2 and x.completed_at < $3), 0),
	coalesce((select sum(amount) from refunds x where x.meter_id = m.id and x.status = 'completed'
		and x.kind = 'refund' and x.completed_at >= $2 and x.completed_at < $3), 0),
	coalesce((select sum(amount) from refunds x where x.meter_id = m.id and x.status = 'completed'
		and x.kind = 'reversal' and x.completed_at >= $2 and x.completed_at < $3), 0),
	ca.amount, ca.rule, ca.shares
from meters m
left join units u on u.id = m.unit_id
left join prepaid_accounts pa on pa.id = m.account_id
left join customers c on c.id = pa.customer_id
left join lateral (select * from (
	(select energy_kwh, remaining, read_at, 0 as pref from readings where meter_id = m.id
		and read_at <= $2 and read_at > $2::timestamptz - interval '` + lookaround + `' order by read_at desc limit 1)
	union all
	(select energy_kwh, remaining, read_at, 1 from readings where meter_id = m.id
		and read_at > $2 and read_at <= $3 order by read_at limit 1)) o order by pref limit 1) o on true
left join lateral (select energy_kwh, remaining, read_at from readings where meter_id = m.id
	and read_at <= $3 and read_at > $2::timestamptz - interval '` + lookaround + `'
	order by read_at desc limit 1) cl on true
left join lateral (select coalesce(sum(s.amount), 0) as amount,
	coalesce(string_agg(cm.meter_no || ' ' || s.period || ' ' || case a.method when 'area' then '按面积 area'
		when 'consumption' then '按用电量 consumption' else '按比例 ratio' end || ' ' || trim_scale(s.weight)::text
		|| '/' || trim_scale(tw.weight)::text || ' × ' || a.total::text, '; ' order by cm.meter_no, s.period), '') as rule,
	coalesce(jsonb_agg(jsonb_build_object('meterNo', cm.meter_no, 'period', s.period, 'method', a.method,
		'kwh', a.kwh::text, 'price', a.price::text, 'total', a.total::text, 'weight', trim_scale(s.weight)::text,
		'totalWeight', trim_scale(tw.weight)::text, 'amount', s.amount::text) order by cm.meter_no, s.period), '[]') as shares
	from common_area_shares s
	join common_area_allocations a on a.meter_id = s.meter_id and a.period = s.period
	join meters cm on cm.id = a.meter_id
	cross join lateral (select sum(w.weight) as weight from common_area_shares w
		where w.meter_id = s.meter_id and w.period = s.period) tw
	where s.meter_no = m.meter_no and a.project_id = m.project_id
		and (s.period || '-01')::timestamp at time zone '` + Location + `' >= $2
		and (s.period || '-01')::timestamp at time zone '` + Location + `' < $3) ca on true
where m.project_id::text = any($1) and ($4 = '' or m.meter_no = $4) and m.meter_no > $5
	and ` + store.Scope{}.SQL("m.id", 7) + `
order by m.meter_no limit $6`

// Statement walks the statement's meters in meter number order.
func Statement(ctx context.Context, q Querier, f StatementFilter, p Page, fn func(StatementRow) error) error {
	if err := f.Period.Validate(); err != nil {
		return err
	}
	return walk(ctx, q, scanStatement, fn, statementSQL, f.Projects, f.Period.From, f.Period.To, f.MeterNo, p.After, p.limitArg(),
		f.Scope.Args()[0], f.Scope.Args()[1])
}

func scanStatement(rows pgx.Rows) (StatementRow, error) {
	var r StatementRow
	err := rows.Scan(&r.MeterNo, &r.Unit, &r.Customer, &r.OpeningEnergyKwh, &r.ClosingEnergyKwh, &r.UsedEnergyKwh,
		&r.OpeningRemaining, &r.ClosingRemaining, &r.OpenedAt, &r.ClosedAt, &r.Recharged, &r.Refunded, &r.Reversed,
		&r.CommonArea, &r.CommonAreaRule, &r.CommonAreaShares)
	if err == nil && r.OpeningRemaining != nil && r.ClosingRemaining != nil {
		spent := r.OpeningRemaining.Add(r.Recharged).Sub(r.Refunded).Sub(r.Reversed).Sub(*r.ClosingRemaining)
		r.Spent = &spent
	}
	return r, err
}
