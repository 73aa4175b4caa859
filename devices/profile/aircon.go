package profile

// Quantities of a central air-conditioning controller profile
// (ref-aircon-v1): one indoor unit (室内机) per Modbus unit id. The
// counters are what central-AC billing weighs an indoor unit's share of the
// plant's energy by (runtime × capacity, or valve-open time).
const (
	RefAirconV1     = "ref-aircon-v1"
	AirconRuntime   = "ac_runtime"    // cumulative run time, minutes
	AirconValveOpen = "ac_valve_open" // cumulative valve-open time, minutes
	AirconCapacity  = "ac_capacity"   // rated capacity, 0.01 kW
	AirconRunning   = "ac_running"    // 0 off, 1 on; switch_on / switch_off write it
)
