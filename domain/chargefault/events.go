package chargefault

import "fmt"

// EventKind is an operating event of a station the regulator hears of as
// notification_eventInfo (table 21).
type EventKind int

// Event kinds.
const (
	SessionStarted EventKind = iota + 1
	SessionStopped
	FaultRaised
	FaultRecovered
	OperationPaused
	OperationResumed
)

// Event codes of table B.4 used here.
const (
	EventEquipmentOnline     = 1003 // 设备已经上线
	EventDistributionFault   = 7001 // 配电故障
	EventStationServiceFault = 7002 // 场站服务故障
	EventVehicleFault        = 7003 // 车辆故障
)

// EventCode is the table B.4 code of an event, and the NoteString that
// says what happened. B.4 only knows filing, inspection and major events:
// a session starting or ending and operation resuming are the equipment
// being in service (1003, 设备已经上线); a fault and its recovery is a
// major event by its alarm type (B.1: charging → 7002 场站服务故障,
// battery → 7003 车辆故障, distribution → 7001 配电故障); a pause is a
// station service interruption (7002). The note tells them apart.
func EventCode(kind EventKind, a Alarm, where string) (code int, note string) {
	switch kind {
	case SessionStarted:
		return EventEquipmentOnline, "充电开始 " + where
	case SessionStopped:
		return EventEquipmentOnline, "充电结束 " + where
	case FaultRaised, FaultRecovered:
		code = EventStationServiceFault
		switch a.Type {
		case TypeBattery:
			code = EventVehicleFault
		case TypeDistribution:
			code = EventDistributionFault
		}
		if a.Description == "" {
			a.Description = Describe(a.Code) // a recovery read back from storage
		}
		verb := "故障"
		if kind == FaultRecovered {
			verb = "故障恢复"
		}
		return code, fmt.Sprintf("%s %d %s %s", verb, a.Code, a.Description, where)
	case OperationPaused:
		return EventStationServiceFault, "暂停运营 " + where
	case OperationResumed:
		return EventEquipmentOnline, "恢复运营 " + where
	}
	return 0, ""
}
