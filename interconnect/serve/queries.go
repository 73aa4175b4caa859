package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voltflow/voltflow/interconnect/registry"
)

// Interface names served (table 23 and appendix C).
const (
	QueryToken          = "query_token"
	QueryStationsInfo   = "query_stations_info"
	QueryStationsStatus = "query_stations_status"
	QueryFrequency      = "query_frequency"
	SupplementCollect   = "supplement_collect"
	SupplementStation   = "supplement_stationInfo"
)

// InterfaceStationStatus is the push supplement_stationStatus backfills.
const InterfaceStationStatus = "notification_stationStatus"

// MaxStationIDs is the limit of table 36.
const MaxStationIDs = 50

// MaxPageSize bounds query_stations_info pages (the standard sets none).
const MaxPageSize = 500

// chinaTime is the standard's implicit zone (UTC+8, no DST).
var chinaTime = time.FixedZone("CST", 8*60*60)

// DateTimeLayout is "yyyy-MM-dd HH:mm:ss" (tables 30 and 69).
const DateTimeLayout = "2006-01-02 15:04:05"

func (h *Handler) table() map[string]route {
	return map[string]route{
		QueryToken:          {noToken: true, payload: func() any { return &TokenQuery{} }, handle: h.queryToken},
		QueryStationsInfo:   {payload: func() any { return &StationsInfoQuery{} }, handle: h.queryStationsInfo},
		QueryStationsStatus: {payload: func() any { return &StationsStatusQuery{} }, handle: h.queryStationsStatus},
		QueryFrequency:      {payload: func() any { return &FrequencyQuery{} }, handle: h.queryFrequency},
		SupplementCollect:   {payload: func() any { return &CollectQuery{} }, handle: h.supplementCollect},
		SupplementStation:   {payload: func() any { return &StationQuery{} }, handle: h.supplementStation},
		QueryChargeStats:    {payload: func() any { return &StatsQuery{} }, handle: h.queryChargeStats},
		QueryDischargeStats: {payload: func() any { return &StatsQuery{} }, handle: h.queryDischargeStats},
		QueryBmsInfo:        {payload: func() any { return &BmsQuery{} }, handle: h.queryBmsInfo},
		QueryAlarmInfo:      {payload: func() any { return &AlarmQuery{} }, handle: h.queryAlarmInfo},
		QueryEventInfo:      {payload: func() any { return &EventQuery{} }, handle: h.queryEventInfo},
		QueryDisEquipment:   {payload: func() any { return &DisEquipmentQuery{} }, handle: h.queryDisEquipment},
		QueryVideoInfo:      {payload: func() any { return &VideoQuery{} }, handle: h.queryVideoInfo},
		SupplementBmsIntact: {payload: func() any { return &IntactQuery{} }, handle: h.supplementBmsIntact},
	}
}

// StationsInfoQuery is table 30.
type StationsInfoQuery struct {
	LastQueryTime string `json:"LastQueryTime"`
	PageNo        *int   `json:"PageNo"`
	PageSize      *int   `json:"PageSize"`
}

// StationsInfoAnswer is table 31.
type StationsInfoAnswer struct {
	PageNo       int                    `json:"PageNo"`
	PageCount    int                    `json:"PageCount"`
	ItemSize     int                    `json:"ItemSize"`
	StationInfos []registry.StationInfo `json:"StationInfos"`
}

func (h *Handler) queryStationsInfo(ctx context.Context, _ *call, p any) (any, error) {
	q := p.(*StationsInfoQuery)
	pageNo, pageSize := 1, 10
	if q.PageNo != nil {
		pageNo = *q.PageNo
	}
	if q.PageSize != nil {
		pageSize = *q.PageSize
	}
	if pageNo < 1 {
		return nil, business("PageNo must be at least 1")
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		return nil, business(fmt.Sprintf("PageSize must be 1..%d", MaxPageSize))
	}
	var since time.Time
	if q.LastQueryTime != "" {
		t, err := time.ParseInLocation(DateTimeLayout, q.LastQueryTime, chinaTime)
		if err != nil {
			return nil, business("LastQueryTime must be yyyy-MM-dd HH:mm:ss")
		}
		since = t
	}
	page, err := registry.StationsPage(ctx, h.cfg.DB, since, pageNo, pageSize)
	if err != nil {
		return nil, err
	}
	return StationsInfoAnswer{PageNo: page.PageNo, PageCount: page.PageCount, ItemSize: page.ItemSize,
		StationInfos: page.Stations}, nil
}

