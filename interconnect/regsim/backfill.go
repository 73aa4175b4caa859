package regsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/regclient"
)

// Backfill interfaces and push names the simulator reconciles.
const (
	pushStatus = "notification_stationStatus"
	pushAlarm  = "notification_alarmInfo"
	layout     = "2006-01-02 15:04:05"
	maxPerCall = 1000 // MissingTime values per supplement_collect
)

var cst = time.FixedZone("CST", 8*60*60)

// BackfillResult counts what a backfill recovered.
type BackfillResult struct {
	Statuses int `json:"statuses"` // status objects not held before
	Alarms   int `json:"alarms"`
	Calls    int `json:"calls"`
}

// platform is the simulator's client of the operator platform's served
// interfaces (the regulator calls us with the same credentials).
func (s *Sim) platform() *regclient.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil && s.cfg.PlatformURL != "" {
		sec := s.cfg.Secrets
		s.client = &regclient.Client{BaseURL: s.cfg.PlatformURL,
			Secrets: func(context.Context) (envelope.Secrets, error) { return sec, nil }}
	}
	return s.client
}

// Backfill reconciles what the simulator holds with the platform for the
// window [from, to] in which it was down or lost data, as a regulator does
// after an outage (§9.16): for every station it learns through
// query_stations_info, it asks query_alarm_info and backfills alarms it
// lacks by their times (supplement_alarmInfo); for every connector it has
// heard of, it asks supplement_stationStatus for each second of the window
// and keeps the statuses it lacks. A status that changed twice within one
// second shows only its last value: the standard's MissingTime has
// one-second resolution.
func (s *Sim) Backfill(ctx context.Context, from, to time.Time) (BackfillResult, error) {
	var res BackfillResult
	c := s.platform()
	if c == nil {
		return res, errors.New("regsim: no PlatformURL to backfill from")
	}
	stations, err := s.stations(ctx, c, &res)
	if err != nil {
		return res, err
	}
	for _, st := range stations {
		n, err := s.backfillAlarms(ctx, c, st.StationID, &res)
		if err != nil {
			return res, err
		}
		res.Alarms += n
		for _, conn := range st.connectors {
			n, err := s.backfillStatus(ctx, c, st.StationID, conn, from, to, &res)
			if err != nil {
				return res, err
			}
			res.Statuses += n
		}
	}
	s.log.Info("regulator simulator backfilled", "from", from, "to", to, "statuses", res.Statuses, "alarms", res.Alarms, "calls", res.Calls)
	return res, nil
}

type station struct {
	StationID  string
	connectors []string
}

// stations pages through query_stations_info.
func (s *Sim) stations(ctx context.Context, c *regclient.Client, res *BackfillResult) ([]station, error) {
	var out []station
	for page := 1; ; page++ {
		var ans struct {
			PageCount    int
			StationInfos []struct {
				StationID      string
				EquipmentInfos []struct {
					ConnectorInfos []struct{ ConnectorID string }
				}
			}
		}
		res.Calls++
		if err := c.Call(ctx, "query_stations_info", map[string]int{"PageNo": page, "PageSize": 50}, &ans); err != nil {
			return nil, fmt.Errorf("regsim: query_stations_info: %w", err)
		}
		for _, si := range ans.StationInfos {
			st := station{StationID: si.StationID}
			for _, e := range si.EquipmentInfos {
				for _, ci := range e.ConnectorInfos {
					st.connectors = append(st.connectors, ci.ConnectorID)
				}
			}
			out = append(out, st)
		}
		if page >= ans.PageCount {
			return out, nil
		}
	}
}

// alarmKey identifies an alarm report.
func alarmKey(a map[string]any) string {
	return fmt.Sprint(a["ConnectorID"], "|", a["EquipmentID"], "|", a["AlarmCode"], "|", a["AlarmStatus"], "|", a["AlarmTime"])
}

// heldAlarms lists the keys of the alarms the simulator holds.
func (s *Sim) heldAlarms() map[string]bool {
	held := map[string]bool{}
	for _, r := range s.Received(pushAlarm) {
		var p struct{ AlarmInfos []map[string]any }
		if json.Unmarshal(r.Data, &p) == nil {
			for _, a := range p.AlarmInfos {
				held[alarmKey(a)] = true
			}
		}
	}
	return held
}

