// Package aircon keeps central air-conditioning systems (中央空调计费, M14):
// a plant meter and indoor units (室内机) tied to units and to unit ids on
// the system's controller, the controller's counters read at period bounds,
// and a period's allocation: the plant meter's energy over the month
// (register at the end − at the start, × CT × PT, × the meter's price)
// shared among the indoor units by the system's rule (domain/aircon), each
// share booked to the wallet of the indoor unit's unit's meter (meter
// wallet → consumption income, as common-area allocation books) in one
// transaction with the figures it used.
package aircon

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	aircondom "github.com/voltflow/voltflow/domain/aircon"
	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Location is the zone billing months are cut in (as common-area).
const Location = "Asia/Shanghai"

// EntryKind of the allocation's ledger entries.
const EntryKind = "aircon"

// DefaultProfile is the controller register map when none is named.
const DefaultProfile = "ref-aircon-v1"

// Errors the API maps to problems.
var (
	ErrNotFound  = errors.New("not found")
	ErrInvalid   = errors.New("invalid")
	ErrConflict  = errors.New("conflict")
	ErrNoReading = errors.New("no reading at a bound of the period")
)

// EntryKey is the ledger key of an indoor unit's share of a period: booking
// it twice is impossible (journal_entries is unique per key).
func EntryKey(systemID, period, indoorUnitID string) string {
	return "aircon/" + systemID + "/" + period + "/" + indoorUnitID
}

var codeSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// IndoorUnit is an indoor unit of a system.
type IndoorUnit struct {
	ID             string `json:"id"`
	Code           string `json:"code"`
	UnitID         string `json:"unitId"`
	ControllerUnit int    `json:"controllerUnit"`
}

// System is a central AC system.
type System struct {
	ID                string           `json:"id"`
	ProjectID         string           `json:"-"`
	Code              string           `json:"code"`
	Name              string           `json:"name"`
	PlantMeterNo      string           `json:"plantMeterNo"`
	ControllerAddress string           `json:"controllerAddress"`
	Profile           string           `json:"profile"`
	Method            aircondom.Method `json:"method"`
	IndoorUnits       []IndoorUnit     `json:"indoorUnits"`
}

