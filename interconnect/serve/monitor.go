package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
)

// The remaining queries of §9 (tables 38–79).
const (
	QueryChargeStats       = "query_station_charge_stats"
	QueryDischargeStats    = "query_station_discharge_stats"
	QueryBmsInfo           = "query_bms_info"
	QueryAlarmInfo         = "query_alarm_info"
	QueryEventInfo         = "query_event_info"
	QueryDisEquipment      = "query_disequipmentstatus_info"
	QueryVideoInfo         = "query_video_info"
	SupplementBmsIntact    = "supplement_query_bms_intact"
	maxStatsDays           = 366
	maxListed              = 1000
	alarmQueryWindow       = 24 * time.Hour
	defaultReportFrequency = 60
)

// StatsQuery is tables 39 and 42.
type StatsQuery struct {
	StationID string `json:"StationID"`
	StartTime string `json:"StartTime"` // yyyy-MM-dd
	EndTime   string `json:"EndTime"`
}

// ChargeStatsAnswer is table 40.
type ChargeStatsAnswer struct {
	StationStats registry.StationChargeStatsInfo `json:"StationStats"`
}

// DischargeStatsAnswer is table 43.
type DischargeStatsAnswer struct {
	StationStats registry.StationDischargeStatsInfo `json:"StationStats"`
}

// dateRange reads StartTime/EndTime (yyyy-MM-dd, China time); both empty
// mean today, as tables 11 and 12 default.
func (h *Handler) dateRange(start, end string) (time.Time, time.Time, error) {
	if start == "" && end == "" {
		d := h.cfg.Clock.Now().In(chinaTime)
		day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, chinaTime)
		return day, day, nil
	}
	from, err1 := time.ParseInLocation(registry.DateLayout, start, chinaTime)
	to, err2 := time.ParseInLocation(registry.DateLayout, end, chinaTime)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, business("StartTime and EndTime must be yyyy-MM-dd")
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, business("EndTime is before StartTime")
	}
	if to.Sub(from) > maxStatsDays*24*time.Hour {
		return time.Time{}, time.Time{}, business(fmt.Sprintf("at most %d days per query", maxStatsDays))
	}
	return from, to, nil
}

// stationArg checks a required station id of at most 20 characters.
func stationArg(id string) error {
	if id == "" {
		return business("StationID is required")
	}
	if len(id) > 20 {
		return business("StationID is at most 20 characters")
	}
	return nil
}

// operatorArg checks an OperatorID the table requires (or allows) against
// the envelope's.
func operatorArg(c *call, id string, required bool) error {
	if id == "" && !required {
		return nil
	}
	if id != c.operatorID {
		return business("OperatorID is missing or does not match the envelope")
	}
	return nil
}

// stationCaller checks the arguments tables 51, 57, 66 and 78 share: the
// station id, and the OperatorID, which may be left out but otherwise must
// match the envelope's.
func stationCaller(c *call, stationID, operatorID string) error {
	if err := stationArg(stationID); err != nil {
		return err
	}
	return operatorArg(c, operatorID, false)
}

// ofStation checks an optional id the query narrows to (an EquipmentID, a
// DisequipmentID) against the station's own with lookup; what names it in
// the 4004 answer.
func (h *Handler) ofStation(ctx context.Context, stationID, id, what string,
	lookup func(context.Context, registry.Querier, string, string) (bool, error)) error {
	if id == "" {
		return nil
	}
	ok, err := lookup(ctx, h.cfg.DB, stationID, id)
	if err != nil {
		return err
	}
	if !ok {
		return business("unknown " + what + " of the station")
	}
	return nil
}

// unknown maps registry.ErrUnknown to 4004.
func unknown(err error, what string) error {
	if errors.Is(err, registry.ErrUnknown) {
		return business("unknown " + what)
	}
	return err
}

// stationStats reads the station's statistics over the query's days with
// stats (registry.ChargeStats or DischargeStats): tables 39 and 42 differ
// only in what is summed.
func stationStats[T any](ctx context.Context, h *Handler, q *StatsQuery,
	stats func(context.Context, *store.DB, string, time.Time, time.Time) (T, error)) (T, error) {
	var none T
	if err := stationArg(q.StationID); err != nil {
		return none, err
	}
	from, to, err := h.dateRange(q.StartTime, q.EndTime)
	if err != nil {
		return none, err
	}
	st, err := stats(ctx, h.cfg.DB, q.StationID, from, to)
	if err != nil {
		return none, unknown(err, "StationID")
	}
	return st, nil
}

func (h *Handler) queryChargeStats(ctx context.Context, _ *call, p any) (any, error) {
	st, err := stationStats(ctx, h, p.(*StatsQuery), registry.ChargeStats)
	if err != nil {
		return nil, err
	}
	return ChargeStatsAnswer{StationStats: st}, nil
}

