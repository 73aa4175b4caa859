// Package chargefault names a charger's faults in the regulator's terms:
// the alarm codes, types and levels of DB4403/T 77-2020 appendix B (table
// B.3), mapped from what an OCPP 1.6 charge point reports.
package chargefault

// Alarm types (table B.1).
const (
	TypeCharging     = 1 // 充电系统故障
	TypeBattery      = 2 // 电池系统故障
	TypeDistribution = 3 // 配电系统故障
)

// Alarm levels (table B.2).
const (
	LevelPersonalSafety  = 1 // 人身安全级
	LevelEquipmentSafety = 2 // 设备安全级
	LevelNotice          = 3 // 告警提示级
)

// Alarm is one appendix B alarm code with its type and level.
type Alarm struct {
	Code        int
	Type        int
	Level       int
	Description string
}

// Codes used below (table B.3). Offline is ours too: a charger that lost its
// connection to the platform is a "后台通讯故障".
var (
	ContactorFault       = Alarm{1, TypeCharging, LevelNotice, "交流接触器故障"}
	MeterCommFault       = Alarm{3, TypeCharging, LevelNotice, "电流表通讯故障"}
	InsulationFault      = Alarm{4, TypeCharging, LevelPersonalSafety, "绝缘监测故障"}
	PowerLoss            = Alarm{8, TypeCharging, LevelNotice, "异常掉电"}
	ConnectorLockFault   = Alarm{13, TypeCharging, LevelEquipmentSafety, "充电接口电子锁故障"}
	PilotFault           = Alarm{16, TypeCharging, LevelEquipmentSafety, "充电中车辆控制导引告警"}
	ChargerOverTemp      = Alarm{17, TypeCharging, LevelEquipmentSafety, "充电桩过温故障"}
	Offline              = Alarm{27, TypeCharging, LevelNotice, "后台通讯故障"}
	ModuleFault          = Alarm{31, TypeCharging, LevelEquipmentSafety, "充电模块故障"}
	BatteryOverCurrent   = Alarm{122, TypeBattery, LevelEquipmentSafety, "蓄电池充电过流告警"}
	SupplyOverVoltage    = Alarm{201, TypeDistribution, LevelEquipmentSafety, "电压过高"}
	DistributionOverload = Alarm{202, TypeDistribution, LevelEquipmentSafety, "过负荷"}
)

// FromOCPP maps an OCPP 1.6 ChargePointErrorCode to its appendix B alarm.
// ok is false for NoError (and an empty code): nothing is wrong. A code
// appendix B has no closer match for is a charging-module fault (31), so a
// fault is never dropped for want of a code.
func FromOCPP(errorCode string) (a Alarm, ok bool) {
	switch errorCode {
	case "", "NoError":
		return Alarm{}, false
	case "ConnectorLockFailure":
		return ConnectorLockFault, true
	case "EVCommunicationError":
		return PilotFault, true
	case "GroundFailure":
		return InsulationFault, true
	case "HighTemperature":
		return ChargerOverTemp, true
	case "OverCurrentFailure":
		return BatteryOverCurrent, true
	case "OverVoltage":
		return SupplyOverVoltage, true
	case "PowerMeterFailure":
		return MeterCommFault, true
	case "PowerSwitchFailure":
		return ContactorFault, true
	case "UnderVoltage":
		return PowerLoss, true
	case "WeakSignal":
		return Offline, true
	default: // InternalError, LocalListConflict, OtherError, ReaderFailure, ResetFailure, unknown
		return ModuleFault, true
	}
}