// CreateSystem stores a system with its indoor units; the plant meter and
// every unit must be the project's. Codes are the caller's, unique in the
// project (systems) and in the system (indoor units).
func CreateSystem(ctx context.Context, db *store.DB, projectID string, s System) (System, error) {
	if !codeSyntax.MatchString(s.Code) {
		return s, fmt.Errorf("%w: code %q (letters, digits, - and _, at most 32)", ErrInvalid, s.Code)
	}
	if !s.Method.Valid() {
		return s, fmt.Errorf("%w: method %q", ErrInvalid, s.Method)
	}
	if s.ControllerAddress == "" {
		return s, fmt.Errorf("%w: controllerAddress is empty", ErrInvalid)
	}
	if s.Profile == "" {
		s.Profile = DefaultProfile
	}
	if len(s.IndoorUnits) == 0 {
		return s, fmt.Errorf("%w: a system needs indoor units", ErrInvalid)
	}
	s.ID, s.ProjectID = uuid.NewString(), projectID
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var plant string
		err := tx.QueryRow(ctx, `select id::text from meters where project_id = $1 and meter_no = $2`,
			projectID, s.PlantMeterNo).Scan(&plant)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: plant meter %s", ErrNotFound, s.PlantMeterNo)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into aircon_systems(id, project_id, code, name, plant_meter_id,
				controller_address, profile, method) values($1,$2,$3,$4,$5,$6,$7,$8)`,
			s.ID, projectID, s.Code, s.Name, plant, s.ControllerAddress, s.Profile, string(s.Method)); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: system %s exists", ErrConflict, s.Code)
			}
			return fmt.Errorf("system %s: %w", s.Code, err)
		}
		for i := range s.IndoorUnits {
			iu := &s.IndoorUnits[i]
			if !codeSyntax.MatchString(iu.Code) {
				return fmt.Errorf("%w: indoor unit code %q", ErrInvalid, iu.Code)
			}
			if iu.ControllerUnit < 1 || iu.ControllerUnit > 247 {
				return fmt.Errorf("%w: indoor unit %s: controllerUnit %d, want 1..247", ErrInvalid, iu.Code, iu.ControllerUnit)
			}
			iu.ID = uuid.NewString()
			tag, err := tx.Exec(ctx, `insert into aircon_indoor_units(id, system_id, code, unit_id, controller_unit)
				select $1, $2, $3, u.id, $5 from units u where u.project_id = $6 and u.id::text = $4`,
				iu.ID, s.ID, iu.Code, iu.UnitID, iu.ControllerUnit, projectID)
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: indoor unit %s: code or controller unit %d used twice", ErrInvalid, iu.Code, iu.ControllerUnit)
			}
			if err != nil {
				return fmt.Errorf("indoor unit %s: %w", iu.Code, err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%w: unit %s", ErrNotFound, iu.UnitID)
			}
		}
		return nil
	})
	return s, err
}

// SetMethod changes a system's allocation rule; periods allocated before
// keep the rule they were allocated by.
func SetMethod(ctx context.Context, db *store.DB, projectID, code string, m aircondom.Method) error {
	if !m.Valid() {
		return fmt.Errorf("%w: method %q", ErrInvalid, m)
	}
	tag, err := db.Exec(ctx, `update aircon_systems set method = $3, updated_at = now() where project_id = $1 and code = $2`,
		projectID, code, string(m))
	if err != nil {
		return fmt.Errorf("method of %s: %w", code, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: system %s", ErrNotFound, code)
	}
	return nil
}

// Systems lists the project's systems (by code) with their indoor units
// (by code); code non-empty lists that one only.
func Systems(ctx context.Context, db *store.DB, projectID, code string) ([]System, error) {
	rows, err := db.Query(ctx, `select s.id::text, s.code, s.name, m.meter_no, s.controller_address, s.profile, s.method,
			i.id::text, i.code, i.unit_id::text, i.controller_unit
		from aircon_systems s join meters m on m.id = s.plant_meter_id
		join aircon_indoor_units i on i.system_id = s.id
		where s.project_id = $1 and ($2 = '' or s.code = $2) order by s.code, i.code`, projectID, code)
	if err != nil {
		return nil, fmt.Errorf("aircon systems: %w", err)
	}
	defer rows.Close()
	out := []System{}
	for rows.Next() {
		var s System
		var iu IndoorUnit
		var method string
		if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.PlantMeterNo, &s.ControllerAddress, &s.Profile, &method,
			&iu.ID, &iu.Code, &iu.UnitID, &iu.ControllerUnit); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != s.ID {
			s.ProjectID, s.Method = projectID, aircondom.Method(method)
			out = append(out, s)
		}
		last := &out[len(out)-1]
		last.IndoorUnits = append(last.IndoorUnits, iu)
	}
	return out, rows.Err()
}

// SystemByCode finds one system by code.
func SystemByCode(ctx context.Context, db *store.DB, projectID, code string) (System, error) {
	if code == "" {
		return System{}, fmt.Errorf("%w: system without code", ErrNotFound)
	}
	got, err := Systems(ctx, db, projectID, code)
	if err != nil {
		return System{}, err
	}
	if len(got) == 0 {
		return System{}, fmt.Errorf("%w: system %s", ErrNotFound, code)
	}
	return got[0], nil
}

// Controller is what reading a system's controller needs.
type Controller struct {
	Address string       `json:"address"`
	Profile string       `json:"profile"`
	Units   []IndoorUnit `json:"units"`
}

// ControllerOf a system, and whether its counters for bound are stored.
func ControllerOf(ctx context.Context, db *store.DB, systemID string, bound time.Time) (Controller, bool, error) {
	var c Controller
	var have bool
	err := db.QueryRow(ctx, `select controller_address, profile,
			exists(select 1 from aircon_readings where system_id::text = $1 and bound = $2)
		from aircon_systems where id::text = $1`, systemID, bound).Scan(&c.Address, &c.Profile, &have)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, fmt.Errorf("%w: system %s", ErrNotFound, systemID)
	}
	if err != nil {
		return c, false, fmt.Errorf("controller of %s: %w", systemID, err)
	}
	rows, err := db.Query(ctx, `select id::text, code, unit_id::text, controller_unit from aircon_indoor_units
		where system_id::text = $1 order by controller_unit`, systemID)
	if err != nil {
		return c, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var iu IndoorUnit
		if err := rows.Scan(&iu.ID, &iu.Code, &iu.UnitID, &iu.ControllerUnit); err != nil {
			return c, false, err
		}
		c.Units = append(c.Units, iu)
	}
	return c, have, rows.Err()
}

// UnitReading is an indoor unit's counters as read.
type UnitReading struct {
	IndoorUnitID string             `json:"indoorUnitId"`
	Counters     aircondom.Counters `json:"counters"`
}

// SaveReading stores the counters read for a bound; the first read of a
// bound is kept (a retried or repeated read stores nothing). It reports
// whether these were stored.
func SaveReading(ctx context.Context, db *store.DB, systemID string, bound, readAt time.Time, units []UnitReading) (bool, error) {
	stored := false
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		// One bound's counters are one reading: lock the system so two
		// reads of the same bound do not interleave their rows.
		if _, err := tx.Exec(ctx, `select 1 from aircon_systems where id::text = $1 for update`, systemID); err != nil {
			return err
		}
		var have bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from aircon_readings where system_id::text = $1 and bound = $2)`,
			systemID, bound).Scan(&have); err != nil || have {
			return err
		}
		for _, u := range units {
			c := u.Counters
			if _, err := tx.Exec(ctx, `insert into aircon_readings(system_id, bound, indoor_unit_id, read_at, runtime_min,
					valve_open_min, capacity_kw, running) values($1::uuid,$2,$3,$4,$5,$6,$7,$8)`,
				systemID, bound, u.IndoorUnitID, readAt, c.RuntimeMin, c.ValveOpenMin, c.CapacityKW, c.Running); err != nil {
				return fmt.Errorf("reading of indoor unit %s: %w", u.IndoorUnitID, err)
			}
		}
		stored = true
		return nil
	})
	return stored, err
}

