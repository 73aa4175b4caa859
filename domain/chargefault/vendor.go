package chargefault

import "strings"

// More appendix B codes (table B.3) the cabinet protections map to.
var (
	EmergencyStop     = Alarm{2, TypeCharging, LevelNotice, "急停"}
	SurgeArrester     = Alarm{15, TypeCharging, LevelEquipmentSafety, "避雷器故障"}
	MaintenanceDoor   = Alarm{26, TypeCharging, LevelPersonalSafety, "维修门开停止充电"}
	GunOverTemp       = Alarm{18, TypeCharging, LevelEquipmentSafety, "充电枪过温故障"}
	SmokeAlarm        = Alarm{9, TypeCharging, LevelPersonalSafety, "烟雾报警告警"}
	InsulationAbnorm  = Alarm{6, TypeCharging, LevelEquipmentSafety, "绝缘监测异常"}
	ACBreakerFault    = Alarm{10, TypeCharging, LevelNotice, "交流断路器故障"}
	ConnectorNotHome  = Alarm{19, TypeCharging, LevelNotice, "充电枪未归位故障"}
	SwitchTrip        = Alarm{203, TypeDistribution, LevelEquipmentSafety, "开关跳闸"}
	TransformerOverT  = Alarm{204, TypeDistribution, LevelEquipmentSafety, "变压器温度过高"}
	AmbientOverTemp   = Alarm{205, TypeDistribution, LevelEquipmentSafety, "环境温度过高"}
	WaterImmersionAlm = InsulationFault
)

// Vendor codes (StatusNotification.vendorErrorCode, with errorCode
// OtherError or the closest standard code) for the protections of the
// charging cabinet the tender lists (seed 000: 浪涌保护、浸水检测、高温检测、
// 开门断电、远程断电保护). The codes are ours: the simulator and the cabinet
// integration send them; matching ignores case and separators.
const (
	VendorSurge          = "Surge"          // 浪涌保护 → 15 避雷器故障
	VendorWaterImmersion = "WaterImmersion" // 浸水检测 → 4 绝缘监测故障 (B.3 has no water code; immersion is an insulation hazard to people)
	VendorOverTemp       = "OverTemperature"
	VendorDoorOpen       = "DoorOpen"     // 开门断电 → 26 维修门开停止充电
	VendorRemoteCutOff   = "RemoteCutOff" // 远程断电 → 2 急停 (the supply cut on purpose)
	VendorGunOverTemp    = "GunOverTemperature"
	VendorSmoke          = "Smoke"
	VendorBreakerTrip    = "BreakerTrip"
)

// vendorAlarms is the vendor code table (normalised keys).
var vendorAlarms = map[string]Alarm{
	norm(VendorSurge):          SurgeArrester,
	norm(VendorWaterImmersion): WaterImmersionAlm,
	norm(VendorOverTemp):       ChargerOverTemp,
	norm(VendorDoorOpen):       MaintenanceDoor,
	norm(VendorRemoteCutOff):   EmergencyStop,
	norm(VendorGunOverTemp):    GunOverTemp,
	norm(VendorSmoke):          SmokeAlarm,
	norm(VendorBreakerTrip):    ACBreakerFault,
}

func norm(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ', '.':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// FromVendor maps a vendorErrorCode of the table above; ok is false for
// one it lacks.
func FromVendor(vendor string) (Alarm, bool) {
	a, ok := vendorAlarms[norm(vendor)]
	return a, ok
}

// FromStatus maps a StatusNotification's errorCode and vendorErrorCode: a
// known vendor code names the protection that tripped, more precisely than
// the errorCode (often OtherError); otherwise FromOCPP. A vendor code with
// NoError is still a fault (the cabinet reports its protection that way).
func FromStatus(errorCode, vendor string) (Alarm, bool) {
	if a, ok := FromVendor(vendor); ok {
		return a, true
	}
	return FromOCPP(errorCode)
}

// known lists the alarms named in this package, for describing a code.
var known = []Alarm{ContactorFault, MeterCommFault, InsulationFault, PowerLoss, ConnectorLockFault, PilotFault,
	ChargerOverTemp, Offline, ModuleFault, BatteryOverCurrent, SupplyOverVoltage, DistributionOverload,
	EmergencyStop, SurgeArrester, MaintenanceDoor, GunOverTemp, SmokeAlarm, InsulationAbnorm, ACBreakerFault,
	ConnectorNotHome, SwitchTrip, TransformerOverT, AmbientOverTemp}

// Describe gives table B.3's description of a code named here ("" if none).
func Describe(code int) string {
	for _, a := range known {
		if a.Code == code {
			return a.Description
		}
	}
	return ""
}
