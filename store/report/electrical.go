package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// ElectricalFilter selects the electrical parameters (电参量监控, seed 004
// §3.6) of a period: every reading of the meters whose profile has them
// (three-phase), one meter or all.
type ElectricalFilter struct {
	Projects []string
	Period   Period
	MeterNo  string // "" = every meter
	Scope    store.Scope
}

// Validate names the field at fault.
func (f ElectricalFilter) Validate() (string, error) {
	if err := f.Period.Validate(); err != nil {
		return "from", err
	}
	return "", nil
}

// ElectricalRow is one reading's parameters, secondary-side as the meter
// measures them (primary = × CT, × PT). Decimals as text; null where the
// meter's profile has no register for the value.
type ElectricalRow struct {
	MeterNo     string     `json:"meterNo"`
	ReadAt      time.Time  `json:"readAt"`
	Ua          *string    `json:"ua"` // V
	Ub          *string    `json:"ub"`
	Uc          *string    `json:"uc"`
	Ia          *string    `json:"ia"` // A
	Ib          *string    `json:"ib"`
	Ic          *string    `json:"ic"`
	Pa          *string    `json:"pa"` // kW
	Pb          *string    `json:"pb"`
	Pc          *string    `json:"pc"`
	P           *string    `json:"p"`
	Qa          *string    `json:"qa"` // kvar
	Qb          *string    `json:"qb"`
	Qc          *string    `json:"qc"`
	Q           *string    `json:"q"`
	PFa         *string    `json:"pfa"`
	PFb         *string    `json:"pfb"`
	PFc         *string    `json:"pfc"`
	PF          *string    `json:"pf"`
	CT          *int       `json:"ct"`
	PT          *int       `json:"pt"`
	MaxDemand   *string    `json:"maxDemand"` // kW, 最大需量
	MaxDemandAt *time.Time `json:"maxDemandAt"`
}

// Cursor is the row's keyset position.
func (r ElectricalRow) Cursor() string { return timeCursor(r.ReadAt, r.MeterNo) }

// Headers names the columns.
func (ElectricalRow) Headers() []string {
	return []string{"表号 Meter", "时间 Read at", "Ua (V)", "Ub (V)", "Uc (V)", "Ia (A)", "Ib (A)", "Ic (A)",
		"Pa (kW)", "Pb (kW)", "Pc (kW)", "P (kW)", "Qa (kvar)", "Qb (kvar)", "Qc (kvar)", "Q (kvar)",
		"PFa", "PFb", "PFc", "PF", "CT", "PT", "最大需量 Max demand (kW)", "最大需量时间 Max demand at"}
}

// Cells are the spreadsheet row.
func (r ElectricalRow) Cells() []any {
	dec := func(s *string) any {
		if s == nil {
			return ""
		}
		var f float64
		if _, err := fmt.Sscan(*s, &f); err != nil {
			return *s
		}
		return f
	}
	ratio := func(n *int) any {
		if n == nil {
			return ""
		}
		return *n
	}
	at := ""
	if r.MaxDemandAt != nil {
		at = r.MaxDemandAt.In(china).Format(time.DateTime)
	}
	return []any{r.MeterNo, r.ReadAt.In(china).Format(time.DateTime), dec(r.Ua), dec(r.Ub), dec(r.Uc), dec(r.Ia),
		dec(r.Ib), dec(r.Ic), dec(r.Pa), dec(r.Pb), dec(r.Pc), dec(r.P), dec(r.Qa), dec(r.Qb), dec(r.Qc), dec(r.Q),
		dec(r.PFa), dec(r.PFb), dec(r.PFc), dec(r.PF), ratio(r.CT), ratio(r.PT), dec(r.MaxDemand), at}
}

// $1 projects, $2 from, $3 to, $4 meter no ("" all), $5/$6 keyset (read_at,
// meter no), $7 limit, $8/$9 site scope.
var electricalSQL = `select m.meter_no, x.read_at, x.ua_v::text, x.ub_v::text, x.uc_v::text, x.ia_a::text, x.ib_a::text,
	x.ic_a::text, x.pa_kw::text, x.pb_kw::text, x.pc_kw::text, x.p_kw::text, x.qa_kvar::text, x.qb_kvar::text,
	x.qc_kvar::text, x.q_kvar::text, x.pfa::text, x.pfb::text, x.pfc::text, x.pf::text, x.ct_ratio, x.pt_ratio,
	x.max_demand_kw::text, x.max_demand_at
from reading_parameters x join meters m on m.id = x.meter_id
where m.project_id::text = any($1) and x.read_at >= $2 and x.read_at < $3 and ($4 = '' or m.meter_no = $4)
	and ($5::timestamptz is null or (x.read_at, m.meter_no) > ($5, $6))
	and ` + store.Scope{}.SQL("x.meter_id", 8) + `
order by x.read_at, m.meter_no limit $7`

// Electrical walks the period's parameters in time order.
func Electrical(ctx context.Context, q Querier, f ElectricalFilter, p Page, fn func(ElectricalRow) error) error {
	if field, err := f.Validate(); err != nil {
		return fmt.Errorf("electrical parameters %s: %w", field, err)
	}
	afterAt, afterKey, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	return walk(ctx, q, func(rows pgx.Rows) (ElectricalRow, error) {
		var r ElectricalRow
		err := rows.Scan(&r.MeterNo, &r.ReadAt, &r.Ua, &r.Ub, &r.Uc, &r.Ia, &r.Ib, &r.Ic, &r.Pa, &r.Pb, &r.Pc, &r.P,
			&r.Qa, &r.Qb, &r.Qc, &r.Q, &r.PFa, &r.PFb, &r.PFc, &r.PF, &r.CT, &r.PT, &r.MaxDemand, &r.MaxDemandAt)
		return r, err
	}, fn, electricalSQL, f.Projects, f.Period.From, f.Period.To, f.MeterNo, afterAt, afterKey, p.limitArg(),
		f.Scope.Args()[0], f.Scope.Args()[1])
}

// MaxDemandRow is a meter's largest maximum demand (最大需量) read in the
// period and when the meter recorded it.
type MaxDemandRow struct {
	MeterNo string     `json:"meterNo"`
	KW      string     `json:"kw"`
	At      *time.Time `json:"at"`
}

// MaxDemands is each meter's largest maximum demand over the period.
func MaxDemands(ctx context.Context, q Querier, f ElectricalFilter) ([]MaxDemandRow, error) {
	if f.Period.Validate() != nil {
		return nil, errors.New("max demand: a period is required")
	}
	out := []MaxDemandRow{}
	err := walk(ctx, q, func(rows pgx.Rows) (MaxDemandRow, error) {
		var r MaxDemandRow
		err := rows.Scan(&r.MeterNo, &r.KW, &r.At)
		return r, err
	}, func(r MaxDemandRow) error { out = append(out, r); return nil }, `
select distinct on (m.meter_no) m.meter_no, x.max_demand_kw::text, x.max_demand_at
from reading_parameters x join meters m on m.id = x.meter_id
where m.project_id::text = any($1) and x.read_at >= $2 and x.read_at < $3 and ($4 = '' or m.meter_no = $4)
	and x.max_demand_kw is not null and `+store.Scope{}.SQL("x.meter_id", 5)+`
order by m.meter_no, x.max_demand_kw desc, x.read_at`, f.Projects, f.Period.From, f.Period.To, f.MeterNo,
		f.Scope.Args()[0], f.Scope.Args()[1])
	return out, err
}
