// Package simulator runs simulated prepaid meters behind simulated Modbus
// TCP gateways, on real sockets, so the platform can be exercised end to end
// without hardware: reading, recharging, refunds, switching, consumption that
// runs the money down and trips the relay, and gateway outages.
//
// The register map comes from a profile (ref-prepaid-v1 by default); the
// behaviour is the reference prepaid meter of docs/meters.md.
package simulator

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
)

// Errors of meter commands. The gateway answers ErrRefused with exception 04
// and ErrInvalid with exception 03, as the reference meter does.
var (
	ErrRefused = errors.New("meter refused")
	ErrInvalid = errors.New("invalid command value")
)

// Period is a time-of-use period (尖峰平谷).
type Period uint8

// Time-of-use periods, in the order of the meter's TOU energy registers.
const (
	Sharp  Period = iota // 尖
	Peak                 // 峰
	Flat                 // 平
	Valley               // 谷
)

// DefaultTOU is a typical provincial schedule: hour of day → period.
var DefaultTOU = [24]Period{
	Valley, Valley, Valley, Valley, Valley, Valley, Valley, // 00–07
	Flat,             // 07–08
	Peak, Peak, Peak, // 08–11
	Flat, Flat, Flat, Flat, Flat, Flat, Flat, // 11–18
	Peak,         // 18–19
	Sharp, Sharp, // 19–21
	Peak, Peak, // 21–23
	Valley, // 23–24
}

// MeterConfig is a meter's initial state, in register units.
type MeterConfig struct {
	Remaining   int64  // 0.01 yuan
	UnitPrice   int64  // 0.0001 yuan/kWh
	Alarm1      int64  // 0.01 yuan; status bit 0 while remaining ≤ Alarm1
	Alarm2      int64  // 0.01 yuan; status bit 1 while remaining ≤ Alarm2
	Load        int64  // W (= 0.001 kW) drawn while the relay is closed, ≤ MaxLoad
	Voltage     int64  // 0.1 V; 0 means 220.0 V
	PowerFactor int64  // 0.001; 0 means 1.000
	Mode        uint16 // profile.ModePrepaid, ModeProtect or ModeForcedOff
	TOU         *[24]Period
	// Flow is a water or gas meter's draw while its valve is open, in
	// 0.001 m³/h (litres per hour); volume counts in 0.001 m³.
	Flow int64
	// CTRatio and PTRatio are what a three-phase profile's CT and PT
	// registers show; 0 means 1 (direct connection).
	CTRatio, PTRatio int64
}

// State is a meter's registers and the one internal fact they do not show
// (a pending switch-off command), for tests and inspection.
type State struct {
	Energy              int64     // 0.01 kWh
	TOU                 [4]int64  // 0.01 kWh by Period
	Voltage             int64     // 0.1 V
	Current             int64     // 0.01 A
	Power               int64     // W
	PowerFactor         int64     // 0.001
	Remaining           int64     // 0.01 yuan
	PurchaseCount       uint16    //
	CumulativePurchased int64     // 0.01 yuan, net of refunds
	Relay               uint16    // profile.RelayClosed / RelayOpen
	Mode                uint16    //
	Alarm1, Alarm2      int64     // 0.01 yuan
	UnitPrice           int64     // 0.0001 yuan/kWh
	Status              uint16    // profile.Status* bits
	SwitchedOff         bool      // a switch-off command is in force
	Consumed            int64     // 0.01 yuan deducted by consumption so far
	LastAdvance         time.Time // simulated time consumption has reached
	// Water and gas (ref-water-valve-v1, ref-gas-valve-v1).
	Volume int64  // 0.001 m³
	Flow   int64  // 0.001 m³/h, 0 while the valve is closed
	Valve  uint16 // profile.ValveOpen or ValveClosed
	// Three-phase (ref-3phase-v1): the ratios and the largest load drawn
	// (W) with the simulated time it began; the phases are derived from
	// Power, Voltage and PowerFactor (State.value).
	CT, PT      int64
	MaxDemand   int64
	MaxDemandAt time.Time
}

// MaxLoad is the largest load the power register (i16, 0.001 kW) can show;
// larger loads are clamped to it.
const MaxLoad = 32767