// AllocateInput names the system and the period (YYYY-MM) to allocate.
type AllocateInput struct {
	SystemID string `json:"systemId"`
	Period   string `json:"period"`
}

// AllocateResult tells what a run booked: Booked counts the shares booked
// by this run (0 when the period was allocated before).
type AllocateResult struct {
	Booked int          `json:"booked"`
	Amount money.Amount `json:"amount"`
}

type boundReading struct {
	at       time.Time
	counters aircondom.Counters
}

// Allocate allocates the system's period once: the allocation row is
// written with the shares and the ledger entries in one transaction, after
// locking the system, so a second run (or two at once) books nothing again.
func Allocate(ctx context.Context, db *store.DB, in AllocateInput) (AllocateResult, error) {
	var out AllocateResult
	p, err := commonareadom.ParsePeriod(in.Period)
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	loc, err := time.LoadLocation(Location)
	if err != nil {
		return out, err
	}
	from, to := p.Bounds(loc)
	err = store.InTx(ctx, db, func(tx pgx.Tx) error {
		var projectID, plantID, plantNo, method string
		var price decimal.Decimal
		var ratio int64
		if err := tx.QueryRow(ctx, `select s.project_id::text, s.plant_meter_id::text, m.meter_no, s.method, m.price,
				m.ct_ratio::bigint * m.pt_ratio
			from aircon_systems s join meters m on m.id = s.plant_meter_id where s.id::text = $1 for update of s`,
			in.SystemID).Scan(&projectID, &plantID, &plantNo, &method, &price, &ratio); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: system %s", ErrNotFound, in.SystemID)
			}
			return fmt.Errorf("system %s: %w", in.SystemID, err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from aircon_allocations where system_id::text = $1 and period = $2)`,
			in.SystemID, in.Period).Scan(&exists); err != nil || exists {
			return err // allocated before: book nothing again
		}
		// The plant's energy register at each bound: the first reading at
		// or after it within 2 days, as common-area allocation reads it.
		var s, e *decimal.Decimal
		if err := tx.QueryRow(ctx, `select
				(select energy_kwh from readings where meter_id = $1::uuid and read_at >= $2 and read_at < $2 + interval '2 days'
					order by read_at limit 1),
				(select energy_kwh from readings where meter_id = $1::uuid and read_at >= $3 and read_at < $3 + interval '2 days'
					order by read_at limit 1)`, plantID, from, to).Scan(&s, &e); err != nil {
			return fmt.Errorf("registers of plant meter %s: %w", plantNo, err)
		}
		if s == nil || e == nil {
			return fmt.Errorf("%w: plant meter %s, period %s", ErrNoReading, plantNo, in.Period)
		}
		d := e.Sub(*s)
		if d.IsNegative() {
			d = decimal.Zero // a replaced or reset meter: no use rather than negative use
		}
		kwh := d.Mul(decimal.NewFromInt(ratio))
		total := money.Round(kwh.Mul(price))

		// Each indoor unit's counters at both bounds, and the meter that
		// pays its share (its unit's first active meter, not the plant's).
		rows, err := tx.Query(ctx, `select i.id::text, i.unit_id::text, r.bound = $2, r.read_at, r.runtime_min, r.valve_open_min,
				r.capacity_kw, r.running,
				coalesce((select m.meter_no from meters m where m.unit_id = i.unit_id and m.id <> $4::uuid and m.status = 'active'
					order by m.meter_no limit 1), '')
			from aircon_indoor_units i left join aircon_readings r on r.indoor_unit_id = i.id and r.bound in ($2, $3)
			where i.system_id::text = $1 order by i.code, r.bound`, in.SystemID, from, to, plantID)
		if err != nil {
			return fmt.Errorf("controller readings of %s: %w", in.SystemID, err)
		}
		type iuRow struct {
			id, unit, payer string
			start, end      *boundReading
		}
		var ius []*iuRow
		for rows.Next() {
			var id, unit, payer string
			var isStart *bool
			var at *time.Time
			var rt, vt *int64
			var capKW *decimal.Decimal
			var running *bool
			if err := rows.Scan(&id, &unit, &isStart, &at, &rt, &vt, &capKW, &running, &payer); err != nil {
				rows.Close()
				return err
			}
			if len(ius) == 0 || ius[len(ius)-1].id != id {
				ius = append(ius, &iuRow{id: id, unit: unit, payer: payer})
			}
			if isStart == nil {
				continue
			}
			b := &boundReading{at: *at, counters: aircondom.Counters{RuntimeMin: *rt, ValveOpenMin: *vt,
				CapacityKW: *capKW, Running: *running}}
			if *isStart {
				ius[len(ius)-1].start = b
			} else {
				ius[len(ius)-1].end = b
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		inputs := make([]aircondom.Inputs, len(ius))
		for i, u := range ius {
			if u.start == nil || u.end == nil {
				return fmt.Errorf("%w: the controller was not read at both bounds of %s for every indoor unit", ErrNoReading, in.Period)
			}
			if u.payer == "" {
				return fmt.Errorf("%w: unit %s of indoor unit %s has no meter to pay its share", ErrInvalid, u.unit, u.id)
			}
			inputs[i] = aircondom.Inputs{IndoorUnitID: u.id, Start: u.start.counters, End: u.end.counters}
		}
		shares, err := aircondom.Allocate(total, aircondom.Method(method), inputs)
		if err != nil {
			return fmt.Errorf("%w: allocate %s: %w", ErrInvalid, in.Period, err)
		}
		if _, err := tx.Exec(ctx, `insert into aircon_allocations(system_id, period, project_id, method, plant_meter,
				start_kwh, end_kwh, ratio, kwh, price, total) values($1::uuid,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
			in.SystemID, in.Period, projectID, method, plantNo, *s, *e, ratio, kwh, price, total); err != nil {
			return fmt.Errorf("allocation of %s: %w", in.Period, err)
		}
		for i, sh := range shares {
			u, x := ius[i], inputs[i]
			key := EntryKey(in.SystemID, in.Period, u.id)
			if _, err := tx.Exec(ctx, `insert into aircon_shares(system_id, period, indoor_unit_id, unit_id, meter_no,
					start_runtime_min, end_runtime_min, start_valve_min, end_valve_min, capacity_kw, weight, amount, entry_key)
				values($1::uuid,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`, in.SystemID, in.Period, u.id, u.unit, u.payer,
				x.Start.RuntimeMin, x.End.RuntimeMin, x.Start.ValveOpenMin, x.End.ValveOpenMin, x.End.CapacityKW,
				sh.Weight, sh.Amount, key); err != nil {
				return fmt.Errorf("share of indoor unit %s: %w", u.id, err)
			}
			if !sh.Amount.IsPositive() {
				continue
			}
			entry := ledgerdom.Transfer(key, EntryKind,
				fmt.Sprintf("central AC %s, plant %s: %s kWh by %s", in.Period, plantNo, kwh, method),
				ledgerdom.Posting{Account: ledgerdom.ConsumptionIncome, Kind: ledgerdom.Income},
				ledgerdom.Posting{Account: ledgerdom.MeterWallet(u.payer), Kind: ledgerdom.Liability}, sh.Amount)
			b, err := ledgerstore.BookTx(ctx, tx, projectID, entry)
			if err != nil {
				return err
			}
			if b.Created {
				out.Booked++
			}
		}
		out.Amount = total
		return nil
	})
	return out, err
}

