package serve_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/serve"
)

// monitorData fills the demo station with energy, alarms, an event, a
// charging session's BMS samples, distribution equipment and a video link.
type monitorData struct {
	conn, equipment string
	alarmAt         []time.Time
	eventAt         time.Time
	sessionStart    time.Time
}

func seedMonitor(t *testing.T, f *fixture) monitorData {
	t.Helper()
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	d := monitorData{conn: "4403000000000000000001003", equipment: registry.DemoEquipmentIDs[0]}
	day := time.Date(2026, 11, 20, 12, 0, 0, 0, cst)
	for i, e := range []struct {
		conn              string
		day               int
		charge, discharge float64
	}{
		{d.conn, 0, 10.04, 1}, {d.conn, 1, 5.03, 0.5}, {"4403000000000000000001004", 1, 2.5, 0},
		{"4403000000000000000002001", 2, 7.25, 0}, {d.conn, 5, 100, 100}, // day 5 is outside the asked range
	} {
		if err := registry.AddEnergy(ctx, f.db, e.conn, day.AddDate(0, 0, e.day), e.charge, e.discharge); err != nil {
			t.Fatalf("energy %d: %v", i, err)
		}
	}
	now := time.Now().Truncate(time.Second)
	for i, code := range []int{4, 101, 17} {
		at := now.Add(time.Duration(i-3) * time.Minute)
		if _, err := push.RecordAlarm(ctx, f.db, push.DefaultRegulator, registry.AlarmInfo{ConnectorID: d.conn,
			AlarmStatus: registry.AlarmRaised, AlarmCode: code, NoteString: "test"}, at); err != nil {
			t.Fatal(err)
		}
		d.alarmAt = append(d.alarmAt, at)
	}
	d.eventAt = time.Date(2026, 11, 21, 9, 30, 0, 0, cst)
	if _, err := push.RecordEvent(ctx, f.db, push.DefaultRegulator, registry.EventInfo{StationID: registry.DemoStationID,
		EventCode: 3001}, d.eventAt); err != nil {
		t.Fatal(err)
	}
	if _, err := push.RecordStatusChange(ctx, f.db, push.DefaultRegulator, registry.ConnectorStatusInfo{
		ConnectorID: d.conn, Status: registry.StatusCharging}, now); err != nil {
		t.Fatal(err)
	}
	d.sessionStart = now.Add(-10 * time.Minute)
	for i := range 3 {
		if _, err := push.RecordBMS(ctx, f.db, push.DefaultRegulator, d.conn, registry.BmsInfo{VINCode: "LSVAU2180N2183294",
			BMSCode: "BMS-1", BMSVer: "1.0", Soc: 50 + i, TatalVoltage: 400.5, CurrentCapacity: 1.2345,
			StartChargingTime: registry.FormatTime(d.sessionStart)}, d.sessionStart.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := registry.SetDisEquipment(ctx, f.db, registry.DemoStationID, registry.DisEquipmentInfo{DisequipmentID: "D1",
		ManufacturerID: "123456789", EquipmentModel: "TX-1", RatedInVoltage: 10, RatedOutVoltage: 400, RatedPower: 1250, FeedNum: 4}); err != nil {
		t.Fatal(err)
	}
	if err := registry.SetDisEquipmentStatus(ctx, f.db, registry.DisEquipmentStatusInfo{DisequipmentID: "D1", FoPEnergy: 1234.5,
		AVoltage: 230.1, Factor: 0.98, Frequency: 50, FeedState: "1101", SmokAlam1: 0}, now); err != nil {
		t.Fatal(err)
	}
	if err := registry.AddVideo(ctx, f.db, registry.DemoStationID, "rtsp://video.example/ch1", 1, "viewer", "s3cret"); err != nil {
		t.Fatal(err)
	}
	return d
}

// fieldNames lists the JSON object's field names.
func fieldNames(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestMonitorQueries: each remaining §9 query answers a signed request with
// signed, encrypted Data whose field names and values follow the tables,
// and a bad business parameter with 4004.
func TestMonitorQueries(t *testing.T) {
	f := newFixture(t)
	d := seedMonitor(t, f)
	token := f.token(t)
	op := "123456789"
	stationFields := sorted("StationID", "StartTime", "EndTime", "StationChargeElectricity", "EquipmentChargeStatsInfos")
	tests := []struct {
		name    string
		iface   string
		payload any
		check   func(t *testing.T, data json.RawMessage)
	}{
		{"charge stats", serve.QueryChargeStats, map[string]any{"StationID": registry.DemoStationID, "StartTime": "2026-11-20", "EndTime": "2026-11-22"},
			func(t *testing.T, data json.RawMessage) {
				var a struct{ StationStats json.RawMessage }
				_ = json.Unmarshal(data, &a)
				if got := fieldNames(t, a.StationStats); !slices.Equal(got, stationFields) {
					t.Fatalf("fields %v, want %v", got, stationFields)
				}
				// 10.04+5.03+2.5+7.25 = 24.82 → 24.8; equipment 1: 17.57 → 17.6.
				for _, want := range []string{`"StationChargeElectricity":24.8`, `"EquipmentChargeElectricity":17.6`,
					`"ConnectorChargeElectricity":15.1`, `"StartTime":"2026-11-20"`, `"EndTime":"2026-11-22"`,
					`"EquipmentChargeElectricity":7.3`} {
					if !strings.Contains(string(data), want) {
						t.Errorf("answer lacks %s: %s", want, data)
					}
				}
			}},
		{"discharge stats", serve.QueryDischargeStats, map[string]any{"StationID": registry.DemoStationID, "StartTime": "2026-11-20", "EndTime": "2026-11-22"},
			func(t *testing.T, data json.RawMessage) {
				for _, want := range []string{`"StationDischargeElectricity":1.5`, `"EquipmentDischargeStatsInfos":[`,
					`"ConnectorDischargeStatsInfos":[`, `"ConnectorDischargeElectricity":1.5`} {
					if !strings.Contains(string(data), want) {
						t.Errorf("answer lacks %s: %s", want, data)
					}
				}
			}},
		{"bms", serve.QueryBmsInfo, map[string]any{"ConnectorID": d.conn}, func(t *testing.T, data json.RawMessage) {
			if got := fieldNames(t, data); !slices.Equal(got, sorted("ConnectorID", "Status", "BmsInfo")) {
				t.Fatalf("fields %v", got)
			}
			var a struct{ BmsInfo json.RawMessage }
			_ = json.Unmarshal(data, &a)
			want := sorted("VINCode", "BMSCode", "BMSVer", "ConnectorID", "MaxChargeCurrent", "MaxChargeCellVoltage", "MaxTemp",
				"RatedCapacity", "TatalVoltage", "TotalCurrent", "Soc", "VoltageH", "VoltageHNumIndex", "TemptureH",
				"TemptureHNumIndex", "TemptureL", "TemptureLNumIndex", "CurrentCapacity", "FreshTime", "StartChargingTime",
				"ChargingSessionMin")
			if got := fieldNames(t, a.BmsInfo); !slices.Equal(got, want) {
				t.Fatalf("BmsInfo fields %v, want %v", got, want)
			}
			for _, w := range []string{`"Soc":52`, `"CurrentCapacity":1.234`, `"ChargingSessionMin":180`, `"Status":3`} {
				if !strings.Contains(string(data), w) {
					t.Errorf("answer lacks %s: %s", w, data)
				}
			}
		}},
		{"alarms", serve.QueryAlarmInfo, map[string]any{"StationID": registry.DemoStationID, "OperatorID": op, "EquipmentID": d.equipment},
			func(t *testing.T, data json.RawMessage) {
				var a struct{ AlarmInfos []json.RawMessage }
				_ = json.Unmarshal(data, &a)
				if len(a.AlarmInfos) != 3 {
					t.Fatalf("%d alarms: %s", len(a.AlarmInfos), data)
				}
				want := sorted("StationID", "OperatorID", "EquipmentOwnerID", "StationName", "EquipmentID", "ConnectorID",
					"AlarmStatus", "AlarmCode", "AlarmType", "AlarmLevel", "AlarmTime", "NoteString")
				if got := fieldNames(t, a.AlarmInfos[0]); !slices.Equal(got, want) {
					t.Fatalf("fields %v, want %v", got, want)
				}
				var first registry.AlarmInfo
				_ = json.Unmarshal(a.AlarmInfos[0], &first)
				// Code 4 (insulation monitoring fault): type 1, level 1 (B.3).
				if first.AlarmCode != 4 || first.AlarmType != 1 || first.AlarmLevel != 1 || first.AlarmTime != registry.FormatTime(d.alarmAt[0]) {
					t.Fatalf("first alarm %+v", first)
				}
			}},
		{"events", serve.QueryEventInfo, map[string]any{"StationID": registry.DemoStationID, "OperatorID": op, "StartTime": "2026-11-21", "EndTime": "2026-11-21"},
			func(t *testing.T, data json.RawMessage) {
				var a struct{ EventInfos []registry.EventInfo }
				_ = json.Unmarshal(data, &a)
				if len(a.EventInfos) != 1 || a.EventInfos[0].EventCode != 3001 || a.EventInfos[0].EventType != 3 ||
					a.EventInfos[0].EventTime != "2026-11-21 09:30:00" || a.EventInfos[0].StationName == "" {
					t.Fatalf("events %s", data)
				}
			}},
		{"distribution", serve.QueryDisEquipment, map[string]any{"StationID": registry.DemoStationID, "OperatorID": op, "DisequipmentID": "D1"},
			func(t *testing.T, data json.RawMessage) {
				for _, w := range []string{`"DisequipmentID":"D1"`, `"FoPEnergy":1234.5`, `"Frequency":50.0`, `"FeedState":"1101"`,
					`"TranOverTemAlam":0`, `"StationID":"` + registry.DemoStationID + `"`} {
					if !strings.Contains(string(data), w) {
						t.Errorf("answer lacks %s: %s", w, data)
					}
				}
			}},
		{"video", serve.QueryVideoInfo, map[string]any{"StationID": registry.DemoStationID, "OperatorID": op},
			func(t *testing.T, data json.RawMessage) {
				var a struct{ VideoInfos []json.RawMessage }
				_ = json.Unmarshal(data, &a)
				want := sorted("StationID", "OperatorID", "EquipmentOwnerID", "StationName", "VideoLink", "VideoType", "VideoUser", "VideoAuthCode")
				if len(a.VideoInfos) != 1 || !slices.Equal(fieldNames(t, a.VideoInfos[0]), want) {
					t.Fatalf("videos %s", data)
				}
			}},
		{"bms intact", serve.SupplementBmsIntact, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID,
			"ConnectorID": d.conn, "EquipmentID": d.equipment, "MissingTime": registry.FormatTime(d.sessionStart)},
			func(t *testing.T, data json.RawMessage) {
				var a serve.IntactAnswer
				_ = json.Unmarshal(data, &a)
				if a.BmsRecordNum != "3" || a.ReportFrequency != "60" || a.ChargeStartTime != registry.FormatTime(d.sessionStart) ||
					a.ChargeEndTime != registry.FormatTime(d.sessionStart.Add(3*time.Minute)) {
					t.Fatalf("intact %s", data)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data json.RawMessage
			if ret := f.call(t, tc.iface, token, tc.payload, &data); ret != envelope.RetOK {
				t.Fatalf("Ret %v", ret)
			}
			tc.check(t, data)
		})
	}

	bad := []struct {
		name    string
		iface   string
		payload any
	}{
		{"stats without station", serve.QueryChargeStats, map[string]any{"StartTime": "2026-11-20", "EndTime": "2026-11-22"}},
		{"stats unknown station", serve.QueryChargeStats, map[string]any{"StationID": "44030000000000009999", "StartTime": "2026-11-20", "EndTime": "2026-11-22"}},
		{"stats bad date", serve.QueryDischargeStats, map[string]any{"StationID": registry.DemoStationID, "StartTime": "2026/11/20", "EndTime": "2026-11-22"}},
		{"stats reversed", serve.QueryDischargeStats, map[string]any{"StationID": registry.DemoStationID, "StartTime": "2026-11-22", "EndTime": "2026-11-20"}},
		{"bms unknown connector", serve.QueryBmsInfo, map[string]any{"ConnectorID": "nope"}},
		{"bms without connector", serve.QueryBmsInfo, map[string]any{}},
		{"alarms other operator", serve.QueryAlarmInfo, map[string]any{"StationID": registry.DemoStationID, "OperatorID": "987654321"}},
		{"alarms unknown equipment", serve.QueryAlarmInfo, map[string]any{"StationID": registry.DemoStationID, "EquipmentID": "x"}},
		{"alarms unknown station", serve.QueryAlarmInfo, map[string]any{"StationID": "44030000000000009999"}},
		{"events bad date", serve.QueryEventInfo, map[string]any{"StationID": registry.DemoStationID, "StartTime": "yesterday", "EndTime": "2026-11-21"}},
		{"events station too long", serve.QueryEventInfo, map[string]any{"StationID": strings.Repeat("4", 21)}},
		{"distribution unknown", serve.QueryDisEquipment, map[string]any{"StationID": registry.DemoStationID, "DisequipmentID": "D9"}},
		{"video unknown station", serve.QueryVideoInfo, map[string]any{"StationID": "44030000000000009999"}},
		{"intact no session", serve.SupplementBmsIntact, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID,
			"ConnectorID": d.conn, "EquipmentID": d.equipment, "MissingTime": "2020-01-01 00:00:00"}},
		{"intact wrong equipment", serve.SupplementBmsIntact, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID,
			"ConnectorID": d.conn, "EquipmentID": registry.DemoEquipmentIDs[1], "MissingTime": registry.FormatTime(d.sessionStart)}},
		{"intact missing field", serve.SupplementBmsIntact, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID}},
		{"collect alarm unknown connector", serve.SupplementCollect, map[string]any{"OperatorID": op, "ConnectorID": "nope",
			"MissingTime": []string{registry.FormatTime(d.alarmAt[0])}, "InterfaceName": serve.SupplementAlarmInfo}},
		{"collect alarm nothing then", serve.SupplementCollect, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID,
			"MissingTime": []string{"2020-01-01 00:00:00"}, "InterfaceName": serve.SupplementAlarmInfo}},
		{"collect bms without connector", serve.SupplementCollect, map[string]any{"OperatorID": op, "StationID": registry.DemoStationID,
			"MissingTime": []string{registry.FormatTime(d.sessionStart)}, "InterfaceName": serve.SupplementBMSInfo}},
		{"wrong JSON type", serve.QueryBmsInfo, map[string]any{"ConnectorID": 42}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var data json.RawMessage
			if ret := f.call(t, tc.iface, token, tc.payload, &data); ret != envelope.RetBusinessInvalid {
				t.Fatalf("Ret %v, want 4004 (%s)", ret, data)
			}
		})
	}
}