// StationsStatusQuery is table 36.
type StationsStatusQuery struct {
	StationIDs []string `json:"StationIDs"`
}

// StationsStatusAnswer is table 37.
type StationsStatusAnswer struct {
	StationStatusInfos []registry.StationStatusInfo `json:"StationStatusInfos"`
}

func (h *Handler) queryStationsStatus(ctx context.Context, _ *call, p any) (any, error) {
	q := p.(*StationsStatusQuery)
	if len(q.StationIDs) == 0 {
		return nil, business("StationIDs is required")
	}
	if len(q.StationIDs) > MaxStationIDs {
		return nil, business(fmt.Sprintf("StationIDs holds at most %d ids", MaxStationIDs))
	}
	infos, err := registry.StationStatus(ctx, h.cfg.DB, q.StationIDs)
	if errors.Is(err, registry.ErrUnknown) {
		return nil, business("unknown StationID")
	}
	if err != nil {
		return nil, err
	}
	return StationsStatusAnswer{StationStatusInfos: infos}, nil
}

// FrequencyQuery is table 63.
type FrequencyQuery struct {
	ParaFrequency *int `json:"ParaFrequency"`
}

// StatusAnswer is tables 28, 34 and 64: 0 accepted, 1 dropped.
type StatusAnswer struct {
	Status int `json:"Status"`
}

// Push cadence bounds (table 63).
const (
	MinFrequency = 5
	MaxFrequency = 60
)

func (h *Handler) queryFrequency(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*FrequencyQuery)
	if q.ParaFrequency == nil {
		return nil, business("ParaFrequency is required")
	}
	f := *q.ParaFrequency
	if f < MinFrequency || f > MaxFrequency {
		return nil, business(fmt.Sprintf("ParaFrequency must be %d..%d seconds", MinFrequency, MaxFrequency))
	}
	if _, err := h.cfg.DB.Exec(ctx, `insert into regulator_settings (operator_id, push_frequency_s, updated_at)
		values ($1,$2,$3) on conflict (operator_id) do update set push_frequency_s=excluded.push_frequency_s,
		updated_at=excluded.updated_at`, c.operatorID, f, h.cfg.Clock.Now()); err != nil {
		return nil, fmt.Errorf("store frequency: %w", err)
	}
	if h.cfg.OnFrequency != nil {
		h.cfg.OnFrequency(ctx, c.operatorID, f)
	}
	return StatusAnswer{Status: 0}, nil
}

// MissingTimes accepts MissingTime as the standard prints it — one string
// "{t1, t2}" — or as a JSON array of strings.
type MissingTimes []string

// UnmarshalJSON accepts both forms.
func (m *MissingTimes) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*m = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.Trim(strings.TrimSpace(s), "{}[]")
	*m = nil
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*m = append(*m, part)
		}
	}
	return nil
}

// parseMissing reads one time, with or without the space the standard's
// "yyyy-MM-ddHH:mm:ss" sometimes omits.
func parseMissing(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(DateTimeLayout, s, chinaTime); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-0215:04:05", s, chinaTime)
}

// CollectQuery is table 69.
type CollectQuery struct {
	OperatorID    string       `json:"OperatorID"`
	StationID     string       `json:"StationID"`
	ConnectorID   string       `json:"ConnectorID"`
	EquipmentID   string       `json:"EquipmentID"`
	MissingTime   MissingTimes `json:"MissingTime"`
	InterfaceName string       `json:"InterfaceName"`
}

