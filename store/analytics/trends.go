package analytics

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// Granularity of a trend.
type Granularity string

// Trend granularities.
const (
	Daily   Granularity = "day"
	Monthly Granularity = "month"
)

// Trend is one day or month of charging (充电次数/电量/时长/利用率趋势):
// the stations' completed orders started in it, their energy, amount and
// charging time, failed orders, and the time utilisation in it.
type Trend struct {
	Period        string `json:"period"` // YYYY-MM-DD or YYYY-MM
	Orders        int    `json:"orders"`
	FailedOrders  int    `json:"failedOrders"`
	EnergyKWh     string `json:"energyKwh"`
	Amount        string `json:"amount"`
	ChargeSeconds int64  `json:"chargeSeconds"`
	BusySeconds   int64  `json:"busySeconds"`
	TimeUtilPct   string `json:"timeUtilisationPct"`
}

// Cursor implements report.Row.
func (r Trend) Cursor() string { return r.Period }

// Headers implements report.Row.
func (Trend) Headers() []string {
	return []string{"日期", "充电次数", "失败次数", "充电量(kWh)", "金额(元)", "充电时长(秒)", "占用时长(秒)", "时间利用率(%)"}
}

// Cells implements report.Row.
func (r Trend) Cells() []any {
	return []any{r.Period, r.Orders, r.FailedOrders, f64(r.EnergyKWh), r.Amount, r.ChargeSeconds, r.BusySeconds, r.TimeUtilPct}
}

// Trends walks the period day by day or month by month (every day or month
// of the period is a row, empty ones too).
func Trends(ctx context.Context, db *store.DB, f Filter, g Granularity, p report.Page, fn func(Trend) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	if g == "" {
		g = Daily
	}
	if g != Daily && g != Monthly {
		return errors.New("analytics: granularity must be day or month")
	}
	format := "YYYY-MM-DD"
	if g == Monthly {
		format = "YYYY-MM"
	}
	return walk(ctx, db, func(rows pgx.Rows) (Trend, error) {
		var r Trend
		var energy, amount decimal.Decimal
		var available int64
		err := rows.Scan(&r.Period, &r.Orders, &r.FailedOrders, &energy, &amount, &r.ChargeSeconds, &r.BusySeconds, &available)
		r.EnergyKWh, r.Amount = kwh(energy), money(amount)
		r.TimeUtilPct = pct(decimal.NewFromInt(r.BusySeconds), decimal.NewFromInt(available))
		return r, err
	}, fn, `with st as (select s.station_id from charging_stations s where `+stationWhere+`),
		conn as (select count(*)::bigint as n from charging_connectors c join charging_equipment e using (equipment_id)
			where e.station_id in (select station_id from st)),
		days as (select to_char(d, $7) as k, count(*)::bigint as n from generate_series($5::date, $6::date - 1, interval '1 day') d group by 1),
		r as materialized (select to_char(r.day, $7) as k, sum(r.orders)::int as orders, sum(r.failed)::int as failed,
				sum(r.energy_kwh) as energy, sum(r.amount) as amount, sum(r.charge_seconds)::bigint as charge,
				sum(r.busy_seconds)::bigint as busy
			from charging_station_rollup r where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date
				and r.station_id = any(array(select station_id from st))
			group by 1)
		select days.k, coalesce(r.orders, 0), coalesce(r.failed, 0), coalesce(r.energy, 0), coalesce(r.amount, 0),
			coalesce(r.charge, 0), coalesce(r.busy, 0), days.n * 86400 * (select n from conn)
		from days left join r using (k) where days.k > $8 order by days.k limit $9`,
		append(f.args(), format, p.After, limitArg(p))...)
}

// PowerHour is one hour of the day over the period (充电功率分时分析): the
// energy the stations delivered in that hour summed over the period's days,
// the average power in it (energy / days / 1 h), and the largest power a
// connector reported in it.
type PowerHour struct {
	Hour        int    `json:"hour"` // 0–23, China time
	EnergyKWh   string `json:"energyKwh"`
	AvgPowerKW  string `json:"avgPowerKw"`
	PeakPowerKW string `json:"peakConnectorPowerKw"`
}

// Cursor implements report.Row.
func (r PowerHour) Cursor() string { return string(rune('A' + r.Hour)) }

// Headers implements report.Row.
func (PowerHour) Headers() []string {
	return []string{"时段", "充电量(kWh)", "平均功率(kW)", "单接口最大功率(kW)"}
}

// Cells implements report.Row.
func (r PowerHour) Cells() []any {
	return []any{r.Hour, f64(r.EnergyKWh), f64(r.AvgPowerKW), f64(r.PeakPowerKW)}
}

// PowerByHour walks the 24 hours of the day, from the power rollup (built
// from the orders' meter samples when they complete).
func PowerByHour(ctx context.Context, db *store.DB, f Filter, p report.Page, fn func(PowerHour) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	days := decimal.NewFromInt(int64(f.Days()))
	return walk(ctx, db, func(rows pgx.Rows) (PowerHour, error) {
		var r PowerHour
		var wh, peak decimal.Decimal
		err := rows.Scan(&r.Hour, &wh, &peak)
		e := wh.Shift(-3)
		r.EnergyKWh, r.AvgPowerKW, r.PeakPowerKW = kwh(e), e.DivRound(days, 3).StringFixed(3), peak.Shift(-3).StringFixed(3)
		return r, err
	}, fn, `with st as (select s.station_id from charging_stations s where `+stationWhere+`),
		r as materialized (select r.hour, sum(r.energy_wh) as wh, max(r.max_power_w) as peak from charging_power_rollup r
			where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date and r.station_id = any(array(select station_id from st))
			group by 1)
		select h, coalesce(r.wh, 0), coalesce(r.peak, 0) from generate_series(0, 23) h left join r on r.hour = h
		where chr(65 + h) > $7 order by h limit $8`, append(f.args(), p.After, limitArg(p))...)
}
