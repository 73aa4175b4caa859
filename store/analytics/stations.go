package analytics

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// StationSummary is one station over the period (电站列表 / 电站运营状况):
// its completed and failed orders, energy, amount and charging time, and
// its utilisation. Time utilisation is the connectors' busy time over
// connectors × period; power utilisation is the energy delivered within the
// period over the chargers' rated power × period.
type StationSummary struct {
	StationID       string `json:"stationId"`
	StationName     string `json:"stationName"`
	AreaCode        string `json:"areaCode"`
	Address         string `json:"address"`
	Paused          bool   `json:"paused"`
	Chargers        int    `json:"chargers"`
	Connectors      int    `json:"connectors"`
	RatedKW         string `json:"ratedKw"`
	Orders          int    `json:"orders"`
	FailedOrders    int    `json:"failedOrders"`
	EnergyKWh       string `json:"energyKwh"`
	Amount          string `json:"amount"`
	ChargeSeconds   int64  `json:"chargeSeconds"`
	BusySeconds     int64  `json:"busySeconds"`
	TimeUtilPct     string `json:"timeUtilisationPct"`
	PowerUtilPct    string `json:"powerUtilisationPct"`
	FailureRatePct  string `json:"orderFailureRatePct"` // failed / (completed + failed) orders
	AvgOrderKWh     string `json:"avgOrderKwh"`
	AvgOrderSeconds int64  `json:"avgOrderSeconds"`
}

// Cursor implements report.Row.
func (r StationSummary) Cursor() string { return r.StationID }

// Headers implements report.Row.
func (StationSummary) Headers() []string {
	return []string{"电站编号", "电站名称", "区域", "地址", "暂停运营", "充电桩数", "充电接口数", "额定功率(kW)", "完成订单", "失败订单",
		"充电量(kWh)", "金额(元)", "充电时长(秒)", "占用时长(秒)", "时间利用率(%)", "功率利用率(%)", "订单失败率(%)", "单均电量(kWh)", "单均时长(秒)"}
}

// Cells implements report.Row.
func (r StationSummary) Cells() []any {
	return []any{r.StationID, r.StationName, r.AreaCode, r.Address, r.Paused, r.Chargers, r.Connectors, f64(r.RatedKW), r.Orders,
		r.FailedOrders, f64(r.EnergyKWh), r.Amount, r.ChargeSeconds, r.BusySeconds, r.TimeUtilPct, r.PowerUtilPct, r.FailureRatePct,
		f64(r.AvgOrderKWh), r.AvgOrderSeconds}
}

// Stations walks the stations the caller sees, by station id, with their
// figures over the period (电站列表及汇总).
func Stations(ctx context.Context, db *store.DB, f Filter, p report.Page, fn func(StationSummary) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	days := f.Days()
	return walk(ctx, db, func(rows pgx.Rows) (StationSummary, error) {
		var r StationSummary
		var rated, energy, amount, busyKWh decimal.Decimal
		err := rows.Scan(&r.StationID, &r.StationName, &r.AreaCode, &r.Address, &r.Paused, &r.Chargers, &r.Connectors, &rated,
			&r.Orders, &r.FailedOrders, &energy, &amount, &r.ChargeSeconds, &r.BusySeconds, &busyKWh)
		r.RatedKW, r.EnergyKWh, r.Amount = rated.StringFixed(1), kwh(energy), money(amount)
		r.TimeUtilPct = pct(decimal.NewFromInt(r.BusySeconds), decimal.NewFromInt(int64(r.Connectors)*int64(days)*86400))
		r.PowerUtilPct = pct(busyKWh, rated.Mul(decimal.NewFromInt(int64(days)*24)))
		r.FailureRatePct = pct(decimal.NewFromInt(int64(r.FailedOrders)), decimal.NewFromInt(int64(r.Orders+r.FailedOrders)))
		r.AvgOrderKWh = "0.000"
		if r.Orders > 0 {
			r.AvgOrderKWh = energy.DivRound(decimal.NewFromInt(int64(r.Orders)), 3).StringFixed(3)
			r.AvgOrderSeconds = r.ChargeSeconds / int64(r.Orders)
		}
		return r, err
	}, fn, `with st as materialized (
			select s.station_id, s.station_name, s.area_code, s.address, s.paused,
				(select count(*) from charging_equipment e where e.station_id = s.station_id)::int as chargers,
				(select count(*) from charging_connectors c join charging_equipment e using (equipment_id)
					where e.station_id = s.station_id)::int as connectors,
				(select coalesce(sum(e.power), 0) from charging_equipment e where e.station_id = s.station_id) as rated
			from charging_stations s where `+stationWhere+` and s.station_id > $7
			order by s.station_id limit $8),
		r as materialized (
			select r.station_id, sum(r.orders)::int as orders, sum(r.failed)::int as failed, sum(r.energy_kwh) as energy,
				sum(r.amount) as amount, sum(r.charge_seconds)::bigint as charge, sum(r.busy_seconds)::bigint as busy,
				sum(r.busy_kwh) as busy_kwh
			from charging_station_rollup r where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date
				and r.station_id = any(array(select station_id from st))
			group by 1)
		select st.station_id, st.station_name, st.area_code, st.address, st.paused, st.chargers, st.connectors, st.rated,
			coalesce(r.orders, 0), coalesce(r.failed, 0), coalesce(r.energy, 0), coalesce(r.amount, 0), coalesce(r.charge, 0),
			coalesce(r.busy, 0), coalesce(r.busy_kwh, 0)
		from st left join r on r.station_id = st.station_id
		order by st.station_id`, append(f.args(), p.After, limitArg(p))...)
}