func (h *Handler) queryDischargeStats(ctx context.Context, _ *call, p any) (any, error) {
	st, err := stationStats(ctx, h, p.(*StatsQuery), registry.DischargeStats)
	if err != nil {
		return nil, err
	}
	return DischargeStatsAnswer{StationStats: st}, nil
}

// BmsQuery is table 48.
type BmsQuery struct {
	ConnectorID string `json:"ConnectorID"`
}

func (h *Handler) queryBmsInfo(ctx context.Context, _ *call, p any) (any, error) {
	q := p.(*BmsQuery)
	if q.ConnectorID == "" || len(q.ConnectorID) > 26 {
		return nil, business("ConnectorID is required, at most 26 characters")
	}
	ans, err := registry.LatestBms(ctx, h.cfg.DB, q.ConnectorID)
	if err != nil {
		return nil, unknown(err, "ConnectorID")
	}
	return ans, nil // table 49 is exactly ConnectorBms
}

// AlarmQuery is table 51.
type AlarmQuery struct {
	StationID   string `json:"StationID"`
	OperatorID  string `json:"OperatorID"`
	EquipmentID string `json:"EquipmentID"`
}

// AlarmAnswer is table 52.
type AlarmAnswer struct {
	AlarmInfos []registry.AlarmInfo `json:"AlarmInfos"`
}

// queryAlarmInfo answers the station's alarms raised or cleared in the
// last 24 hours, in time order (the standard fixes no window; a regulator
// reconciling after an outage needs recent history, not only open alarms).
func (h *Handler) queryAlarmInfo(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*AlarmQuery)
	if err := stationCaller(c, q.StationID, q.OperatorID); err != nil {
		return nil, err
	}
	if _, err := registry.Head(ctx, h.cfg.DB, q.StationID); err != nil {
		return nil, unknown(err, "StationID")
	}
	if err := h.ofStation(ctx, q.StationID, q.EquipmentID, "EquipmentID", registry.EquipmentOf); err != nil {
		return nil, err
	}
	alarms, err := registry.Alarms(ctx, h.cfg.DB, q.StationID, q.EquipmentID, h.cfg.Clock.Now().Add(-alarmQueryWindow), maxListed)
	if err != nil {
		return nil, err
	}
	return AlarmAnswer{AlarmInfos: alarms}, nil
}

// EventQuery is table 57.
type EventQuery struct {
	StationID  string `json:"StationID"`
	OperatorID string `json:"OperatorID"`
	StartTime  string `json:"StartTime"`
	EndTime    string `json:"EndTime"`
}

// EventAnswer is table 58.
type EventAnswer struct {
	EventInfos []registry.EventInfo `json:"EventInfos"`
}

func (h *Handler) queryEventInfo(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*EventQuery)
	if err := stationCaller(c, q.StationID, q.OperatorID); err != nil {
		return nil, err
	}
	from, to, err := h.dateRange(q.StartTime, q.EndTime)
	if err != nil {
		return nil, err
	}
	if _, err := registry.Head(ctx, h.cfg.DB, q.StationID); err != nil {
		return nil, unknown(err, "StationID")
	}
	events, err := registry.Events(ctx, h.cfg.DB, q.StationID, from, to.AddDate(0, 0, 1), maxListed)
	if err != nil {
		return nil, err
	}
	return EventAnswer{EventInfos: events}, nil
}

// DisEquipmentQuery is table 66.
type DisEquipmentQuery struct {
	StationID      string `json:"StationID"`
	OperatorID     string `json:"OperatorID"`
	DisequipmentID string `json:"DisequipmentID"`
}

// DisEquipmentAnswer is table 67.
type DisEquipmentAnswer struct {
	DisEquipmentStatusInfos []registry.DisEquipmentStatusInfo `json:"DisEquipmentStatusInfos"`
}

func (h *Handler) queryDisEquipment(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*DisEquipmentQuery)
	if err := stationCaller(c, q.StationID, q.OperatorID); err != nil {
		return nil, err
	}
	if err := h.ofStation(ctx, q.StationID, q.DisequipmentID, "DisequipmentID", registry.DisEquipmentOf); err != nil {
		return nil, err
	}
	infos, err := registry.DisEquipmentStatus(ctx, h.cfg.DB, q.StationID, q.DisequipmentID)
	if err != nil {
		return nil, unknown(err, "StationID")
	}
	return DisEquipmentAnswer{DisEquipmentStatusInfos: infos}, nil
}

// VideoQuery is table 78.
type VideoQuery struct {
	StationID  string `json:"StationID"`
	OperatorID string `json:"OperatorID"`
}

// VideoAnswer is table 79.
type VideoAnswer struct {
	VideoInfos []registry.VideoInfo `json:"VideoInfos"`
}

func (h *Handler) queryVideoInfo(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*VideoQuery)
	if err := stationCaller(c, q.StationID, q.OperatorID); err != nil {
		return nil, err
	}
	v, err := registry.Videos(ctx, h.cfg.DB, q.StationID)
	if err != nil {
		return nil, unknown(err, "StationID")
	}
	return VideoAnswer{VideoInfos: v}, nil
}

