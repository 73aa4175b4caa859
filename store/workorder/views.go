package workorder

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// The O&M views (运维统计报表, seed 000): failure records (设备故障信息),
// concentrator offline report (集控器离网信息), terminal status detail with
// data latency (终端状态明细) and station failure rate. A charge point (the
// OCPP connection of a split charger's cabinet, which drives its 12
// terminals) plays the concentrator; a connector is a terminal. Each row
// is a report.Row, so the API answers pages and streams xlsx exports.

// ErrBadCursor is a cursor no row of the view produced.
var ErrBadCursor = report.ErrBadCursor

func idCursor(c string) (*int64, error) {
	if c == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(c, 10, 64)
	if err != nil {
		return nil, ErrBadCursor
	}
	return &v, nil
}

func limitArg(p report.Page) *int {
	if p.Limit <= 0 {
		return nil
	}
	return &p.Limit
}

func walk[T any](ctx context.Context, db *store.DB, scan func(pgx.Rows) (T, error), fn func(T) error, sql string, args ...any) error {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("view query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("view scan: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

func timeCell(t *time.Time) any {
	if t == nil {
		return ""
	}
	return t.In(cst)
}

var cst = time.FixedZone("CST", 8*3600)

// FaultFilter selects fault episodes.
type FaultFilter struct {
	Projects      []string
	ChargePointID string
	Period        *report.Period // episodes that started in it; nil = all
}

// FailureRecord is one fault episode (设备故障信息).
type FailureRecord struct {
	FaultID         int64      `json:"faultId"`
	StationID       string     `json:"stationId"`
	StationName     string     `json:"stationName"`
	ChargePointID   string     `json:"chargePointId"`
	ChargePointName string     `json:"chargePointName"`
	Connector       int        `json:"connector"`
	OCPPCode        string     `json:"ocppCode"`
	AlarmCode       int        `json:"alarmCode"`
	AlarmLevel      int        `json:"alarmLevel"`
	StartedAt       time.Time  `json:"startedAt"`
	RecoveredAt     *time.Time `json:"recoveredAt,omitempty"`
	Recovered       bool       `json:"recovered"`
	DurationSeconds int64      `json:"durationSeconds"` // until recovery, or until now
	WorkOrderID     *string    `json:"workOrderId,omitempty"`
}

// Cursor implements report.Row.
func (r FailureRecord) Cursor() string { return strconv.FormatInt(r.FaultID, 10) }

// Headers implements report.Row.
func (FailureRecord) Headers() []string {
	return []string{"故障编号", "电站编号", "电站名称", "集控器编号", "集控器名称", "终端(接口)", "OCPP故障码", "告警代码", "告警等级",
		"故障发生时间", "恢复时间", "恢复状态", "持续时间(秒)", "运维工单"}
}

// Cells implements report.Row.
func (r FailureRecord) Cells() []any {
	wo := ""
	if r.WorkOrderID != nil {
		wo = *r.WorkOrderID
	}
	rec := "未恢复"
	if r.Recovered {
		rec = "已恢复"
	}
	return []any{r.FaultID, r.StationID, r.StationName, r.ChargePointID, r.ChargePointName, r.Connector, r.OCPPCode, r.AlarmCode,
		r.AlarmLevel, r.StartedAt.In(cst), timeCell(r.RecoveredAt), rec, r.DurationSeconds, wo}
}

// FailureRecords walks fault episodes, newest first. Offline episodes
// (alarm 27 on connector 0) are included; ConcentratorOffline lists them alone.
func FailureRecords(ctx context.Context, db *store.DB, f FaultFilter, p report.Page, fn func(FailureRecord) error) error {
	return faults(ctx, db, f, false, p, fn)
}

func faults(ctx context.Context, db *store.DB, f FaultFilter, offlineOnly bool, p report.Page, fn func(FailureRecord) error) error {
	after, err := idCursor(p.After)
	if err != nil {
		return err
	}
	var from, to *time.Time
	if f.Period != nil {
		from, to = &f.Period.From, &f.Period.To
	}
	return walk(ctx, db, func(rows pgx.Rows) (FailureRecord, error) {
		var r FailureRecord
		err := rows.Scan(&r.FaultID, &r.StationID, &r.StationName, &r.ChargePointID, &r.ChargePointName, &r.Connector, &r.OCPPCode,
			&r.AlarmCode, &r.AlarmLevel, &r.StartedAt, &r.RecoveredAt, &r.DurationSeconds, &r.WorkOrderID)
		r.Recovered = r.RecoveredAt != nil
		return r, err
	}, fn, `select f.id, e.station_id, s.station_name, f.equipment_id, e.equipment_name, f.connector_no, f.ocpp_code,
		f.alarm_code, f.alarm_level, f.started_at, f.recovered_at,
		extract(epoch from coalesce(f.recovered_at, now()) - f.started_at)::bigint,
		(select ev.work_order_id::text from work_order_events ev where ev.fault_id = f.id order by ev.id limit 1)
		from charger_faults f
		join charging_equipment e on e.equipment_id = f.equipment_id
		join charging_stations s on s.station_id = e.station_id
		join ocpp_charge_points cp on cp.equipment_id = f.equipment_id
		where cp.project_id::text = any($1)
		and ($2 = '' or f.equipment_id = $2)
		and ($3::timestamptz is null or (f.started_at >= $3 and f.started_at < $4))
		and (not $5 or (f.alarm_code = 27 and f.connector_no = 0))
		and ($6::bigint is null or f.id < $6)
		order by f.id desc limit $7`,
		f.Projects, f.ChargePointID, from, to, offlineOnly, after, limitArg(p))
}

// OfflineRecord is one time a concentrator (charge point) was off the
// network (集控器离网信息).
type OfflineRecord struct {
	FailureRecord
}

// Headers implements report.Row.
func (OfflineRecord) Headers() []string {
	return []string{"电站编号", "电站名称", "集控器编号", "集控器名称", "离线时间", "上线时间", "离线时长(秒)"}
}

// Cells implements report.Row.
func (r OfflineRecord) Cells() []any {
	return []any{r.StationID, r.StationName, r.ChargePointID, r.ChargePointName, r.StartedAt.In(cst), timeCell(r.RecoveredAt),
		r.DurationSeconds}
}

// ConcentratorOffline walks offline episodes, newest first.
func ConcentratorOffline(ctx context.Context, db *store.DB, f FaultFilter, p report.Page, fn func(OfflineRecord) error) error {
	return faults(ctx, db, f, true, p, func(r FailureRecord) error { return fn(OfflineRecord{r}) })
}

// TerminalFilter selects terminals.
type TerminalFilter struct {
	Projects      []string
	ChargePointID string
	StationID     string
}

// TerminalStatus is one terminal (connector) with how fresh its data is
// (终端状态明细): its last status change, the last sample the charger took
// (collected), the last frame the platform received from its charger
// (reported), and the latency = now - reported.
type TerminalStatus struct {
	ConnectorID     string     `json:"connectorId"`
	ConnectorName   string     `json:"connectorName"`
	StationID       string     `json:"stationId"`
	StationName     string     `json:"stationName"`
	ChargePointID   string     `json:"chargePointId"`
	ChargePointName string     `json:"chargePointName"`
	Model           string     `json:"model"`
	Online          bool       `json:"online"`
	Status          *int       `json:"status,omitempty"` // regulator connector status (table 8)
	StatusChangedAt *time.Time `json:"statusChangedAt,omitempty"`
	CollectedAt     *time.Time `json:"collectedAt,omitempty"`
	ReportedAt      *time.Time `json:"reportedAt,omitempty"`
	LatencySeconds  *int64     `json:"latencySeconds,omitempty"`
	PowerKW         string     `json:"powerKw"`
	OpenFaults      int        `json:"openFaults"`
}

// Cursor implements report.Row.
func (r TerminalStatus) Cursor() string { return r.ConnectorID }

// Headers implements report.Row.
func (TerminalStatus) Headers() []string {
	return []string{"终端编号", "终端名称", "在线", "状态", "状态变化时间", "数据收集时间", "上报时间", "数据延迟(秒)", "集控器编号",
		"集控器名称", "电站编号", "电站名称", "终端型号", "充电功率(kW)", "未恢复故障"}
}

// Cells implements report.Row.
func (r TerminalStatus) Cells() []any {
	status, latency := any(""), any("")
	if r.Status != nil {
		status = *r.Status
	}
	if r.LatencySeconds != nil {
		latency = *r.LatencySeconds
	}
	return []any{r.ConnectorID, r.ConnectorName, r.Online, status, timeCell(r.StatusChangedAt), timeCell(r.CollectedAt),
		timeCell(r.ReportedAt), latency, r.ChargePointID, r.ChargePointName, r.StationID, r.StationName, r.Model, r.PowerKW,
		r.OpenFaults}
}

// TerminalStatuses walks terminals by connector id.
func TerminalStatuses(ctx context.Context, db *store.DB, f TerminalFilter, p report.Page, fn func(TerminalStatus) error) error {
	return walk(ctx, db, func(rows pgx.Rows) (TerminalStatus, error) {
		var r TerminalStatus
		var power decimal.Decimal
		err := rows.Scan(&r.ConnectorID, &r.ConnectorName, &r.StationID, &r.StationName, &r.ChargePointID, &r.ChargePointName,
			&r.Model, &r.Online, &r.Status, &r.StatusChangedAt, &r.CollectedAt, &r.ReportedAt, &r.LatencySeconds, &power, &r.OpenFaults)
		r.PowerKW = power.StringFixed(1)
		return r, err
	}, fn, `select c.connector_id, c.connector_name, e.station_id, s.station_name, e.equipment_id, e.equipment_name,
		e.equipment_model, cp.online, st.status, st.changed_at,
		(select max(mv.at) from ocpp_meter_values mv where mv.equipment_id = e.equipment_id
			and mv.connector_no = right(c.connector_id, 3)::int),
		cp.last_seen_at, extract(epoch from now() - cp.last_seen_at)::bigint, c.power,
		(select count(*) from charger_faults f where f.equipment_id = e.equipment_id and f.recovered_at is null
			and f.connector_no in (0, right(c.connector_id, 3)::int))::int
		from charging_connectors c
		join charging_equipment e on e.equipment_id = c.equipment_id
		join charging_stations s on s.station_id = e.station_id
		join ocpp_charge_points cp on cp.equipment_id = e.equipment_id
		left join connector_status st on st.connector_id = c.connector_id
		where cp.project_id::text = any($1) and ($2 = '' or e.equipment_id = $2) and ($3 = '' or e.station_id = $3)
		and c.connector_id > $4
		order by c.connector_id limit $5`, f.Projects, f.ChargePointID, f.StationID, p.After, limitArg(p))
}

// RateFilter selects stations and the period of the failure rate.
type RateFilter struct {
	Projects  []string
	Scope     store.StationScope // the caller's station scope (zero: none)
	StationID string             // one station; empty: all
	Period    report.Period
}

// Validate says which field is wrong.
func (f RateFilter) Validate() (string, error) {
	if err := f.Period.Validate(); err != nil {
		return "from", err
	}
	return "", nil
}

// StationFailureRate is one station's failures over a period: the share
// of its chargers' time spent in a fault (episodes clipped to the period;
// overlapping faults of one charger counted once), and how many chargers
// and episodes were involved.
type StationFailureRate struct {
	StationID       string `json:"stationId"`
	StationName     string `json:"stationName"`
	Chargers        int    `json:"chargers"`
	FailedChargers  int    `json:"failedChargers"`
	Faults          int    `json:"faults"`
	FaultSeconds    int64  `json:"faultSeconds"`
	PeriodSeconds   int64  `json:"periodSeconds"`
	FailureRatePct  string `json:"failureRatePct"`  // fault seconds / (chargers × period), in %, 2 places
	AvailabilityPct string `json:"availabilityPct"` // 100 - failure rate
}

// Cursor implements report.Row.
func (r StationFailureRate) Cursor() string { return r.StationID }

// Headers implements report.Row.
func (StationFailureRate) Headers() []string {
	return []string{"电站编号", "电站名称", "充电桩数", "故障桩数", "故障次数", "故障时长(秒)", "统计时长(秒)", "故障率(%)", "可用率(%)"}
}

// Cells implements report.Row.
func (r StationFailureRate) Cells() []any {
	return []any{r.StationID, r.StationName, r.Chargers, r.FailedChargers, r.Faults, r.FaultSeconds, r.PeriodSeconds,
		r.FailureRatePct, r.AvailabilityPct}
}

// StationFailureRates walks stations by id.
func StationFailureRates(ctx context.Context, db *store.DB, f RateFilter, p report.Page, fn func(StationFailureRate) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	period := int64(f.Period.To.Sub(f.Period.From) / time.Second)
	return walk(ctx, db, func(rows pgx.Rows) (StationFailureRate, error) {
		r := StationFailureRate{PeriodSeconds: period}
		err := rows.Scan(&r.StationID, &r.StationName, &r.Chargers, &r.FailedChargers, &r.Faults, &r.FaultSeconds)
		if err != nil {
			return r, err
		}
		rate := decimal.Zero
		if r.Chargers > 0 && period > 0 {
			rate = decimal.NewFromInt(r.FaultSeconds).Mul(decimal.NewFromInt(100)).
				Div(decimal.NewFromInt(int64(r.Chargers) * period))
		}
		r.FailureRatePct = rate.StringFixed(2)
		r.AvailabilityPct = decimal.NewFromInt(100).Sub(rate).StringFixed(2)
		return r, nil
	}, fn, `with eq as (
			select e.equipment_id, e.station_id from charging_equipment e
			join ocpp_charge_points cp on cp.equipment_id = e.equipment_id where cp.project_id::text = any($1)),
		ep as ( -- episodes clipped to the period
			select f.equipment_id, greatest(f.started_at, $2::timestamptz) as s, least(coalesce(f.recovered_at, now()), $3::timestamptz) as e,
				f.started_at >= $2 as started_in
			from charger_faults f join eq using (equipment_id)
			where f.started_at < $3 and coalesce(f.recovered_at, 'infinity') > $2),
		merged as ( -- per charger, the union of its fault intervals
			select equipment_id, sum(upper(r) - lower(r)) as secs from (
				select equipment_id, unnest(range_agg(tstzrange(s, e))) as r from ep where e > s group by equipment_id) u
			group by equipment_id)
		select s.station_id, s.station_name, count(distinct eq.equipment_id)::int,
			count(distinct m.equipment_id)::int,
			(select count(*) from ep join eq e2 using (equipment_id) where e2.station_id = s.station_id and ep.started_in)::int,
			coalesce(extract(epoch from sum(m.secs))::bigint, 0)
		from charging_stations s join eq on eq.station_id = s.station_id
		left join merged m on m.equipment_id = eq.equipment_id
		where s.station_id > $4 and ($6 = '' or s.station_id = $6) and `+f.Scope.SQL("s.project_id", "s.station_id", 7)+`
		group by s.station_id, s.station_name order by s.station_id limit $5`,
		f.Projects, f.Period.From, f.Period.To, p.After, limitArg(p), f.StationID, f.Scope.Args()[0], f.Scope.Args()[1])
}