func (s *Sim) backfillAlarms(ctx context.Context, c *regclient.Client, stationID string, res *BackfillResult) (int, error) {
	var ans struct{ AlarmInfos []map[string]any }
	res.Calls++
	if err := c.Call(ctx, "query_alarm_info", map[string]string{"StationID": stationID, "OperatorID": s.cfg.Secrets.OperatorID}, &ans); err != nil {
		return 0, fmt.Errorf("regsim: query_alarm_info: %w", err)
	}
	held := s.heldAlarms()
	var times []string
	for _, a := range ans.AlarmInfos {
		if t, _ := a["AlarmTime"].(string); !held[alarmKey(a)] && t != "" && !slices.Contains(times, t) {
			times = append(times, t)
		}
	}
	if len(times) == 0 {
		return 0, nil
	}
	n := 0
	for chunk := range slices.Chunk(times, maxPerCall) {
		var got struct{ Object []json.RawMessage }
		res.Calls++
		if err := c.Call(ctx, "supplement_collect", map[string]any{"OperatorID": s.cfg.Secrets.OperatorID, "StationID": stationID,
			"MissingTime": chunk, "InterfaceName": "supplement_alarmInfo"}, &got); err != nil {
			return n, fmt.Errorf("regsim: supplement_alarmInfo: %w", err)
		}
		for _, o := range got.Object {
			var a map[string]any
			if json.Unmarshal(o, &a) != nil || held[alarmKey(a)] {
				continue
			}
			held[alarmKey(a)] = true
			data, _ := json.Marshal(map[string]any{"AlarmInfos": []json.RawMessage{o}})
			s.record(Received{Interface: pushAlarm, At: time.Now(), Data: data, Backfilled: true})
			n++
		}
	}
	return n, nil
}

// backfillStatus asks the connector's status at each second of [from, to]
// (from its first report on, as nothing earlier can be answered) and keeps
// every value it does not hold yet.
func (s *Sim) backfillStatus(ctx context.Context, c *regclient.Client, stationID, conn string, from, to time.Time, res *BackfillResult) (int, error) {
	held := map[string]bool{}
	var first time.Time
	for _, r := range s.Received(pushStatus) {
		var p struct{ ConnectorStatusInfo json.RawMessage }
		if json.Unmarshal(r.Data, &p) != nil {
			continue
		}
		var id struct{ ConnectorID string }
		if json.Unmarshal(p.ConnectorStatusInfo, &id) != nil || id.ConnectorID != conn {
			continue
		}
		held[canonical(p.ConnectorStatusInfo)] = true
		if t, err := time.ParseInLocation("20060102150405", r.TimeStamp, cst); err == nil && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return 0, nil // never reported: nothing the platform could answer
	}
	start := from.Truncate(time.Second)
	if first.After(start) {
		start = first
	}
	var times []string
	for t := start; !t.After(to); t = t.Add(time.Second) {
		times = append(times, t.In(cst).Format(layout))
	}
	n := 0
	for chunk := range slices.Chunk(times, maxPerCall) {
		var got struct{ Object []json.RawMessage }
		res.Calls++
		if err := c.Call(ctx, "supplement_collect", map[string]any{"OperatorID": s.cfg.Secrets.OperatorID, "StationID": stationID,
			"ConnectorID": conn, "MissingTime": chunk, "InterfaceName": "supplement_stationStatus"}, &got); err != nil {
			if errors.Is(err, regclient.ErrRejected) {
				continue // a second before the first report the platform holds
			}
			return n, fmt.Errorf("regsim: supplement_stationStatus: %w", err)
		}
		for _, o := range got.Object {
			k := canonical(o)
			if held[k] {
				continue
			}
			held[k] = true
			data, _ := json.Marshal(map[string]json.RawMessage{"ConnectorStatusInfo": o})
			s.record(Received{Interface: pushStatus, At: time.Now(), Data: data, Backfilled: true})
			n++
		}
	}
	return n, nil
}

// canonical re-encodes a JSON object with sorted keys, so equal objects
// compare equal whatever their field order.
func canonical(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
