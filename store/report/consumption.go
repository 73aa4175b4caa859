package report

import (
	"context"
	"errors"
	"fmt"
	"github.com/voltflow/voltflow/store"
	"time"

	"github.com/jackc/pgx/v5"
)

// Granularity is the length of a consumption bucket (小时/日/月/年报表).
type Granularity string

// Granularities.
const (
	Hour  Granularity = "hour"
	Day   Granularity = "day"
	Month Granularity = "month"
	Year  Granularity = "year"
)

// GroupBy is what consumption is summed over.
type GroupBy string

// Groupings: one meter, a unit (shop / flat), a building (the level-1
// site above the unit's site, 楼栋), or a floor (the level-2 site at or
// above the unit's site, 楼层; seed 004: 楼层、大楼总表).
const (
	ByMeter    GroupBy = "meter"
	ByUnit     GroupBy = "unit"
	ByBuilding GroupBy = "building"
	ByFloor    GroupBy = "floor"
)

// ConsumptionFilter selects consumption rows.
type ConsumptionFilter struct {
	Projects    []string
	Period      Period
	Granularity Granularity
	GroupBy     GroupBy
	MeterNo     string // "" = every meter
	Scope       store.Scope
}

// Validate says what is wrong with the filter, naming the field.
func (f ConsumptionFilter) Validate() (field string, err error) {
	if err := f.Period.Validate(); err != nil {
		return "from", err
	}
	switch f.Granularity {
	case Hour, Day, Month, Year:
	default:
		return "granularity", errors.New("granularity must be hour, day, month or year")
	}
	switch f.GroupBy {
	case ByMeter, ByUnit, ByBuilding, ByFloor:
	default:
		return "groupBy", errors.New("groupBy must be meter, unit, building or floor")
	}
	return "", nil
}

// ConsumptionRow is the energy used by one group in one bucket.
type ConsumptionRow struct {
	Bucket time.Time `json:"bucket"` // start of the hour / day / month / year, China time
	// Key is the meter number, unit name, building name, or for a floor
	// "<building> / <floor>" (floor names repeat from building to
	// building); "" for meters on no unit, or for a floor, on no floor (a
	// unit hung on the building itself).
	Key       string `json:"key"`
	EnergyKwh string `json:"energyKwh"`
	Intervals int    `json:"intervals"` // reading intervals summed
}

// Cursor is the row's keyset position.
func (r ConsumptionRow) Cursor() string { return timeCursor(r.Bucket, r.Key) }

// lookaround bounds how far before and after the period the reports look for
// the reading that opens or closes an interval. Readings are partitioned by
// month: without this bound the search would scan every older partition of
// a meter with no reading near the period. Sweeps read every 30 minutes, so
// a month covers any real gap.
const lookaround = "31 days"

// consumptionSQL: the energy of an interval between two consecutive readings
// of a meter is the later total minus the earlier (lead() over the meter's
// readings), attributed to the bucket of the interval's start, so a day's use
// is its 00:00 reading to the next day's 00:00 reading. The reading that
// closes the period's last interval is the first at or after $3 (the
// lateral), so the last bucket is complete. A negative step (a replaced or
// reset meter) counts as zero rather than cancelling real use.
//
// $1 projects, $2 from, $3 to, $4 granularity, $5 group, $6 meter no ("" all),
// $7 location, $8/$9 keyset (bucket, key), $10 limit, $11/$12 site scope.
//
// The building CTE walks the site tree from each building down, carrying the
// building's name and the floor (the level-2 site) each site is on or under,
// so a unit on an area of a floor (level 3 or 4) counts for that floor.
var consumptionSQL = `with recursive building as (
	select id, name as building, null::text as floor from sites where parent_id is null
	union all
	select s.id, b.building, case when s.level = 2 then s.name else b.floor end
	from sites s join building b on s.parent_id = b.id
), scope as (
	select m.id, m.meter_no, coalesce(u.name, '') as unit_name, coalesce(b.building, '') as building,
		coalesce(b.building || ' / ' || b.floor, '') as floor
	from meters m
	left join units u on u.id = m.unit_id
	left join building b on b.id = u.site_id
	where m.project_id::text = any($1) and ($6 = '' or m.meter_no = $6) and ` + store.Scope{}.SQL("m.id", 11) + `
), r as (
	select r.meter_id, r.read_at, r.energy_kwh from readings r
	where r.meter_id in (select id from scope) and r.read_at >= $2 and r.read_at < $3
	union all
	select n.meter_id, n.read_at, n.energy_kwh from scope
	cross join lateral (select meter_id, read_at, energy_kwh from readings
		where meter_id = scope.id and read_at >= $3 and read_at < $3::timestamptz + interval '` + lookaround + `'
		order by read_at limit 1) n
), d as (
	select meter_id, read_at,
		lead(energy_kwh) over (partition by meter_id order by read_at) - energy_kwh as delta
	from r
), agg as (
	select date_trunc($4, d.read_at, $7) as bucket,
		case $5 when 'unit' then s.unit_name when 'building' then s.building when 'floor' then s.floor else s.meter_no end as key,
		sum(greatest(d.delta, 0)) as energy, count(*) as intervals
	from d join scope s on s.id = d.meter_id
	where d.read_at < $3 and d.delta is not null
	group by 1, 2
)
select bucket, key, energy::numeric(18,2)::text, intervals from agg
where $8::timestamptz is null or (bucket, key) > ($8, $9)
order by bucket, key limit $10`

// Consumption walks energy used per group and bucket, in (bucket, key) order.
func Consumption(ctx context.Context, q Querier, f ConsumptionFilter, p Page, fn func(ConsumptionRow) error) error {
	if field, err := f.Validate(); err != nil {
		return fmt.Errorf("consumption %s: %w", field, err)
	}
	afterAt, afterKey, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	return walk(ctx, q, func(rows pgx.Rows) (ConsumptionRow, error) {
		var r ConsumptionRow
		err := rows.Scan(&r.Bucket, &r.Key, &r.EnergyKwh, &r.Intervals)
		return r, err
	}, fn, consumptionSQL, f.Projects, f.Period.From, f.Period.To, string(f.Granularity), string(f.GroupBy),
		f.MeterNo, Location, afterAt, afterKey, p.limitArg(), f.Scope.Args()[0], f.Scope.Args()[1])
}