// ErrTooLong refuses a day-by-day utilisation of more than 366 days.
var ErrTooLong = errors.New("analytics: a day-by-day utilisation covers at most 366 days")

// Grouping of the utilisation.
type Grouping string

// The utilisation's groupings (运营电站利用率, 运营终端利用率, by day).
const (
	ByStation       Grouping = "station"
	ByConnector     Grouping = "connector"
	ByStationDay    Grouping = "station-day"
	ByConnectorDay  Grouping = "connector-day"
	defaultGrouping          = ByStation
)

// Valid reports whether g is a grouping.
func (g Grouping) Valid() bool {
	switch g {
	case ByStation, ByConnector, ByStationDay, ByConnectorDay:
		return true
	}
	return false
}

// Utilisation is the time and power utilisation of one station or one
// connector, over the period or over one day of it.
type Utilisation struct {
	StationID        string  `json:"stationId"`
	StationName      string  `json:"stationName"`
	ConnectorID      *string `json:"connectorId,omitempty"`
	Day              *string `json:"day,omitempty"`
	Connectors       int     `json:"connectors"`
	RatedKW          string  `json:"ratedKw"`
	Orders           int     `json:"orders"`
	BusySeconds      int64   `json:"busySeconds"`
	AvailableSeconds int64   `json:"availableSeconds"`
	TimeUtilPct      string  `json:"timeUtilisationPct"` // busy / available
	EnergyKWh        string  `json:"energyKwh"`          // delivered inside the period (or day)
	CapacityKWh      string  `json:"capacityKwh"`        // rated power × hours
	PowerUtilPct     string  `json:"powerUtilisationPct"`
	key              string
}

// Cursor implements report.Row.
func (r Utilisation) Cursor() string { return r.key }

// Headers implements report.Row.
func (Utilisation) Headers() []string {
	return []string{"电站编号", "电站名称", "充电接口", "日期", "接口数", "额定功率(kW)", "订单数", "占用时长(秒)", "可用时长(秒)",
		"时间利用率(%)", "充电量(kWh)", "额定电量(kWh)", "功率利用率(%)"}
}

// Cells implements report.Row.
func (r Utilisation) Cells() []any {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return []any{r.StationID, r.StationName, s(r.ConnectorID), s(r.Day), r.Connectors, f64(r.RatedKW), r.Orders, r.BusySeconds,
		r.AvailableSeconds, r.TimeUtilPct, f64(r.EnergyKWh), f64(r.CapacityKWh), r.PowerUtilPct}
}

