package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/devices/modbus"
)

// writeParameters stores the electrical parameters (电参量) of the batch's
// three-phase meters in reading_parameters, in the readings' transaction.
// A batch of single-phase meters only looks at each row's nil Params: no
// statement, nothing else. ON CONFLICT keeps it right for the staged
// rewrite of a batch a zombie attempt wrote too.
func writeParameters(ctx context.Context, tx pgx.Tx, at time.Time, rows []Row) error {
	n := 0
	for i := range rows {
		if rows[i].S.Params != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ids := make([][16]byte, 0, n)
	cols := make([][]*int64, modbus.NParams)
	for i := range cols {
		cols[i] = make([]*int64, 0, n)
	}
	for i := range rows {
		p := rows[i].S.Params
		if p == nil {
			continue
		}
		ids = append(ids, rows[i].Meter)
		for k := range modbus.NParams {
			if v, ok := p.Get(k); ok {
				cols[k] = append(cols[k], &v)
			} else {
				cols[k] = append(cols[k], nil)
			}
		}
	}
	args := []any{ids, at}
	for _, c := range cols {
		args = append(args, c)
	}
	// Columns in modbus.Param order ($3 … $24), in their register units.
	if _, err := tx.Exec(ctx, `insert into reading_parameters(meter_id, read_at, ua_v, ub_v, uc_v, ia_a, ib_a, ic_a,
		pa_kw, pb_kw, pc_kw, p_kw, qa_kvar, qb_kvar, qc_kvar, q_kvar, pfa, pfb, pfc, pf, ct_ratio, pt_ratio,
		max_demand_kw, max_demand_at)
	select m, $2, ua*0.1, ub*0.1, uc*0.1, ia*0.001, ib*0.001, ic*0.001, pa*0.001, pb*0.001, pc*0.001, p*0.001,
		qa*0.001, qb*0.001, qc*0.001, q*0.001, pfa*0.001, pfb*0.001, pfc*0.001, pf*0.001, ct, pt, md*0.001,
		case when mdt > 0 then to_timestamp(mdt) end
	from unnest($1::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
		$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
		$16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[],
		$23::bigint[], $24::bigint[])
		as t(m, ua, ub, uc, ia, ib, ic, pa, pb, pc, p, qa, qb, qc, q, pfa, pfb, pfc, pf, ct, pt, md, mdt)
	on conflict (meter_id, read_at) do nothing`, args...); err != nil {
		return fmt.Errorf("write %d meters' electrical parameters: %w", n, err)
	}
	return nil
}