// Units of the consumption arithmetic, all integers so money stays exact.
const (
	// wnsPerUnit is one energy register unit, 0.01 kWh = 36 kJ, in W·ns.
	wnsPerUnit = 36_000 * int64(time.Second)
	// microPerCent: price (0.0001 yuan/kWh) × energy (0.01 kWh) is in
	// 0.000001 yuan; 10 000 of those make the 0.01 yuan of the register.
	microPerCent = 10_000
)

// Meter is one simulated ref-prepaid-v1 meter. It is safe for concurrent
// use: the gateway serves it while the fleet's clock advances it.
type Meter struct {
	mu sync.Mutex

	energy      int64
	tou         [4]int64
	voltage     int64
	pf          int64
	load        int64
	remaining   int64
	count       uint16
	cumulative  int64
	mode        uint16
	alarm1      int64
	alarm2      int64
	price       int64
	schedule    [24]Period
	switchedOff bool // by command (拉闸), cleared only by switch on
	arrears     bool // tripped because remaining ≤ 0
	consumed    int64
	last        time.Time
	dead        bool // silent on the bus; see SetDead

	energyRem int64 // W·ns measured but not yet a whole 0.01 kWh
	moneyRem  int64 // 0.000001 yuan owed but not yet a whole 0.01 yuan

	flow        int64 // 0.001 m³/h drawn while the valve is open
	volume      int64 // 0.001 m³
	volumeRem   int64 // 0.001 m³ × ns/h measured but not yet a whole litre
	valveClosed bool  // by command (关阀); a water or gas meter's relay

	// A meter with a register map of its own (SetProfile), else nil: the
	// gateway's.
	prof   *profile.Profile
	blocks []profile.Block

	ct, pt      int64
	maxDemand   int64 // W
	maxDemandAt time.Time

	// The price block (set_tariff, devices/profile/README.md).
	tariffMode  int64    // TariffSingle, TariffTOU or TariffTiered
	prices      [4]int64 // 0.0001 yuan/kWh by Period
	tiers       [2]int64 // 0.01 kWh of the month: top of tier 1 and 2
	tierPrices  [3]int64 // 0.0001 yuan/kWh
	monthEnergy int64    // 0.01 kWh counted in the current month
	month       int      // year×12+month of monthEnergy

	// The safety-limit block (set_safety_limits).
	maxLoad        int64 // W; 0 = off
	malignantStart int64 // W of a sudden load step; 0 = off
	allowedTrips   int64
	tripCount      int64
	safetyOpen     bool      // relay opened by a safety trip
	safetyBits     uint16    // StatusOverloadTrip or StatusMalignantTrip while open
	reclose        time.Time // when a safety trip closes the relay again
	lockedOut      bool      // past allowedTrips: open until switch_on
}

// Price modes of the price block (setting "tariff_mode").
const (
	TariffSingle = 0 // the unit price register 0x010B
	TariffTOU    = 1 // price_<period> by the hour table tou_hour_00..23
	TariffTiered = 2 // tier<n>_price by the month's energy
)

// SafetyOffTime is how long a safety trip keeps the relay open before the
// meter closes it again (seed 002: 断电 3 分钟), unless it is locked out.
const SafetyOffTime = 3 * time.Minute

// NewMeter builds a meter in its initial state.
func NewMeter(c MeterConfig) *Meter {
	m := &Meter{
		voltage:   c.Voltage,
		pf:        c.PowerFactor,
		load:      min(max(c.Load, 0), MaxLoad),
		remaining: c.Remaining,
		mode:      c.Mode,
		alarm1:    c.Alarm1,
		alarm2:    c.Alarm2,
		price:     c.UnitPrice,
		schedule:  DefaultTOU,
		flow:      max(c.Flow, 0),
		ct:        max(c.CTRatio, 1),
		pt:        max(c.PTRatio, 1),
	}
	if m.voltage == 0 {
		m.voltage = 2200
	}
	if m.pf == 0 {
		m.pf = 1000
	}
	if c.TOU != nil {
		m.schedule = *c.TOU
	}
	m.settle()
	return m
}

// settle applies the trip rule after any change: in prepaid mode the meter
// trips once the money is gone; money coming back releases only that trip.
func (m *Meter) settle() {
	switch {
	case m.remaining > 0:
		m.arrears = false
	case m.mode == profile.ModePrepaid:
		m.arrears = true
	}
}

func (m *Meter) relayOpen() bool {
	switch m.mode {
	case profile.ModeProtect:
		return false
	case profile.ModeForcedOff:
		return true
	}
	return m.switchedOff || m.arrears || m.safetyOpen
}

