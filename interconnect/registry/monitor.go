package registry

import (
	"strconv"
	"strings"
)

// BmsInfo is table 20 (车辆充放电过程信息). The table lists TatalVoltage and
// TotalCurrent twice (vehicle and charger side) under the same names; JSON
// can carry each name once, so they appear once.
type BmsInfo struct {
	VINCode              string `json:"VINCode"`              // 17 characters
	BMSCode              string `json:"BMSCode"`              // ≤ 50
	BMSVer               string `json:"BMSVer"`               // ≤ 50
	ConnectorID          string `json:"ConnectorID"`          // ≤ 26
	MaxChargeCurrent     Float  `json:"MaxChargeCurrent"`     // A
	MaxChargeCellVoltage Float  `json:"MaxChargeCellVoltage"` // V
	MaxTemp              int    `json:"MaxTemp"`              // ℃
	RatedCapacity        int    `json:"RatedCapacity"`        // kWh
	TatalVoltage         Float  `json:"TatalVoltage"`         // sic (table 20), V
	TotalCurrent         Float  `json:"TotalCurrent"`         // A
	Soc                  int    `json:"Soc"`                  // 0–100
	VoltageH             Float  `json:"VoltageH"`             // V
	VoltageHNumIndex     int    `json:"VoltageHNumIndex"`     // 1–1000
	TemptureH            int    `json:"TemptureH"`            // sic, ℃
	TemptureHNumIndex    int    `json:"TemptureHNumIndex"`    // 1–1000
	TemptureL            int    `json:"TemptureL"`            // ℃
	TemptureLNumIndex    int    `json:"TemptureLNumIndex"`    // 1–1000
	CurrentCapacity      KWh3   `json:"CurrentCapacity"`      // kWh, 3 decimals
	FreshTime            string `json:"FreshTime"`            // yyyy-MM-dd HH:mm:ss
	StartChargingTime    string `json:"StartChargingTime"`    // yyyy-MM-dd HH:mm:ss
	ChargingSessionMin   int    `json:"ChargingSessionMin"`   // seconds, despite the name
}

// ConnectorBms is the Data of notification_bmsInfo and the answer of
// query_bms_info (tables 45 and 49): BmsInfo only while charging (status 3).
type ConnectorBms struct {
	ConnectorID string   `json:"ConnectorID"`
	Status      int      `json:"Status"`
	BmsInfo     *BmsInfo `json:"BmsInfo,omitempty"`
}

// AlarmInfo is table 19 (告警信息). The table leaves the code fields'
// type open; appendix B defines them as numbers, so they are integers.
type AlarmInfo struct {
	StationID        string   `json:"StationID"`        // ≤ 20
	OperatorID       string   `json:"OperatorID"`       // 9
	EquipmentOwnerID string   `json:"EquipmentOwnerID"` // 9
	StationName      string   `json:"StationName"`      // ≤ 50
	EquipmentID      string   `json:"EquipmentID"`      // ≤ 23
	ConnectorID      string   `json:"ConnectorID"`      // ≤ 26
	AlarmStatus      int      `json:"AlarmStatus"`      // 1 raised, 0 cleared
	AlarmCode        int      `json:"AlarmCode"`        // table B.3
	AlarmType        int      `json:"AlarmType"`        // table B.1
	AlarmLevel       int      `json:"AlarmLevel"`       // table B.2
	AlarmTime        string   `json:"AlarmTime"`        // yyyy-MM-dd HH:mm:ss
	NoteString       string   `json:"NoteString,omitempty"`
	BmsInfo          *BmsInfo `json:"BmsInfo,omitempty"` // DC faults while charging
}

// Alarm statuses (table 19).
const (
	AlarmCleared = 0
	AlarmRaised  = 1
)

// EventInfo is table 21 (事件信息).
type EventInfo struct {
	StationID        string `json:"StationID"`
	OperatorID       string `json:"OperatorID"`
	EquipmentOwnerID string `json:"EquipmentOwnerID"`
	StationName      string `json:"StationName"`
	EventType        int    `json:"EventType"` // 1 备案 … 7 重大事件
	EventCode        int    `json:"EventCode"` // table B.4
	EventTime        string `json:"EventTime"` // yyyy-MM-dd HH:mm:ss
	NoteString       string `json:"NoteString,omitempty"`
}