// ShareView is an indoor unit's inputs, weight and share in an allocation.
type ShareView struct {
	IndoorUnitID   string          `json:"indoorUnitId"`
	IndoorUnitCode string          `json:"indoorUnitCode"`
	ControllerUnit int             `json:"controllerUnit"`
	UnitID         string          `json:"unitId"`
	UnitName       string          `json:"unitName"`
	MeterNo        string          `json:"meterNo"`
	StartReadAt    time.Time       `json:"startReadAt"`
	EndReadAt      time.Time       `json:"endReadAt"`
	StartRuntime   int64           `json:"startRuntimeMin"`
	EndRuntime     int64           `json:"endRuntimeMin"`
	StartValve     int64           `json:"startValveOpenMin"`
	EndValve       int64           `json:"endValveOpenMin"`
	CapacityKW     string          `json:"capacityKw"` // 2 places
	Weight         decimal.Decimal `json:"weight"`     // kW·min or min, by the method
	Amount         money.Amount    `json:"amount"`
	EntryKey       string          `json:"entryKey"`
}

// Allocation is a system's allocated period with every figure it used.
type Allocation struct {
	SystemCode   string           `json:"systemCode"`
	Period       string           `json:"period"`
	From         time.Time        `json:"from"`
	To           time.Time        `json:"to"`
	Method       aircondom.Method `json:"method"`
	PlantMeterNo string           `json:"plantMeterNo"`
	StartKWh     string           `json:"startKwh"` // the plant's register at From, 2 places
	EndKWh       string           `json:"endKwh"`
	Ratio        int64            `json:"ratio"` // CT × PT
	KWh          string           `json:"kwh"`   // (end − start) × ratio
	Price        string           `json:"price"` // yuan/kWh, 4 places
	Total        money.Amount     `json:"total"`
	CreatedAt    time.Time        `json:"createdAt"`
	Shares       []ShareView      `json:"shares"`
}

