package profile

// Quantities and commands of water and gas meter profiles
// (ref-water-valve-v1, ref-gas-valve-v1). Their valve plays the part of an
// electricity meter's relay; they are billed platform-side (主站费控).
const (
	Volume        = "volume"      // cumulative volume, m³
	Flow          = "flow"        // instantaneous flow, m³/h
	Valve         = "valve"       // ValveOpen or ValveClosed
	CmdValveOpen  = "valve_open"  // 开阀
	CmdValveClose = "valve_close" // 关阀
)

// Valve states (quantity "valve").
const (
	ValveOpen   = 0
	ValveClosed = 1
)