// Recharge (充值) credits amount (0.01 yuan) if counter is the purchase
// counter + 1 (wrapping at 65535, like the u16 register).
func (m *Meter) Recharge(counter uint16, amount uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkCounter(counter); err != nil {
		return err
	}
	a := int64(amount)
	if a == 0 || m.remaining+a > math.MaxInt32 || m.cumulative+a > math.MaxUint32 {
		return fmt.Errorf("%w: recharge of %d", ErrInvalid, amount)
	}
	m.count = counter
	m.remaining += a
	m.cumulative += a
	m.settle()
	return nil
}

// Refund (退费) takes amount back, under the counter rule, and only if at
// least amount remains.
func (m *Meter) Refund(counter uint16, amount uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkCounter(counter); err != nil {
		return err
	}
	a := int64(amount)
	if a == 0 {
		return fmt.Errorf("%w: refund of 0", ErrInvalid)
	}
	if a > m.remaining {
		return fmt.Errorf("%w: refund of %d with %d remaining", ErrRefused, amount, m.remaining)
	}
	m.count = counter
	m.remaining -= a
	m.cumulative = max(m.cumulative-a, 0)
	m.settle()
	return nil
}

func (m *Meter) checkCounter(counter uint16) error {
	if counter != m.count+1 {
		return fmt.Errorf("%w: counter %d, meter expects %d", ErrRefused, counter, m.count+1)
	}
	return nil
}

// ClearRemaining sets the remaining money to zero, which trips a prepaid
// meter.
func (m *Meter) ClearRemaining() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remaining, m.moneyRem = 0, 0
	m.settle()
}

// SwitchOff (拉闸) opens the relay by command. A meter in protect mode
// (保电) refuses.
func (m *Meter) SwitchOff() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mode == profile.ModeProtect {
		return fmt.Errorf("%w: switch off in protect mode", ErrRefused)
	}
	m.switchedOff = true
	return nil
}

// SwitchOn (合闸) withdraws a switch-off command; an arrears trip or forced
// off mode still keeps the relay open.
func (m *Meter) SwitchOn() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.switchedOff = false
	// A manager's restore of a meter its safety limits locked out.
	if m.lockedOut {
		m.lockedOut, m.safetyOpen, m.safetyBits, m.tripCount = false, false, 0, 0
	}
}

// SetTariff takes the price block (command set_tariff): the price mode, four
// period prices, the hour table (hour of the meter's local day → Period) and
// the tiers. From then on consumption is priced by it.
func (m *Meter) SetTariff(v profile.Values) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mode := v["tariff_mode"]
	if mode < TariffSingle || mode > TariffTiered {
		return fmt.Errorf("%w: tariff mode %d", ErrInvalid, mode)
	}
	var table [24]Period
	for h := range table {
		p := v[fmt.Sprintf("tou_hour_%02d", h)]
		if p < 0 || p > int64(Valley) {
			return fmt.Errorf("%w: hour %d period %d", ErrInvalid, h, p)
		}
		table[h] = Period(p)
	}
	if v["tier2_kwh"] < v["tier1_kwh"] {
		return fmt.Errorf("%w: tier 2 below tier 1", ErrInvalid)
	}
	m.tariffMode = mode
	m.prices = [4]int64{v["price_sharp"], v["price_peak"], v["price_flat"], v["price_valley"]}
	m.schedule = table
	m.tiers = [2]int64{v["tier1_kwh"], v["tier2_kwh"]}
	m.tierPrices = [3]int64{v["tier1_price"], v["tier2_price"], v["tier3_price"]}
	return nil
}

// SetUnitPrice sets the single unit price (0.0001 yuan/kWh, register
// 0x010B); consumption from now on is priced at it.
func (m *Meter) SetUnitPrice(price int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.price = max(price, 0)
}

// SetSafetyLimits takes the safety-limit block (command
// set_safety_limits): maximum load and malignant-load start power in W
// (0 = off) and the trips allowed before the meter stays off. Writing the
// block is also a manager's restore: it clears the trip count and a
// lockout (not an operator's switch-off).
func (m *Meter) SetSafetyLimits(maxLoad, malignantStart, allowedTrips int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxLoad, m.malignantStart, m.allowedTrips = max(maxLoad, 0), max(malignantStart, 0), max(allowedTrips, 0)
	m.tripCount, m.lockedOut, m.safetyOpen, m.safetyBits = 0, false, false, 0
}