// AllocationOf returns the system's allocation of the period; ok is false
// when the period is not allocated (yet).
func AllocationOf(ctx context.Context, db *store.DB, projectID, code, period string) (Allocation, bool, error) {
	var a Allocation
	p, err := commonareadom.ParsePeriod(period)
	if err != nil {
		return a, false, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	loc, err := time.LoadLocation(Location)
	if err != nil {
		return a, false, err
	}
	a.From, a.To = p.Bounds(loc)
	rows, err := db.Query(ctx, `select s.code, x.period, x.method, x.plant_meter, x.start_kwh, x.end_kwh, x.ratio, x.kwh,
			x.price, x.total, x.created_at,
			h.indoor_unit_id::text, i.code, i.controller_unit, h.unit_id::text, u.name, h.meter_no,
			rs.read_at, re.read_at, h.start_runtime_min, h.end_runtime_min, h.start_valve_min, h.end_valve_min,
			h.capacity_kw, h.weight, h.amount, h.entry_key
		from aircon_allocations x join aircon_systems s on s.id = x.system_id
		join aircon_shares h on h.system_id = x.system_id and h.period = x.period
		join aircon_indoor_units i on i.id = h.indoor_unit_id join units u on u.id = h.unit_id
		join aircon_readings rs on rs.system_id = x.system_id and rs.indoor_unit_id = i.id and rs.bound = $4
		join aircon_readings re on re.system_id = x.system_id and re.indoor_unit_id = i.id and re.bound = $5
		where s.project_id = $1 and s.code = $2 and x.period = $3 order by i.code`, projectID, code, period, a.From, a.To)
	if err != nil {
		return a, false, fmt.Errorf("allocation of %s %s: %w", code, period, err)
	}
	defer rows.Close()
	a.Shares = []ShareView{}
	found := false
	for rows.Next() {
		var s ShareView
		var method string
		var start, end, kwh, price, capKW decimal.Decimal
		if err := rows.Scan(&a.SystemCode, &a.Period, &method, &a.PlantMeterNo, &start, &end, &a.Ratio, &kwh,
			&price, &a.Total, &a.CreatedAt, &s.IndoorUnitID, &s.IndoorUnitCode, &s.ControllerUnit, &s.UnitID, &s.UnitName,
			&s.MeterNo, &s.StartReadAt, &s.EndReadAt, &s.StartRuntime, &s.EndRuntime, &s.StartValve, &s.EndValve,
			&capKW, &s.Weight, &s.Amount, &s.EntryKey); err != nil {
			return a, false, err
		}
		a.StartKWh, a.EndKWh, a.KWh, a.Price = start.StringFixed(2), end.StringFixed(2), kwh.StringFixed(2), price.StringFixed(4)
		s.CapacityKW = capKW.StringFixed(2)
		a.Method, found = aircondom.Method(method), true
		a.Shares = append(a.Shares, s)
	}
	return a, found, rows.Err()
}

// ReadInput asks for the controller's counters of a system at a period
// bound (read now, stored for that bound unless stored before).
type ReadInput struct {
	SystemID string    `json:"systemId"`
	Bound    time.Time `json:"bound"`
}

// ReadResult tells what a read did: Stored is false when the bound had been
// read before (nothing was asked of the controller).
type ReadResult struct {
	Units  int       `json:"units"`
	ReadAt time.Time `json:"readAt"`
	Stored bool      `json:"stored"`
}
