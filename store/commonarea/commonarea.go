// Package commonarea keeps master/sub meter relations and common-area (公摊)
// allocation rules, and runs a period's allocation: each common-area
// meter's consumption in the month (energy register at the period's end −
// at its start, × CT × PT, × the meter's price) is shared among the rule's
// units (domain/commonarea) and each share is booked to the unit's meter
// wallet (meter wallet → consumption income, as platform billing books
// consumption) in one transaction with the allocation's figures.
package commonarea

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Location is the zone billing months are cut in (as reports).
const Location = "Asia/Shanghai"

// EntryKind of the allocation's ledger entries.
const EntryKind = "common-area"

// Errors the API maps to problems.
var (
	ErrNotFound  = errors.New("not found")
	ErrInvalid   = errors.New("invalid")
	ErrNoReading = errors.New("no reading at a bound of the period")
)

// EntryKey is the ledger key of a unit's share of a common-area meter's
// period: booking it twice is impossible (journal_entries is unique per key).
func EntryKey(meterNo, period, unitID string) string {
	return "common-area/" + meterNo + "/" + period + "/" + unitID
}

// SetSubMeters replaces the sub meters of a master meter of the project;
// merged: the master's wallet pays their platform-side consumption and its
// arrears switch them off (store/platformbilling.Payer).
func SetSubMeters(ctx context.Context, db *store.DB, projectID, masterNo string, subNos []string, merged bool) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		master, err := meterID(ctx, tx, projectID, masterNo)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from meter_sub_meters where master_meter_id = $1`, master); err != nil {
			return fmt.Errorf("sub meters of %s: %w", masterNo, err)
		}
		for _, no := range subNos {
			sub, err := meterID(ctx, tx, projectID, no)
			if err != nil {
				return err
			}
			// No cycles: the sub meter must not be the master or above it.
			var above bool
			if err := tx.QueryRow(ctx, `with recursive up(id) as (
					select $1::uuid union select x.master_meter_id from meter_sub_meters x join up on x.sub_meter_id = up.id)
				select exists(select 1 from up where id = $2::uuid)`, master, sub).Scan(&above); err != nil {
				return fmt.Errorf("masters of %s: %w", masterNo, err)
			}
			if above {
				return fmt.Errorf("%w: meter %s is %s itself or one of its masters", ErrInvalid, no, masterNo)
			}
			if _, err := tx.Exec(ctx, `insert into meter_sub_meters(master_meter_id, sub_meter_id, merged) values($1,$2,$3)
				on conflict (sub_meter_id) do update set master_meter_id = excluded.master_meter_id,
					merged = excluded.merged`, master, sub, merged); err != nil {
				return fmt.Errorf("sub meter %s: %w", no, err)
			}
		}
		return nil
	})
}

// SubMeters lists a master meter's sub meters (meter numbers, sorted) and
// whether they are merged into it.
func SubMeters(ctx context.Context, db *store.DB, projectID, masterNo string) ([]string, bool, error) {
	out := []string{}
	merged := false
	rows, err := db.Query(ctx, `select s.meter_no, x.merged from meter_sub_meters x
		join meters m on m.id = x.master_meter_id join meters s on s.id = x.sub_meter_id
		where m.project_id = $1 and m.meter_no = $2 order by s.meter_no`, projectID, masterNo)
	if err != nil {
		return nil, false, fmt.Errorf("sub meters of %s: %w", masterNo, err)
	}
	defer rows.Close()
	for rows.Next() {
		var no string
		var m bool
		if err := rows.Scan(&no, &m); err != nil {
			return nil, false, err
		}
		out, merged = append(out, no), merged || m
	}
	return out, merged, rows.Err()
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func meterID(ctx context.Context, q querier, projectID, meterNo string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `select id::text from meters where project_id = $1 and meter_no = $2`, projectID, meterNo).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: meter %s", ErrNotFound, meterNo)
	}
	return id, err
}

// RuleUnit is a unit sharing a common-area meter; Ratio is used by the
// ratio method only.
type RuleUnit struct {
	UnitID string          `json:"unitId"`
	Ratio  decimal.Decimal `json:"ratio"`
}

// Rule is how a common-area meter's consumption is shared.
type Rule struct {
	MeterNo string               `json:"meterNo"`
	Method  commonareadom.Method `json:"method"`
	Units   []RuleUnit           `json:"units"`
}

// SetRules replaces the project's rules for the meters named in rules
// (other meters' rules stay).
func SetRules(ctx context.Context, db *store.DB, projectID string, rules []Rule) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		for _, r := range rules {
			if !r.Method.Valid() {
				return fmt.Errorf("%w: method %q", ErrInvalid, r.Method)
			}
			if len(r.Units) == 0 {
				return fmt.Errorf("%w: meter %s has no units", ErrInvalid, r.MeterNo)
			}
			mid, err := meterID(ctx, tx, projectID, r.MeterNo)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `insert into common_area_rules(meter_id, project_id, method) values($1,$2,$3)
				on conflict (meter_id) do update set method = excluded.method, updated_at = now()`,
				mid, projectID, string(r.Method)); err != nil {
				return fmt.Errorf("rule of %s: %w", r.MeterNo, err)
			}
			if _, err := tx.Exec(ctx, `delete from common_area_rule_units where meter_id = $1`, mid); err != nil {
				return err
			}
			for _, u := range r.Units {
				if u.Ratio.IsNegative() {
					return fmt.Errorf("%w: unit %s ratio is negative", ErrInvalid, u.UnitID)
				}
				tag, err := tx.Exec(ctx, `insert into common_area_rule_units(meter_id, unit_id, ratio)
					select $1, u.id, $3 from units u where u.project_id = $2 and u.id::text = $4`,
					mid, projectID, u.Ratio, u.UnitID)
				if err != nil {
					return fmt.Errorf("rule of %s, unit %s: %w", r.MeterNo, u.UnitID, err)
				}
				if tag.RowsAffected() == 0 {
					return fmt.Errorf("%w: unit %s", ErrNotFound, u.UnitID)
				}
			}
		}
		return nil
	})
}

// Rules lists the project's rules by meter number.
func Rules(ctx context.Context, db *store.DB, projectID string) ([]Rule, error) {
	rows, err := db.Query(ctx, `select m.meter_no, r.method, u.unit_id::text, u.ratio
		from common_area_rules r join meters m on m.id = r.meter_id
		join common_area_rule_units u on u.meter_id = r.meter_id
		where r.project_id = $1 order by m.meter_no, u.unit_id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("common-area rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var no, method, unit string
		var ratio decimal.Decimal
		if err := rows.Scan(&no, &method, &unit, &ratio); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].MeterNo != no {
			out = append(out, Rule{MeterNo: no, Method: commonareadom.Method(method)})
		}
		last := &out[len(out)-1]
		last.Units = append(last.Units, RuleUnit{UnitID: unit, Ratio: ratio})
	}
	return out, rows.Err()
}