// VideoInfo is table 22 (视频参数信息).
type VideoInfo struct {
	StationID        string `json:"StationID"`
	OperatorID       string `json:"OperatorID"`
	EquipmentOwnerID string `json:"EquipmentOwnerID"`
	StationName      string `json:"StationName"`
	VideoLink        string `json:"VideoLink"` // ≤ 500
	VideoType        int    `json:"VideoType"` // 1 live, 2 playback
	VideoUser        string `json:"VideoUser"`
	VideoAuthCode    string `json:"VideoAuthCode,omitempty"` // ≤ 255
}

// DisEquipmentInfo is table 17 (配电设备信息); the lower-case field names
// are the standard's.
type DisEquipmentInfo struct {
	DisequipmentID   string `json:"DisequipmentID"`
	ManufacturerID   string `json:"manufacturerID"`
	ManufacturerName string `json:"ManufacturerName,omitempty"`
	EquipmentModel   string `json:"equipmentModel"`
	ProductionDate   string `json:"productionDate,omitempty"`
	RatedInVoltage   Fixed1 `json:"RatedInVoltage"`  // kV
	RatedOutVoltage  Fixed1 `json:"RatedOutVoltage"` // V
	RatedPower       Fixed1 `json:"RatedPower"`      // kVA
	FeedNum          int    `json:"FeedNum"`
}

// DisEquipmentStatusInfo is table 18 (配电设备状态信息), with the StationID
// and OperatorID the example of table 67 adds.
type DisEquipmentStatusInfo struct {
	StationID       string `json:"StationID"`
	OperatorID      string `json:"OperatorID"`
	DisequipmentID  string `json:"DisequipmentID"`
	FoPEnergy       KWh    `json:"FoPEnergy"`
	RePEnergy       KWh    `json:"RePEnergy"`
	FoQEnergy       KWh    `json:"FoQEnergy"`
	ReQEnergy       KWh    `json:"ReQEnergy"`
	AVoltage        Float  `json:"AVoltage"`
	BVoltage        Float  `json:"BVoltage"`
	CVoltage        Float  `json:"CVoltage"`
	ACurrent        Float  `json:"ACurrent"`
	BCurrent        Float  `json:"BCurrent"`
	CCurrent        Float  `json:"CCurrent"`
	CurPPower       Float  `json:"CurPPower"`
	CurQPower       Float  `json:"CurQPower"`
	Factor          Float  `json:"Factor"` // -1 … 1
	CurSPower       Float  `json:"CurSPower"`
	Frequency       Float  `json:"Frequency"`
	FeedState       string `json:"FeedState"` // ≤ 64, one 0/1 per feeder
	EnvTemp1        *int   `json:"EnvTemp1,omitempty"`
	EnvTemp2        *int   `json:"EnvTemp2,omitempty"`
	EnvHum1         *int   `json:"EnvHum1,omitempty"`
	EnvHum2         *int   `json:"EnvHum2,omitempty"`
	SmokAlam1       int    `json:"SmokAlam1"`
	SmokAlam2       int    `json:"SmokAlam2"`
	TranOverTemAlam int    `json:"TranOverTemAlam"`
}

// StationChargeStatsInfo is tables 11, 13 and 15.
type StationChargeStatsInfo struct {
	StationID                 string                     `json:"StationID"`
	StartTime                 string                     `json:"StartTime"` // yyyy-MM-dd
	EndTime                   string                     `json:"EndTime"`
	StationChargeElectricity  Fixed1                     `json:"StationChargeElectricity"`
	EquipmentChargeStatsInfos []EquipmentChargeStatsInfo `json:"EquipmentChargeStatsInfos"`
}

// EquipmentChargeStatsInfo is table 13.
type EquipmentChargeStatsInfo struct {
	EquipmentID                string                     `json:"EquipmentID"`
	EquipmentChargeElectricity Fixed1                     `json:"EquipmentChargeElectricity"`
	ConnectorChargeStatsInfos  []ConnectorChargeStatsInfo `json:"ConnectorChargeStatsInfos"`
}

// ConnectorChargeStatsInfo is table 15.
type ConnectorChargeStatsInfo struct {
	ConnectorID                string `json:"ConnectorID"`
	ConnectorChargeElectricity Fixed1 `json:"ConnectorChargeElectricity"`
}

