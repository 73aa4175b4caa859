package analytics

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// StatusDay is one station's operating status on one day (电站运营状况 /
// 电站历史数据), from its connectors' status history (T/CEC table 8
// codes): the connector-seconds spent offline (0), idle (1), occupied but
// not charging (2, 4), charging (3) and in a fault (255), the status
// changes that day, and the availability = not offline and not faulty.
// Time before a connector's first recorded status counts as unknown; time
// after now is not counted.
type StatusDay struct {
	StationID       string `json:"stationId"`
	Day             string `json:"day"`
	Connectors      int    `json:"connectors"`
	Changes         int    `json:"changes"`
	OfflineSeconds  int64  `json:"offlineSeconds"`
	IdleSeconds     int64  `json:"idleSeconds"`
	OccupiedSeconds int64  `json:"occupiedSeconds"`
	ChargingSeconds int64  `json:"chargingSeconds"`
	FaultSeconds    int64  `json:"faultSeconds"`
	UnknownSeconds  int64  `json:"unknownSeconds"`
	AvailablePct    string `json:"availablePct"` // (idle + occupied + charging) / known time
}

// Cursor implements report.Row.
func (r StatusDay) Cursor() string { return r.StationID + "|" + r.Day }

// Headers implements report.Row.
func (StatusDay) Headers() []string {
	return []string{"电站编号", "日期", "接口数", "状态变化次数", "离线(秒)", "空闲(秒)", "占用未充电(秒)", "充电中(秒)", "故障(秒)", "未知(秒)", "可用率(%)"}
}

// Cells implements report.Row.
func (r StatusDay) Cells() []any {
	return []any{r.StationID, r.Day, r.Connectors, r.Changes, r.OfflineSeconds, r.IdleSeconds, r.OccupiedSeconds, r.ChargingSeconds,
		r.FaultSeconds, r.UnknownSeconds, r.AvailablePct}
}

// StatusHistory walks station by station, day by day.
func StatusHistory(ctx context.Context, db *store.DB, f Filter, p report.Page, fn func(StatusDay) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	return walk(ctx, db, func(rows pgx.Rows) (StatusDay, error) {
		var r StatusDay
		var total int64
		err := rows.Scan(&r.StationID, &r.Day, &r.Connectors, &r.Changes, &r.OfflineSeconds, &r.IdleSeconds, &r.OccupiedSeconds,
			&r.ChargingSeconds, &r.FaultSeconds, &total)
		known := r.OfflineSeconds + r.IdleSeconds + r.OccupiedSeconds + r.ChargingSeconds + r.FaultSeconds
		r.UnknownSeconds = total - known
		r.AvailablePct = pct(decimal.NewFromInt(r.IdleSeconds+r.OccupiedSeconds+r.ChargingSeconds), decimal.NewFromInt(known))
		return r, err
	}, fn, `with st as (select s.station_id from charging_stations s where `+stationWhere+`),
		conn as (select e.station_id, c.connector_id from charging_connectors c join charging_equipment e using (equipment_id)
			where e.station_id in (select station_id from st)),
		bounds as (select ($5::date::timestamp at time zone 'Asia/Shanghai') as lo,
			least($6::date::timestamp at time zone 'Asia/Shanghai', now()) as hi),
		h as ( -- each connector's statuses in the period, with the one in force at its start
			select conn.station_id, x.connector_id, x.status, x.at, x.counted from conn cross join bounds
			cross join lateral (
				(select h.connector_id, (h.info->>'Status')::int as status, bounds.lo as at, false as counted
					from connector_status_history h where h.connector_id = conn.connector_id and h.changed_at < bounds.lo
					order by h.changed_at desc, h.id desc limit 1)
				union all
				select h.connector_id, (h.info->>'Status')::int, h.changed_at, true
				from connector_status_history h where h.connector_id = conn.connector_id
					and h.changed_at >= bounds.lo and h.changed_at < bounds.hi) x),
		iv as (select h.station_id, h.status, h.at as s,
				coalesce(lead(h.at) over (partition by h.connector_id order by h.at), (select hi from bounds)) as e, h.counted
			from h),
		days as (select d::date as day, (d::date::timestamp at time zone 'Asia/Shanghai') as lo,
				((d::date + 1)::timestamp at time zone 'Asia/Shanghai') as hi
			from generate_series($5::date, $6::date - 1, interval '1 day') d),
		piece as (select iv.station_id, days.day, iv.status,
				greatest(extract(epoch from least(iv.e, days.hi) - greatest(iv.s, days.lo)), 0)::bigint as secs,
				(iv.counted and iv.s >= days.lo and iv.s < days.hi)::int as change
			from iv join days on iv.s < days.hi and iv.e > days.lo),
		agg as (select station_id, day, sum(change)::int as changes,
				sum(secs) filter (where status = 0) as offline, sum(secs) filter (where status = 1) as idle,
				sum(secs) filter (where status in (2, 4)) as occupied, sum(secs) filter (where status = 3) as charging,
				sum(secs) filter (where status = 255) as fault
			from piece group by 1, 2),
		n as (select station_id, count(*)::int as connectors from conn group by 1)
		select n.station_id, days.day::text, n.connectors, coalesce(a.changes, 0), coalesce(a.offline, 0)::bigint,
			coalesce(a.idle, 0)::bigint, coalesce(a.occupied, 0)::bigint, coalesce(a.charging, 0)::bigint, coalesce(a.fault, 0)::bigint,
			n.connectors * greatest(extract(epoch from least(days.hi, (select hi from bounds)) - days.lo), 0)::bigint
		from n cross join days left join agg a on a.station_id = n.station_id and a.day = days.day
		where n.station_id || '|' || days.day::text > $7
		order by n.station_id, days.day limit $8`, append(f.args(), p.After, limitArg(p))...)
}
