package chargersim

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// Physics of the 480 kW split charger: a plugged-in vehicle (Plug/PlugIn)
// charges on its own once its session runs. Every Tick the charge point
// gives each charging connector the lowest of its charging-profile limit
// (TxProfile over TxDefaultProfile, highest stack level; none: the
// connector's nameplate) and what the vehicle accepts at its SOC (full
// power, tapering above TaperSOC, nothing when full); when the sum exceeds
// the cabinet (or a ChargePointMaxProfile) the cabinet shares it in
// proportion. Energy raises the register and the SOC on the battery's
// capacity, and MeterValues carry power and SOC. The clock is accelerated
// by Config.TimeFactor so a night passes in a test's minute.

// volts converts ampere limits to watts (a DC bus at 750 V).
const volts = 750

// Vehicle is a battery plugged into a connector.
type Vehicle struct {
	SOC         float64 // percent at plug-in
	CapacityKWh float64
	MaxKW       float64 // the vehicle's maximum charging power
	TaperSOC    float64 // power tapers linearly above this SOC; default 80
}

// AcceptW is what the vehicle takes at soc: full power up to TaperSOC, then
// linearly less (at least a tenth) until it is full.
func (v Vehicle) AcceptW(soc float64) float64 {
	if soc >= 100 {
		return 0
	}
	taper := v.TaperSOC
	if taper <= 0 || taper >= 100 {
		taper = 80
	}
	w := v.MaxKW * 1000
	if soc > taper {
		w *= math.Max((100-soc)/(100-taper), 0.1)
	}
	return w
}

// Sample is the physics state after a tick: sim time and power per connector.
type Sample struct {
	At      time.Time
	PowerW  map[int]float64
	SOC     map[int]float64
	TotalW  float64
	LimitsW map[int]float64 // the profile limit in force per charging connector
}

// profile is an installed charging profile.
type profile struct {
	connector int
	received  time.Time // sim time
	p         *types.ChargingProfile
}

// limitAt is the profile's limit in W at sim time t, or false when not valid then.
func (p profile) limitAt(t time.Time) (float64, bool) {
	if p.p.ValidFrom != nil && t.Before(p.p.ValidFrom.Time) {
		return 0, false
	}
	if p.p.ValidTo != nil && !t.Before(p.p.ValidTo.Time) {
		return 0, false
	}
	s := p.p.ChargingSchedule
	if s == nil || len(s.ChargingSchedulePeriod) == 0 {
		return 0, false
	}
	start := p.received
	if s.StartSchedule != nil {
		start = s.StartSchedule.Time
	}
	elapsed := t.Sub(start)
	if s.Duration != nil && elapsed >= time.Duration(*s.Duration)*time.Second {
		return 0, false
	}
	limit, ok := 0.0, false
	for _, per := range s.ChargingSchedulePeriod {
		if time.Duration(per.StartPeriod)*time.Second <= elapsed || !ok {
			limit, ok = per.Limit, true
		}
	}
	if s.ChargingRateUnit == types.ChargingRateUnitAmperes {
		limit *= volts
	}
	return limit, ok
}

// profiles is a charge point's installed profiles.
type profiles []profile

// set installs p, replacing one with the same id (OCPP 1.6: same id, or the
// same purpose and stack level on the connector).
func (ps profiles) set(connector int, p *types.ChargingProfile, now time.Time) profiles {
	out := ps[:0:0]
	for _, x := range ps {
		same := x.p.ChargingProfileId == p.ChargingProfileId ||
			(x.connector == connector && x.p.ChargingProfilePurpose == p.ChargingProfilePurpose && x.p.StackLevel == p.StackLevel)
		if !same {
			out = append(out, x)
		}
	}
	return append(out, profile{connector: connector, received: now, p: p})
}