// TestSupplementHistory: supplement_collect answers alarms, events and BMS
// sessions by the missing times, in the order asked.
func TestSupplementHistory(t *testing.T) {
	f := newFixture(t)
	d := seedMonitor(t, f)
	token := f.token(t)
	op := "123456789"
	collect := func(iface string, times []time.Time, extra map[string]any) serve.CollectAnswer {
		t.Helper()
		var mt []string
		for _, x := range times {
			mt = append(mt, registry.FormatTime(x))
		}
		q := map[string]any{"OperatorID": op, "StationID": registry.DemoStationID, "MissingTime": mt, "InterfaceName": iface}
		for k, v := range extra {
			q[k] = v
		}
		var ans serve.CollectAnswer
		if ret := f.call(t, serve.SupplementCollect, token, q, &ans); ret != envelope.RetOK {
			t.Fatalf("%s: Ret %v", iface, ret)
		}
		return ans
	}
	ans := collect(serve.SupplementAlarmInfo, []time.Time{d.alarmAt[2], d.alarmAt[0]}, nil)
	var codes []int
	for _, o := range ans.Object {
		var a registry.AlarmInfo
		_ = json.Unmarshal(o, &a)
		codes = append(codes, a.AlarmCode)
	}
	if !slices.Equal(codes, []int{17, 4}) {
		t.Fatalf("alarms by time came as codes %v, want [17 4]", codes)
	}
	ans = collect(serve.SupplementEventInfo, []time.Time{d.eventAt}, nil)
	if len(ans.Object) != 1 || !strings.Contains(string(ans.Object[0]), `"EventCode":3001`) {
		t.Fatalf("events %s", ans.Object)
	}
	ans = collect(serve.SupplementBMSInfo, []time.Time{d.sessionStart}, map[string]any{"ConnectorID": d.conn})
	if len(ans.Object) != 3 {
		t.Fatalf("bms session: %d samples", len(ans.Object))
	}
	for i, o := range ans.Object {
		var b registry.ConnectorBms
		_ = json.Unmarshal(o, &b)
		if b.BmsInfo == nil || b.BmsInfo.Soc != 50+i {
			t.Fatalf("sample %d: %s", i, o)
		}
	}
}