// Settings returns the setting blocks' registers, by setting name.
func (m *Meter) Settings() profile.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settingsLocked()
}

func (m *Meter) settingsLocked() profile.Values {
	v := profile.Values{"tariff_mode": m.tariffMode, "price_sharp": m.prices[Sharp], "price_peak": m.prices[Peak],
		"price_flat": m.prices[Flat], "price_valley": m.prices[Valley], "tier1_kwh": m.tiers[0], "tier2_kwh": m.tiers[1],
		"tier1_price": m.tierPrices[0], "tier2_price": m.tierPrices[1], "tier3_price": m.tierPrices[2],
		"month_energy": m.monthEnergy, "max_load": m.maxLoad, "malignant_start": m.malignantStart,
		"allowed_trips": m.allowedTrips, "trip_count": m.tripCount}
	for h, p := range m.schedule {
		v[fmt.Sprintf("tou_hour_%02d", h)] = int64(p)
	}
	return v
}

// trip opens the relay for a safety limit at simulated time at: for
// SafetyOffTime, or for good once the trips exceed the allowed count.
func (m *Meter) trip(at time.Time, bit uint16) {
	m.tripCount++
	m.safetyOpen, m.safetyBits = true, bit
	if m.tripCount > m.allowedTrips {
		m.lockedOut = true
		return
	}
	m.reclose = at.Add(SafetyOffTime)
}

// SetMode switches between prepaid, protect and forced off.
func (m *Meter) SetMode(mode uint16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mode > profile.ModeForcedOff {
		return fmt.Errorf("%w: mode %d", ErrInvalid, mode)
	}
	m.mode = mode
	m.settle()
	return nil
}

// SetDead makes the meter stop answering on the bus (a failed communication
// module or a cut RS-485 line) or answer again. A dead meter keeps metering;
// its gateway answers exception 0x0B for it, as a real gateway does when a
// unit is silent.
func (m *Meter) SetDead(dead bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead = dead
}

// Dead reports whether the meter is silent on the bus.
func (m *Meter) Dead() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dead
}

// SetLoad changes the power drawn while the relay is closed, in W (clamped
// to 0..MaxLoad).
func (m *Meter) SetLoad(watts int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	watts = min(max(watts, 0), MaxLoad)
	// A sudden step of at least the malignant-load start power (恶性负载,
	// e.g. a kettle on a dormitory line) trips a meter with that limit.
	if m.malignantStart > 0 && watts-m.load >= m.malignantStart && !m.relayOpen() {
		m.trip(m.last, profile.StatusMalignantTrip)
	}
	m.load = watts
}

// Advance runs the meter from simulated time at for d: energy is counted
// at the load power into the TOU register of each hour's period, and priced
// as it is counted. Sub-unit energy and sub-cent money carry over to the
// next call, so any split of the same span gives the same registers. In
// prepaid mode consumption stops the moment the money runs out.
func (m *Meter) Advance(at time.Time, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.valveClosed && m.flow > 0 && d > 0 {
		// Volume is measured, not priced: water and gas are billed
		// platform-side (主站费控) from the readings.
		total := m.volumeRem + m.flow*int64(d)
		m.volume += total / int64(time.Hour)
		m.volumeRem = total % int64(time.Hour)
	}
	if d > 0 && !m.relayOpen() && m.load > m.maxDemand {
		m.maxDemand, m.maxDemandAt = m.load, at // 最大需量: the load is constant between changes
	}
	end := at.Add(d)
	for d > 0 {
		if m.safetyOpen && !m.lockedOut {
			// A safety trip closes the relay again after SafetyOffTime.
			wait := m.reclose.Sub(at)
			if wait >= d {
				break
			}
			if wait > 0 {
				at, d = at.Add(wait), d-wait
			}
			m.safetyOpen, m.safetyBits = false, 0
		}
		if m.relayOpen() || m.load == 0 {
			break
		}
		if m.maxLoad > 0 && m.load > m.maxLoad {
			m.trip(at, profile.StatusOverloadTrip)
			continue
		}
		step := d
		// TOU boundaries fall on the hour (Truncate works on absolute time,
		// fine for zones with whole-hour offsets such as Asia/Shanghai).
		if toHour := at.Truncate(time.Hour).Add(time.Hour).Sub(at); toHour < step {
			step = toHour
		}
		period := m.schedule[at.Hour()]
		if month := at.Year()*12 + int(at.Month()); month != m.month {
			m.month, m.monthEnergy = month, 0 // tiers count the month's energy
		}
		price := m.price
		switch m.tariffMode {
		case TariffTOU:
			price = m.prices[period]
		case TariffTiered:
			// A step stops at the next tier threshold, so one price applies.
			tier := 2
			for i, top := range m.tiers {
				if m.monthEnergy < top {
					tier = i
					break
				}
			}
			price = m.tierPrices[tier]
			if tier < 2 {
				toNext := m.tiers[tier] - m.monthEnergy
				if upTo := time.Duration((toNext*wnsPerUnit - m.energyRem + m.load - 1) / m.load); upTo < step {
					step = upTo
				}
			}
		}
		step = m.consume(period, price, step)
		at, d = at.Add(step), d-step
		m.settle()
	}
	m.last = end
}