// AllocateInput names the project and the period (YYYY-MM) to allocate.
type AllocateInput struct {
	ProjectID string `json:"projectId"`
	Period    string `json:"period"`
}

// AllocateResult tells what a run booked: Booked counts the shares booked
// by this run (0 when the period was allocated before).
type AllocateResult struct {
	Meters int          `json:"meters"`
	Booked int          `json:"booked"`
	Amount money.Amount `json:"amount"`
}

// Share is a unit's booked part of an allocation.
type Share struct {
	UnitID   string          `json:"unitId"`
	UnitName string          `json:"unitName"`
	MeterNo  string          `json:"meterNo"`
	Weight   decimal.Decimal `json:"weight"`
	Amount   money.Amount    `json:"amount"`
	EntryKey string          `json:"entryKey"`
}

// Allocation is a common-area meter's allocated period with its figures.
type Allocation struct {
	MeterNo   string               `json:"meterNo"`
	Period    string               `json:"period"`
	Method    commonareadom.Method `json:"method"`
	StartKWh  decimal.Decimal      `json:"startKwh"`
	EndKWh    decimal.Decimal      `json:"endKwh"`
	KWh       decimal.Decimal      `json:"kwh"`
	Price     decimal.Decimal      `json:"price"`
	Total     money.Amount         `json:"total"`
	CreatedAt time.Time            `json:"createdAt"`
	Shares    []Share              `json:"shares"`
}