// StationDischargeStatsInfo is tables 12, 14 and 16.
type StationDischargeStatsInfo struct {
	StationID                    string                        `json:"StationID"`
	StartTime                    string                        `json:"StartTime"`
	EndTime                      string                        `json:"EndTime"`
	StationDischargeElectricity  Fixed1                        `json:"StationDischargeElectricity"`
	EquipmentDischargeStatsInfos []EquipmentDischargeStatsInfo `json:"EquipmentDischargeStatsInfos"`
}

// EquipmentDischargeStatsInfo is table 14.
type EquipmentDischargeStatsInfo struct {
	EquipmentID                   string                        `json:"EquipmentID"`
	EquipmentDischargeElectricity Fixed1                        `json:"EquipmentDischargeElectricity"`
	ConnectorDischargeStatsInfos  []ConnectorDischargeStatsInfo `json:"ConnectorDischargeStatsInfos"`
}

// ConnectorDischargeStatsInfo is table 16.
type ConnectorDischargeStatsInfo struct {
	ConnectorID                   string `json:"ConnectorID"`
	ConnectorDischargeElectricity Fixed1 `json:"ConnectorDischargeElectricity"`
}

// Float is a measured value sent in its shortest form with at least one
// decimal (tables 18 and 20 say 浮点型).
type Float float64

// MarshalJSON writes the shortest form with at least one decimal.
func (f Float) MarshalJSON() ([]byte, error) { return KWh(f).MarshalJSON() }

// KWh3 is an energy with three decimals (CurrentCapacity, table 20).
type KWh3 float64

// MarshalJSON writes three decimals.
func (k KWh3) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(k), 'f', 3, 64)), nil
}

// Alarm types (table B.1).
const (
	AlarmTypeCharging     = 1 // 充电系统故障
	AlarmTypeBattery      = 2 // 电池系统故障
	AlarmTypeDistribution = 3 // 配电系统故障
)

// alarmLevels is table B.3: code → level (B.2: 1 personal safety, 2
// equipment safety, 3 notice). The table prints 205 twice (ambient
// temperature and smoke); smoke is taken as 206.
var alarmLevels = map[int]int{
	1: 3, 2: 3, 3: 3, 4: 1, 5: 2, 6: 2, 7: 2, 8: 3, 9: 1, 10: 3,
	11: 2, 12: 2, 13: 2, 14: 3, 15: 2, 16: 2, 17: 2, 18: 2, 19: 3, 20: 3,
	21: 2, 22: 1, 23: 3, 24: 2, 25: 2, 26: 1, 27: 3, 28: 2, 29: 2, 30: 2, 31: 2,
	101: 2, 102: 2, 103: 3, 104: 2, 105: 2, 106: 2, 107: 2, 108: 2, 109: 2, 110: 3,
	111: 2, 112: 2, 113: 3, 114: 3, 115: 2, 116: 2, 117: 2, 118: 3, 119: 3, 120: 2,
	121: 1, 122: 2,
	201: 2, 202: 2, 203: 2, 204: 2, 205: 2, 206: 2,
}

// AlarmClass gives the type (B.1) and level (B.2) of an alarm code (B.3);
// ok is false for a code the appendix lacks.
func AlarmClass(code int) (alarmType, level int, ok bool) {
	level, ok = alarmLevels[code]
	if !ok {
		return 0, 0, false
	}
	switch {
	case code < 100:
		return AlarmTypeCharging, level, true
	case code < 200:
		return AlarmTypeBattery, level, true
	default:
		return AlarmTypeDistribution, level, true
	}
}

// eventCodes is table B.4: the codes of each event type (code / 1000).
var eventCodes = map[int]int{1: 3, 2: 1, 3: 9, 4: 8, 5: 3, 6: 3, 7: 3}

// EventClass gives the event type (table 21) of an event code (B.4); ok is
// false for a code the appendix lacks.
func EventClass(code int) (eventType int, ok bool) {
	t, n := code/1000, code%1000
	if last, known := eventCodes[t]; known && n >= 1 && n <= last {
		return t, true
	}
	return 0, false
}

// QRCode is the connector's QR URI (appendix A):
// hlht://<ConnectorID>.<OperatorID>/[custom].
func QRCode(connectorID, operatorID, custom string) string {
	return "hlht://" + connectorID + "." + operatorID + "/" + strings.TrimPrefix(custom, "/")
}