// consume counts energy for up to d and returns the time actually used,
// which is shorter when a prepaid meter's money runs out within d.
func (m *Meter) consume(p Period, price int64, d time.Duration) time.Duration {
	total := m.energyRem + m.load*int64(d) // MaxLoad × 1 h ≈ 1.2e17 fits int64
	units := total / wnsPerUnit
	used := d
	if m.mode == profile.ModePrepaid && price > 0 {
		// Units after which remaining ≤ 0: ceil(money left / price per unit).
		left := m.remaining*microPerCent - m.moneyRem
		if need := (left + price - 1) / price; need <= units {
			units = need
			// Time to measure exactly that many units, rounded up to whole
			// nanoseconds, so the trip happens at (not before) the last unit.
			used = time.Duration((units*wnsPerUnit - m.energyRem + m.load - 1) / m.load)
			total = m.energyRem + m.load*int64(used)
		}
	}
	m.energyRem = total - units*wnsPerUnit
	m.energy += units
	m.tou[p] += units
	m.monthEnergy += units
	m.moneyRem += units * price
	cents := m.moneyRem / microPerCent
	m.moneyRem -= cents * microPerCent
	m.remaining -= cents
	m.consumed += cents
	return used
}

// State returns the meter's registers.
func (m *Meter) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := State{
		Energy:              m.energy,
		TOU:                 m.tou,
		Voltage:             m.voltage,
		PowerFactor:         m.pf,
		Remaining:           m.remaining,
		PurchaseCount:       m.count,
		CumulativePurchased: m.cumulative,
		Relay:               profile.RelayClosed,
		Mode:                m.mode,
		Alarm1:              m.alarm1,
		Alarm2:              m.alarm2,
		UnitPrice:           m.price,
		SwitchedOff:         m.switchedOff,
		Consumed:            m.consumed,
		LastAdvance:         m.last,
		Volume:              m.volume,
		Valve:               profile.ValveOpen,
		CT:                  m.ct,
		PT:                  m.pt,
		MaxDemand:           m.maxDemand,
		MaxDemandAt:         m.maxDemandAt,
	}
	if m.valveClosed {
		s.Valve = profile.ValveClosed
	} else {
		s.Flow = m.flow
	}
	if m.relayOpen() {
		s.Relay = profile.RelayOpen
	} else {
		s.Power = m.load
		// I = P / (U × PF), in 0.01 A from W, 0.1 V and 0.001.
		s.Current = m.load * 1_000_000 / (m.voltage * m.pf)
	}
	if m.remaining <= m.alarm1 {
		s.Status |= profile.StatusAlarm1
	}
	if m.remaining <= m.alarm2 {
		s.Status |= profile.StatusAlarm2
	}
	if m.arrears && m.mode == profile.ModePrepaid {
		s.Status |= profile.StatusArrearsTrip
	}
	if m.safetyOpen && m.mode != profile.ModeProtect {
		s.Status |= m.safetyBits
	}
	return s
}