// Allocate allocates every common-area meter of the project for the
// period, each meter in its own transaction. A meter allocated before for
// the period is left as it is (its row is locked first, so two runs at
// once book once); every share's ledger key is unique per unit and period.
func Allocate(ctx context.Context, db *store.DB, in AllocateInput) (AllocateResult, error) {
	var out AllocateResult
	if _, err := commonareadom.ParsePeriod(in.Period); err != nil {
		return out, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	rows, err := db.Query(ctx, `select r.meter_id::text from common_area_rules r join meters m on m.id = r.meter_id
		where r.project_id = $1 order by m.meter_no`, in.ProjectID)
	if err != nil {
		return out, fmt.Errorf("common-area meters: %w", err)
	}
	var meters []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return out, err
		}
		meters = append(meters, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Meters = len(meters)
	for _, mid := range meters {
		err := store.InTx(ctx, db, func(tx pgx.Tx) error {
			n, amount, err := allocateMeter(ctx, tx, in.ProjectID, mid, in.Period)
			out.Booked += n
			out.Amount = out.Amount.Add(amount)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// bounds are the period's start and end as timestamps (in Location).
const boundsSQL = `(($1 || '-01')::timestamp at time zone '` + Location + `'),
	((($1 || '-01')::timestamp + interval '1 month') at time zone '` + Location + `')`

// registerSQL is a meter's energy register at a bound: the first reading at
// or after it (a midnight reading opens the new day, as in reports), looked
// for within 2 days.
const registerSQL = `(select energy_kwh from readings where meter_id = $1 and read_at >= $2
	and read_at < $2 + interval '2 days' order by read_at limit 1)`

// consumption is a meter's energy over [from, to) × CT × PT; ok is false
// when a bound has no reading.
func consumption(ctx context.Context, tx pgx.Tx, meterID string, from, to time.Time) (start, end, kwh decimal.Decimal, ok bool, err error) {
	var s, e *decimal.Decimal
	var ratio int64
	if err = tx.QueryRow(ctx, `select `+registerSQL+`, (select energy_kwh from readings where meter_id = $1
			and read_at >= $3 and read_at < $3 + interval '2 days' order by read_at limit 1),
			(select ct_ratio::bigint * pt_ratio from meters where id = $1)`,
		meterID, from, to).Scan(&s, &e, &ratio); err != nil {
		return start, end, kwh, false, fmt.Errorf("registers of meter %s: %w", meterID, err)
	}
	if s == nil || e == nil {
		return start, end, kwh, false, nil
	}
	d := e.Sub(*s)
	if d.IsNegative() {
		d = decimal.Zero // a replaced or reset meter: no use rather than negative use
	}
	return *s, *e, d.Mul(decimal.NewFromInt(ratio)), true, nil
}

type ruleUnit struct {
	id, name string
	area     decimal.Decimal
	ratio    decimal.Decimal
	payer    string // the unit's meter whose wallet pays its share
}

func allocateMeter(ctx context.Context, tx pgx.Tx, projectID, meterID, period string) (int, money.Amount, error) {
	var meterNo, method string
	var price decimal.Decimal
	var from, to time.Time
	if err := tx.QueryRow(ctx, `select m.meter_no, r.method, m.price, `+boundsSQL+`
		from common_area_rules r join meters m on m.id = r.meter_id where r.meter_id = $2 for update of r`,
		period, meterID).Scan(&meterNo, &method, &price, &from, &to); err != nil {
		return 0, money.Zero, fmt.Errorf("rule of meter %s: %w", meterID, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `select exists(select 1 from common_area_allocations where meter_id = $1 and period = $2)`,
		meterID, period).Scan(&exists); err != nil {
		return 0, money.Zero, err
	}
	if exists {
		return 0, money.Zero, nil // allocated before: book nothing again
	}
	start, end, kwh, ok, err := consumption(ctx, tx, meterID, from, to)
	if err != nil {
		return 0, money.Zero, err
	}
	if !ok {
		return 0, money.Zero, fmt.Errorf("%w: common-area meter %s, period %s", ErrNoReading, meterNo, period)
	}
	total := money.Round(kwh.Mul(price))

	// The units in a stable order (by id), with their area, ratio and the
	// meter that pays (the unit's first active meter other than this one).
	rows, err := tx.Query(ctx, `select u.id::text, u.name, u.area, ru.ratio,
			coalesce((select m.meter_no from meters m where m.unit_id = u.id and m.id <> $1 and m.status = 'active'
				order by m.meter_no limit 1), '')
		from common_area_rule_units ru join units u on u.id = ru.unit_id
		where ru.meter_id = $1 order by u.id`, meterID)
	if err != nil {
		return 0, money.Zero, fmt.Errorf("units of meter %s: %w", meterNo, err)
	}
	var units []ruleUnit
	for rows.Next() {
		var u ruleUnit
		if err := rows.Scan(&u.id, &u.name, &u.area, &u.ratio, &u.payer); err != nil {
			rows.Close()
			return 0, money.Zero, err
		}
		units = append(units, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, money.Zero, err
	}
	parts := make([]commonareadom.Part, len(units))
	for i, u := range units {
		if u.payer == "" {
			return 0, money.Zero, fmt.Errorf("%w: unit %s has no meter to pay its share of %s", ErrInvalid, u.name, meterNo)
		}
		w := u.ratio
		switch commonareadom.Method(method) {
		case commonareadom.ByArea:
			w = u.area
		case commonareadom.ByConsumption:
			if w, err = unitConsumption(ctx, tx, u.id, meterID, from, to); err != nil {
				return 0, money.Zero, err
			}
		}
		parts[i] = commonareadom.Part{UnitID: u.id, Weight: w}
	}
	shares, err := commonareadom.Allocate(total, parts)
	if err != nil {
		return 0, money.Zero, fmt.Errorf("%w: allocate %s for %s: %w", ErrInvalid, meterNo, period, err)
	}
	if _, err := tx.Exec(ctx, `insert into common_area_allocations(meter_id, period, project_id, method, start_kwh,
			end_kwh, kwh, price, total) values($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		meterID, period, projectID, method, start, end, kwh, price, total); err != nil {
		return 0, money.Zero, fmt.Errorf("allocation of %s for %s: %w", meterNo, period, err)
	}
	booked := 0
	for i, s := range shares {
		u := units[i]
		key := EntryKey(meterNo, period, u.id)
		if _, err := tx.Exec(ctx, `insert into common_area_shares(meter_id, period, unit_id, meter_no, weight, amount,
				entry_key) values($1,$2,$3,$4,$5,$6,$7)`, meterID, period, u.id, u.payer, s.Weight, s.Amount, key); err != nil {
			return 0, money.Zero, fmt.Errorf("share of unit %s: %w", u.name, err)
		}
		if !s.Amount.IsPositive() {
			continue
		}
		e := ledgerdom.Transfer(key, EntryKind,
			fmt.Sprintf("common area %s, %s: %s kWh by %s", meterNo, period, kwh, method),
			ledgerdom.Posting{Account: ledgerdom.ConsumptionIncome, Kind: ledgerdom.Income},
			ledgerdom.Posting{Account: ledgerdom.MeterWallet(u.payer), Kind: ledgerdom.Liability}, s.Amount)
		b, err := ledgerstore.BookTx(ctx, tx, projectID, e)
		if err != nil {
			return 0, money.Zero, err
		}
		if b.Created {
			booked++
		}
	}
	return booked, total, nil
}

// unitConsumption is the unit's meters' consumption in the period (the
// common-area meter itself excluded; a meter without readings counts 0).
func unitConsumption(ctx context.Context, tx pgx.Tx, unitID, exclude string, from, to time.Time) (decimal.Decimal, error) {
	rows, err := tx.Query(ctx, `select id::text from meters where unit_id = $1 and id <> $2 order by meter_no`, unitID, exclude)
	if err != nil {
		return decimal.Zero, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return decimal.Zero, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return decimal.Zero, err
	}
	sum := decimal.Zero
	for _, id := range ids {
		_, _, kwh, ok, err := consumption(ctx, tx, id, from, to)
		if err != nil {
			return decimal.Zero, err
		}
		if ok {
			sum = sum.Add(kwh)
		}
	}
	return sum, nil
}

// Allocations lists the project's allocations of the period with their
// shares (empty when none ran).
func Allocations(ctx context.Context, db *store.DB, projectID, period string) ([]Allocation, error) {
	rows, err := db.Query(ctx, `select m.meter_no, a.period, a.method, a.start_kwh, a.end_kwh, a.kwh, a.price, a.total,
			a.created_at, s.unit_id::text, u.name, s.meter_no, s.weight, s.amount, s.entry_key
		from common_area_allocations a join meters m on m.id = a.meter_id
		join common_area_shares s on s.meter_id = a.meter_id and s.period = a.period
		join units u on u.id = s.unit_id
		where a.project_id = $1 and a.period = $2 order by m.meter_no, u.name, s.unit_id`, projectID, period)
	if err != nil {
		return nil, fmt.Errorf("allocations of %s: %w", period, err)
	}
	defer rows.Close()
	out := []Allocation{}
	for rows.Next() {
		var a Allocation
		var s Share
		var method string
		if err := rows.Scan(&a.MeterNo, &a.Period, &method, &a.StartKWh, &a.EndKWh, &a.KWh, &a.Price, &a.Total,
			&a.CreatedAt, &s.UnitID, &s.UnitName, &s.MeterNo, &s.Weight, &s.Amount, &s.EntryKey); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].MeterNo != a.MeterNo {
			a.Method = commonareadom.Method(method)
			out = append(out, a)
		}
		last := &out[len(out)-1]
		last.Shares = append(last.Shares, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].MeterNo < out[j].MeterNo })
	return out, rows.Err()
}

// SetUnitArea sets a unit's floor area (m²).
func SetUnitArea(ctx context.Context, db *store.DB, projectID, unitID string, area decimal.Decimal) error {
	if area.IsNegative() {
		return fmt.Errorf("%w: area is negative", ErrInvalid)
	}
	tag, err := db.Exec(ctx, `update units set area = $3 where project_id = $1 and id::text = $2`, projectID, unitID, area)
	if err != nil {
		return fmt.Errorf("area of unit %s: %w", unitID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: unit %s", ErrNotFound, unitID)
	}
	return nil
}