// CollectAnswer is table 70. The standard names the data list only by its
// type, "Object[]"; we send it as Object.
type CollectAnswer struct {
	OperatorID    string            `json:"OperatorID"`
	StationID     string            `json:"StationID,omitempty"`
	ConnectorID   string            `json:"ConnectorID,omitempty"`
	EquipmentID   string            `json:"EquipmentID,omitempty"`
	MissingTime   []string          `json:"MissingTime"`
	InterfaceName string            `json:"InterfaceName"`
	Object        []json.RawMessage `json:"Object"`
}

// Supplement interface names (table 69).
const (
	SupplementStationStatus = "supplement_stationStatus"
	SupplementBMSInfo       = "supplement_bmsInfo"
	SupplementAlarmInfo     = "supplement_alarmInfo"
	SupplementEventInfo     = "supplement_eventInfo"
)

// maxMissing bounds one backfill request.
const maxMissing = 1000

func (h *Handler) supplementCollect(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*CollectQuery)
	if q.OperatorID == "" || q.InterfaceName == "" || len(q.MissingTime) == 0 {
		return nil, business("OperatorID, MissingTime and InterfaceName are required")
	}
	if q.OperatorID != c.operatorID {
		return nil, business("OperatorID does not match the envelope")
	}
	if len(q.MissingTime) > maxMissing {
		return nil, business(fmt.Sprintf("at most %d MissingTime values", maxMissing))
	}
	times := make([]time.Time, len(q.MissingTime))
	for i, s := range q.MissingTime {
		t, err := parseMissing(s)
		if err != nil {
			return nil, business("MissingTime must be yyyy-MM-dd HH:mm:ss")
		}
		times[i] = t
	}
	ans := CollectAnswer{OperatorID: q.OperatorID, StationID: q.StationID, ConnectorID: q.ConnectorID,
		EquipmentID: q.EquipmentID, MissingTime: q.MissingTime, InterfaceName: q.InterfaceName, Object: []json.RawMessage{}}
	switch q.InterfaceName {
	case SupplementStationStatus:
		if q.StationID == "" || q.ConnectorID == "" {
			return nil, business("StationID and ConnectorID are required for supplement_stationStatus")
		}
		var ok bool
		if err := h.cfg.DB.QueryRow(ctx, `select exists(select 1 from charging_connectors c join charging_equipment e
			using (equipment_id) where c.connector_id=$1 and e.station_id=$2)`, q.ConnectorID, q.StationID).Scan(&ok); err != nil {
			return nil, err
		}
		if !ok {
			return nil, business("unknown StationID/ConnectorID")
		}
		// One object per time, in the order asked: what was reported (or
		// owed) for the connector at that second — the latest push due by its end.
		for _, t := range times {
			var raw []byte
			err := h.cfg.DB.QueryRow(ctx, `select payload->'ConnectorStatusInfo' from regulator_pushes
				where interface=$1 and connector_id=$2 and due_at < $3
				order by due_at desc, id desc limit 1`, InterfaceStationStatus, q.ConnectorID, t.Add(time.Second)).Scan(&raw)
			if err != nil {
				return nil, business("no status reported for the connector by " + t.Format(DateTimeLayout))
			}
			ans.Object = append(ans.Object, raw)
		}
	case SupplementBMSInfo, SupplementAlarmInfo, SupplementEventInfo:
		objs, err := h.supplementHistory(ctx, q, times)
		if err != nil {
			return nil, err
		}
		ans.Object = objs
	default:
		return nil, business("unknown InterfaceName")
	}
	return ans, nil
}

// StationQuery is table 72.
type StationQuery struct {
	OperatorID string `json:"OperatorID"`
	StationID  string `json:"StationID"`
}

// StationAnswer is table 73.
type StationAnswer struct {
	StationInfo registry.StationInfo `json:"StationInfo"`
}

func (h *Handler) supplementStation(ctx context.Context, c *call, p any) (any, error) {
	q := p.(*StationQuery)
	if q.OperatorID == "" || q.StationID == "" {
		return nil, business("OperatorID and StationID are required")
	}
	st, err := registry.Stations(ctx, h.cfg.DB, []string{q.StationID})
	if errors.Is(err, registry.ErrUnknown) {
		return nil, business("unknown StationID")
	}
	if err != nil {
		return nil, err
	}
	return StationAnswer{StationInfo: st[0]}, nil
}