// clear removes the profiles matching every given criterion; it reports
// whether any matched.
func (ps profiles) clear(r *smartcharging.ClearChargingProfileRequest) (profiles, bool) {
	out, hit := ps[:0:0], false
	for _, x := range ps {
		match := (r.Id == nil || *r.Id == x.p.ChargingProfileId) &&
			(r.ConnectorId == nil || *r.ConnectorId == x.connector) &&
			(r.ChargingProfilePurpose == "" || r.ChargingProfilePurpose == x.p.ChargingProfilePurpose) &&
			(r.StackLevel == nil || *r.StackLevel == x.p.StackLevel)
		if match {
			hit = true
			continue
		}
		out = append(out, x)
	}
	return out, hit
}

// dropTx removes the TxProfiles of a connector (its transaction ended).
func (ps profiles) dropTx(connector int) profiles {
	out := ps[:0:0]
	for _, x := range ps {
		if !(x.connector == connector && x.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile) {
			out = append(out, x)
		}
	}
	return out
}

// limitW is the limit on a connector running transaction txID at t: the
// highest-stack valid TxProfile for it, else the highest-stack TxDefault
// profile of the connector, else of connector 0; ok=false: no limit.
func (ps profiles) limitW(connector, txID int, t time.Time) (float64, bool) {
	pick := func(match func(profile) bool) (float64, bool) {
		best, level, ok := 0.0, -1, false
		for _, x := range ps {
			if !match(x) || x.p.StackLevel < level {
				continue
			}
			if w, valid := x.limitAt(t); valid {
				best, level, ok = w, x.p.StackLevel, true
			}
		}
		return best, ok
	}
	if w, ok := pick(func(x profile) bool {
		return x.connector == connector && x.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxProfile &&
			(x.p.TransactionId == 0 || x.p.TransactionId == txID)
	}); ok {
		return w, true
	}
	if w, ok := pick(func(x profile) bool {
		return x.connector == connector && x.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxDefaultProfile
	}); ok {
		return w, true
	}
	return pick(func(x profile) bool {
		return x.connector == 0 && x.p.ChargingProfilePurpose == types.ChargingProfilePurposeTxDefaultProfile
	})
}

// cabinetW is the cabinet limit: the nameplate, lowered by a ChargePointMaxProfile.
func (ps profiles) cabinetW(nameplate float64, t time.Time) float64 {
	best, level := nameplate, -1
	for _, x := range ps {
		if x.p.ChargingProfilePurpose != types.ChargingProfilePurposeChargePointMaxProfile || x.p.StackLevel < level {
			continue
		}
		if w, ok := x.limitAt(t); ok {
			best, level = math.Min(w, nameplate), x.p.StackLevel
		}
	}
	return best
}

// Share divides a cabinet's power: each connector gets what it asks for,
// scaled down in proportion when the sum exceeds the cabinet.
func Share(askW map[int]float64, cabinetW float64) map[int]float64 {
	var sum float64
	for _, w := range askW {
		sum += w
	}
	scale := 1.0
	if sum > cabinetW && sum > 0 {
		scale = cabinetW / sum
	}
	out := make(map[int]float64, len(askW))
	for c, w := range askW {
		out[c] = math.Floor(w*scale*10) / 10 // never round up over the cabinet
	}
	return out
}

// Now is the charge point's (accelerated) clock.
func (c *ChargePoint) Now() time.Time { return c.SimAt(time.Now()) }

// SimAt is the charge point's clock at a real instant (e.g. a Command's At).
func (c *ChargePoint) SimAt(real time.Time) time.Time {
	return c.epoch.Add(time.Duration(float64(real.Sub(c.realStart)) * c.cfg.TimeFactor))
}

// Plug plugs a vehicle into a connector without starting a session (a bus
// parked for the night, waiting for a remote start). The next session on
// the connector charges it.
func (c *ChargePoint) Plug(connector int, v Vehicle) error {
	if connector < 1 || connector > c.cfg.Connectors || v.CapacityKWh <= 0 {
		return fmt.Errorf("charge point %s: plug connector %d capacity %v kWh: invalid", c.id, connector, v.CapacityKWh)
	}
	c.mu.Lock()
	c.vehicles[connector] = &plugged{Vehicle: v, soc: v.SOC}
	c.mu.Unlock()
	c.startPhysics()
	return c.Status(connector, core.ChargePointStatusPreparing)
}