// UtilisationOf walks the utilisation grouped by g, in key order (station,
// connector, then day). A station's rated power is its chargers' power; a
// connector's is its own. Days and connectors with no order are rows too.
func UtilisationOf(ctx context.Context, db *store.DB, f Filter, g Grouping, p report.Page, fn func(Utilisation) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	if g == "" {
		g = defaultGrouping
	}
	perConnector := g == ByConnector || g == ByConnectorDay
	perDay := g == ByStationDay || g == ByConnectorDay
	if perDay && f.Days() > 366 {
		return ErrTooLong
	}
	days := f.Days()
	if perDay {
		days = 1
	}
	// station rows read the station rollup, connector rows the connector rollup
	table, connector := "charging_station_rollup", "''"
	if perConnector {
		table, connector = "charging_daily_rollup", "r.equipment_id || lpad(r.connector_no::text, 3, '0')"
	}
	return walk(ctx, db, func(rows pgx.Rows) (Utilisation, error) {
		var r Utilisation
		var rated, energy decimal.Decimal
		var connector, day string
		err := rows.Scan(&r.key, &r.StationID, &r.StationName, &connector, &day, &r.Connectors, &rated, &r.Orders, &r.BusySeconds, &energy)
		if perConnector {
			r.ConnectorID = &connector
		}
		if perDay {
			r.Day = &day
		}
		r.AvailableSeconds = int64(r.Connectors) * int64(days) * 86400
		capacity := rated.Mul(decimal.NewFromInt(int64(days) * 24))
		r.RatedKW, r.EnergyKWh, r.CapacityKWh = rated.StringFixed(1), kwh(energy), kwh(capacity)
		r.TimeUtilPct = pct(decimal.NewFromInt(r.BusySeconds), decimal.NewFromInt(r.AvailableSeconds))
		r.PowerUtilPct = pct(energy, capacity)
		return r, err
	}, fn, `with st as materialized (
			select s.station_id, s.station_name from charging_stations s where `+stationWhere+`),
		units as materialized ( -- what a row is about: a station (its connectors summed) or one connector
			select st.station_id, st.station_name,
				case when $7 then c.connector_id else '' end as connector_id,
				count(*)::int as connectors,
				case when $7 then max(c.power) else (select coalesce(sum(e2.power), 0) from charging_equipment e2
					where e2.station_id = st.station_id) end as rated
			from st join charging_equipment e on e.station_id = st.station_id
			join charging_connectors c on c.equipment_id = e.equipment_id
			group by 1, 2, 3),
		days as materialized (
			select case when $8 then d::date::text else '' end as day from generate_series($5::date, $6::date - 1, interval '1 day') d
			group by 1),
		-- every unit and day once with nothing (so empty ones are rows), and the rollup's figures; summed by
		-- aggregation rather than joined, so no plan can loop over the rollup
		grid as (
			select u.station_id::text, u.connector_id, d.day, u.station_name, u.connectors, u.rated,
				0 as orders, 0::bigint as busy, 0::numeric as kwh
			from units u cross join days d
			union all
			select r.station_id::text,
				`+connector+`,
				case when $8 then r.day::text else '' end, null, null, null, r.orders, r.busy_seconds, r.busy_kwh
			from `+table+` r
			where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date
				and r.station_id = any(array(select station_id from st))),
		rows as (
			select station_id || '|' || connector_id || '|' || day as k, station_id, max(station_name) as station_name,
				connector_id, day, max(connectors) as connectors, max(rated) as rated, sum(orders)::int as orders,
				sum(busy)::bigint as busy, sum(kwh) as kwh
			from grid group by station_id, connector_id, day having count(station_name) > 0)
		select * from rows where k > $9 order by k limit $10`,
		append(f.args(), perConnector, perDay, p.After, limitArg(p))...)
}

// Total sums a station list: the figures of every station the filter
// selects, as one row (电站汇总).
func Total(ctx context.Context, db *store.DB, f Filter) (StationSummary, error) {
	var t StationSummary
	t.StationID, t.StationName = "", "合计"
	var energy, amount, rated decimal.Decimal
	busyKWh := decimal.Zero
	var connectors int64
	err := Stations(ctx, db, f, report.Page{}, func(s StationSummary) error {
		t.Chargers += s.Chargers
		t.Connectors += s.Connectors
		connectors += int64(s.Connectors)
		rated = rated.Add(decimal.RequireFromString(s.RatedKW))
		t.Orders += s.Orders
		t.FailedOrders += s.FailedOrders
		energy = energy.Add(decimal.RequireFromString(s.EnergyKWh))
		amount = amount.Add(decimal.RequireFromString(s.Amount))
		t.ChargeSeconds += s.ChargeSeconds
		t.BusySeconds += s.BusySeconds
		// the power utilisation's numerator, back from the station's percentage, would round: sum the source instead
		return nil
	})
	if err != nil {
		return t, err
	}
	if err := db.QueryRow(ctx, `select coalesce(sum(r.busy_kwh), 0) from charging_station_rollup r
		join charging_stations s on s.station_id = r.station_id
		where `+stationWhere+` and r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date`, f.args()...).Scan(&busyKWh); err != nil {
		return t, err
	}
	days := int64(f.Days())
	t.RatedKW, t.EnergyKWh, t.Amount = rated.StringFixed(1), kwh(energy), money(amount)
	t.TimeUtilPct = pct(decimal.NewFromInt(t.BusySeconds), decimal.NewFromInt(connectors*days*86400))
	t.PowerUtilPct = pct(busyKWh, rated.Mul(decimal.NewFromInt(days*24)))
	t.FailureRatePct = pct(decimal.NewFromInt(int64(t.FailedOrders)), decimal.NewFromInt(int64(t.Orders+t.FailedOrders)))
	t.AvgOrderKWh = "0.000"
	if t.Orders > 0 {
		t.AvgOrderKWh = energy.DivRound(decimal.NewFromInt(int64(t.Orders)), 3).StringFixed(3)
		t.AvgOrderSeconds = t.ChargeSeconds / int64(t.Orders)
	}
	return t, nil
}