// value is the state's quantity called name, as the profile names it; 0 for
// a quantity the simulator does not keep.
func (s *State) value(name string) int64 {
	switch name {
	case profile.Energy:
		return s.Energy
	case profile.EnergySharp:
		return s.TOU[Sharp]
	case profile.EnergyPeak:
		return s.TOU[Peak]
	case profile.EnergyFlat:
		return s.TOU[Flat]
	case profile.EnergyValley:
		return s.TOU[Valley]
	case profile.Voltage:
		return s.Voltage
	case profile.Current:
		return s.Current
	case profile.Power:
		return s.Power
	case profile.PowerFactor:
		return s.PowerFactor
	case profile.Remaining:
		return s.Remaining
	case profile.PurchaseCount:
		return int64(s.PurchaseCount)
	case profile.CumulativePurchased:
		return s.CumulativePurchased
	case profile.Relay:
		return int64(s.Relay)
	case profile.Mode:
		return int64(s.Mode)
	case profile.Alarm1:
		return s.Alarm1
	case profile.Alarm2:
		return s.Alarm2
	case profile.UnitPrice:
		return s.UnitPrice
	case profile.Status:
		return int64(s.Status)
	case profile.Volume:
		return s.Volume // 0.001 m³; the gateway rescales to the profile's unit
	case profile.Flow:
		return s.Flow
	case profile.Valve:
		return int64(s.Valve)
	}
	return s.threePhase(name)
}

// Phase shares of the load (A, B, C) in percent and the offsets of the
// phase voltages from Voltage (0.1 V): a fixed, documented imbalance
// (devices/profile/ref-3phase-v1.md), so figures can be computed by hand.
var (
	phaseShare   = [3]int64{40, 35, 25}
	phaseVoltage = [3]int64{0, 10, -10}
)

// threePhase is a ref-3phase-v1 quantity of the state.
func (s *State) threePhase(name string) int64 {
	power := func(ph int) int64 { // W
		if ph == 2 {
			return s.Power - s.Power*phaseShare[0]/100 - s.Power*phaseShare[1]/100
		}
		return s.Power * phaseShare[ph] / 100
	}
	reactive := func(ph int) int64 { // var: Q = P·tan φ
		pf := float64(s.PowerFactor) / 1000
		return int64(math.Round(float64(power(ph)) * math.Sqrt(1-pf*pf) / pf))
	}
	current := func(ph int) int64 { // 0.01 A, as the single-phase register
		return power(ph) * 1_000_000 / ((s.Voltage + phaseVoltage[ph]) * s.PowerFactor)
	}
	switch name {
	case profile.VoltageA, profile.VoltageB, profile.VoltageC:
		return s.Voltage + phaseVoltage[int(name[len(name)-1]-'a')]
	case profile.CurrentA, profile.CurrentB, profile.CurrentC:
		return current(int(name[len(name)-1] - 'a'))
	case profile.ActivePowerA, profile.ActivePowerB, profile.ActivePowerC:
		return power(int(name[len(name)-1] - 'a'))
	case profile.ActivePowerTotal:
		return s.Power
	case profile.ReactivePowerA, profile.ReactivePowerB, profile.ReactivePowerC:
		return reactive(int(name[len(name)-1] - 'a'))
	case profile.ReactivePowerTotal:
		return reactive(0) + reactive(1) + reactive(2)
	case profile.PowerFactorA, profile.PowerFactorB, profile.PowerFactorC, profile.PowerFactorTotal:
		return s.PowerFactor
	case profile.CTRatio:
		return s.CT
	case profile.PTRatio:
		return s.PT
	case profile.MaxDemand:
		return s.MaxDemand
	case profile.MaxDemandTime:
		if s.MaxDemandAt.IsZero() {
			return 0
		}
		return s.MaxDemandAt.Unix()
	}
	return 0
}

// SetProfile gives the meter a register map of its own, served instead of
// its gateway's (a three-phase meter on a bus of single-phase ones).
func (m *Meter) SetProfile(p *profile.Profile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prof, m.blocks = p, p.Blocks()
}

// SetRatios sets the CT and PT ratios a three-phase meter shows (0: 1).
func (m *Meter) SetRatios(ct, pt int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ct, m.pt = max(ct, 1), max(pt, 1)
}

// profileOf is the meter's own register map, nil for the gateway's.
func (m *Meter) profileOf() (*profile.Profile, []profile.Block) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.prof, m.blocks
}

// SetValve opens or closes a water or gas meter's valve (开阀 / 关阀);
// flow stops while it is closed.
func (m *Meter) SetValve(open bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.valveClosed = !open
}

// SetFlow sets the draw while the valve is open, 0.001 m³/h.
func (m *Meter) SetFlow(litresPerHour int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flow = max(litresPerHour, 0)
}