// IntactQuery is table 75.
type IntactQuery struct {
	OperatorID  string       `json:"OperatorID"`
	StationID   string       `json:"StationID"`
	ConnectorID string       `json:"ConnectorID"`
	EquipmentID string       `json:"EquipmentID"`
	MissingTime MissingTimes `json:"MissingTime"`
}

// IntactAnswer is table 76 (its field names and string types are the
// standard's).
type IntactAnswer struct {
	ChargeStartTime string `json:"chargeStartTime"`
	ChargeEndTime   string `json:"chargeEndTime"`
	BmsRecordNum    string `json:"bmsRecordNum"`
	ReportFrequency string `json:"ReportFrequency"`
}

func (h *Handler) supplementBmsIntact(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*IntactQuery)
	if q.OperatorID == "" || q.StationID == "" || q.ConnectorID == "" || q.EquipmentID == "" || len(q.MissingTime) != 1 {
		return nil, business("OperatorID, StationID, ConnectorID, EquipmentID and one MissingTime are required")
	}
	if err := operatorArg(c, q.OperatorID, true); err != nil {
		return nil, err
	}
	start, err := parseMissing(q.MissingTime[0])
	if err != nil {
		return nil, business("MissingTime must be yyyy-MM-dd HH:mm:ss")
	}
	station, equipment, err := registry.ConnectorPlace(ctx, h.cfg.DB, q.ConnectorID)
	if err != nil {
		return nil, unknown(err, "ConnectorID")
	}
	if station != q.StationID || equipment != q.EquipmentID {
		return nil, business("ConnectorID does not belong to StationID/EquipmentID")
	}
	samples, at, err := registry.BmsSession(ctx, h.cfg.DB, q.ConnectorID, start)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, business("no charging session of the connector started at MissingTime")
	}
	freq := defaultReportFrequency
	if err := h.cfg.DB.QueryRow(ctx, `select coalesce((select push_frequency_s from regulator_settings where operator_id=$1), $2)`,
		c.operatorID, defaultReportFrequency).Scan(&freq); err != nil {
		return nil, err
	}
	return IntactAnswer{ChargeStartTime: start.In(chinaTime).Format(DateTimeLayout),
		ChargeEndTime: at[len(at)-1].In(chinaTime).Format(DateTimeLayout),
		BmsRecordNum:  fmt.Sprint(len(samples)), ReportFrequency: fmt.Sprint(freq)}, nil
}

// supplementHistory answers supplement_alarmInfo, supplement_eventInfo and
// supplement_bmsInfo from the recorded history, in the order of times.
// Alarms and events: what was reported in that second (several reported
// in the same second all come, in order). BMS: the time is a session's
// start, and every sample of that session comes, in time order.
func (h *Handler) supplementHistory(ctx context.Context, q *CollectQuery, times []time.Time) ([]json.RawMessage, error) {
	if q.StationID != "" {
		if _, err := registry.Head(ctx, h.cfg.DB, q.StationID); err != nil {
			return nil, unknown(err, "StationID")
		}
	}
	if q.ConnectorID != "" {
		station, _, err := registry.ConnectorPlace(ctx, h.cfg.DB, q.ConnectorID)
		if err != nil {
			return nil, unknown(err, "ConnectorID")
		}
		if q.StationID != "" && station != q.StationID {
			return nil, business("ConnectorID does not belong to StationID")
		}
	}
	out := []json.RawMessage{}
	for _, t := range times {
		var objs []json.RawMessage
		var err error
		switch q.InterfaceName {
		case SupplementBMSInfo:
			if q.ConnectorID == "" {
				return nil, business("ConnectorID is required for supplement_bmsInfo")
			}
			objs, _, err = registry.BmsSession(ctx, h.cfg.DB, q.ConnectorID, t)
		case SupplementAlarmInfo:
			objs, err = rawRows(h.cfg.DB.Query(ctx, `select info from regulator_alarms
				where alarm_time >= $1 and alarm_time < $2 and ($3 = '' or station_id = $3)
				and ($4 = '' or connector_id = $4) and ($5 = '' or equipment_id = $5) order by alarm_time, id`,
				t, t.Add(time.Second), q.StationID, q.ConnectorID, q.EquipmentID))
		case SupplementEventInfo:
			objs, err = rawRows(h.cfg.DB.Query(ctx, `select info from regulator_events
				where event_time >= $1 and event_time < $2 and ($3 = '' or station_id = $3) order by event_time, id`,
				t, t.Add(time.Second), q.StationID))
		}
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			return nil, business("nothing was reported at " + t.In(chinaTime).Format(DateTimeLayout))
		}
		out = append(out, objs...)
	}
	return out, nil
}

func rawRows(rows pgx.Rows, err error) ([]json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (json.RawMessage, error) {
		var raw []byte
		err := r.Scan(&raw)
		return raw, err
	})
}