// PlugIn plugs a vehicle in and starts a session for idTag at once.
func (c *ChargePoint) PlugIn(connector int, idTag string, v Vehicle) (*Session, error) {
	if err := c.Plug(connector, v); err != nil {
		return nil, err
	}
	return c.StartSession(connector, idTag)
}

// Unplug ends the connector's session (EVDisconnected) if one runs and
// removes the vehicle.
func (c *ChargePoint) Unplug(connector int) error {
	if s := c.Session(connector); s != nil {
		if err := s.Stop(core.ReasonEVDisconnected); err != nil {
			return err
		}
	}
	c.mu.Lock()
	delete(c.vehicles, connector)
	c.mu.Unlock()
	return c.Status(connector, core.ChargePointStatusAvailable)
}

// VehicleSOC is the plugged vehicle's SOC (false: none plugged).
func (c *ChargePoint) VehicleSOC(connector int) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.vehicles[connector]
	if v == nil {
		return 0, false
	}
	return v.soc, true
}

// Trace is every physics sample so far, oldest first.
func (c *ChargePoint) Trace() []Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sample(nil), c.trace...)
}

// LimitW is the profile limit in force on a connector now (false: none, nameplate applies).
func (c *ChargePoint) LimitW(connector int) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx := 0
	if s := c.sessions[connector]; s != nil {
		tx = s.TransactionID
	}
	return c.profiles.limitW(connector, tx, c.Now())
}

// plugged is a vehicle on a connector with its running SOC.
type plugged struct {
	Vehicle
	soc float64
}

func (c *ChargePoint) startPhysics() {
	c.physicsOnce.Do(func() {
		c.wg.Add(1)
		go c.physics()
	})
}

func (c *ChargePoint) physics() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Tick)
	defer t.Stop()
	last := c.Now()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		now := c.Now()
		c.step(now, now.Sub(last))
		last = now
	}
}

type reading struct {
	s      *Session
	wh     int
	powerW float64
	soc    float64
}

// step advances the physics by dt (sim time) and sends the meter values.
func (c *ChargePoint) step(now time.Time, dt time.Duration) {
	c.mu.Lock()
	ask := map[int]float64{}
	limits := map[int]float64{}
	for conn, s := range c.sessions {
		v := c.vehicles[conn]
		if v == nil {
			continue
		}
		w := math.Min(c.cfg.ConnectorW, v.AcceptW(v.soc))
		if l, ok := c.profiles.limitW(conn, s.TransactionID, now); ok {
			limits[conn] = l
			w = math.Min(w, l)
		}
		ask[conn] = math.Max(w, 0)
	}
	got := Share(ask, c.profiles.cabinetW(c.cfg.CabinetW, now))
	sample := Sample{At: now, PowerW: got, SOC: map[int]float64{}, LimitsW: limits}
	var out []reading
	conns := make([]int, 0, len(got))
	for conn := range got {
		conns = append(conns, conn)
	}
	sort.Ints(conns)
	for _, conn := range conns {
		w, v, s := got[conn], c.vehicles[conn], c.sessions[conn]
		kwh := w / 1000 * dt.Hours()
		kwh = math.Min(kwh, (100-v.soc)/100*v.CapacityKWh)
		v.soc = math.Min(100, v.soc+kwh/v.CapacityKWh*100)
		c.frac[conn] += kwh * 1000
		whole := int(c.frac[conn])
		c.frac[conn] -= float64(whole)
		c.meterWh[conn] += whole
		s.SOC = int(v.soc)
		sample.TotalW += w
		sample.SOC[conn] = v.soc
		out = append(out, reading{s: s, wh: c.meterWh[conn], powerW: w, soc: v.soc})
	}
	c.trace = append(c.trace, sample)
	c.mu.Unlock()
	for _, r := range out {
		mv := meterValueAt(now, r.wh, r.powerW, int(r.soc))
		tx := r.s.TransactionID
		if _, err := c.cp.MeterValues(r.s.Connector, []types.MeterValue{mv}, func(m *core.MeterValuesRequest) {
			m.TransactionId = &tx
		}); err != nil {
			c.cfg.Log.Debug("chargersim: meter values", "chargePoint", c.id, "error", err)
		}
	}
}
