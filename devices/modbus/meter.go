package modbus

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/voltflow/voltflow/devices/profile"
)

// Snapshot is one reading of a meter in fixed register units, whatever the
// profile's own scale (a profile with a coarser unit is scaled up exactly, a
// finer one is truncated). Quantities the profile lacks read as zero.
type Snapshot struct {
	Unit uint8

	Energy       int64 // total forward active energy, 0.01 kWh
	EnergySharp  int64 // 尖, 0.01 kWh
	EnergyPeak   int64 // 峰, 0.01 kWh
	EnergyFlat   int64 // 平, 0.01 kWh
	EnergyValley int64 // 谷, 0.01 kWh

	Voltage     int64 // 0.1 V
	Current     int64 // 0.01 A
	Power       int64 // 0.001 kW, negative when exporting
	PowerFactor int64 // 0.001

	Remaining           int64  // 剩余金额, 0.01 yuan, negative = overdraft
	PurchaseCount       uint16 // 购电次数; the next recharge must carry PurchaseCount+1
	CumulativePurchased int64  // 0.01 yuan
	Relay               uint16 // profile.RelayClosed or profile.RelayOpen
	Mode                uint16 // profile.ModePrepaid, ModeProtect or ModeForcedOff
	Alarm1              int64  // 0.01 yuan
	Alarm2              int64  // 0.01 yuan
	UnitPrice           int64  // 0.0001 yuan/kWh
	Status              uint16 // profile.Status* bits

	// Values holds every quantity as the profile reports it, unscaled,
	// including ones without a field above.
	Values profile.Values

	// Params are the electrical parameters of a meter whose profile has
	// them (three-phase); nil otherwise, so single-phase reads cost nothing.
	Params *Params
}

// snapshotFields says where each named quantity lands and in which decimal
// exponent the field is kept.
var snapshotFields = []struct {
	name string
	exp  int32
	set  func(*Snapshot, int64)
}{
	{profile.Energy, -2, func(s *Snapshot, v int64) { s.Energy = v }},
	{profile.EnergySharp, -2, func(s *Snapshot, v int64) { s.EnergySharp = v }},
	{profile.EnergyPeak, -2, func(s *Snapshot, v int64) { s.EnergyPeak = v }},
	{profile.EnergyFlat, -2, func(s *Snapshot, v int64) { s.EnergyFlat = v }},
	{profile.EnergyValley, -2, func(s *Snapshot, v int64) { s.EnergyValley = v }},
	{profile.Voltage, -1, func(s *Snapshot, v int64) { s.Voltage = v }},
	{profile.Current, -2, func(s *Snapshot, v int64) { s.Current = v }},
	{profile.Power, -3, func(s *Snapshot, v int64) { s.Power = v }},
	{profile.PowerFactor, -3, func(s *Snapshot, v int64) { s.PowerFactor = v }},
	{profile.Remaining, -2, func(s *Snapshot, v int64) { s.Remaining = v }},
	{profile.PurchaseCount, 0, func(s *Snapshot, v int64) { s.PurchaseCount = uint16(v) }},
	{profile.CumulativePurchased, -2, func(s *Snapshot, v int64) { s.CumulativePurchased = v }},
	{profile.Relay, 0, func(s *Snapshot, v int64) { s.Relay = uint16(v) }},
	{profile.Mode, 0, func(s *Snapshot, v int64) { s.Mode = uint16(v) }},
	{profile.Alarm1, -2, func(s *Snapshot, v int64) { s.Alarm1 = v }},
	{profile.Alarm2, -2, func(s *Snapshot, v int64) { s.Alarm2 = v }},
	{profile.UnitPrice, -4, func(s *Snapshot, v int64) { s.UnitPrice = v }},
	{profile.Status, 0, func(s *Snapshot, v int64) { s.Status = uint16(v) }},
}

// readField is where one Snapshot field comes from: a quantity inside one
// of the profile's read blocks.
type readField struct {
	block, off int
	q          profile.Quantity
	exp        int32
	set        func(*Snapshot, int64)
}

// planReads locates every Snapshot field of the profile in its blocks once,
// so decoding a meter is a walk over a slice, not a map per meter.
func planReads(p *profile.Profile) []readField {
	var out []readField
	blocks := p.Blocks()
	for _, f := range snapshotFields {
		q, ok := p.Quantity(f.name)
		if !ok {
			continue
		}
		for i, b := range blocks {
			if q.Address >= profile.Word(b.Address) && int(q.Address)+q.Words <= int(b.Address)+int(b.Words) {
				out = append(out, readField{block: i, off: int(q.Address) - int(b.Address), q: q, exp: f.exp, set: f.set})
				break
			}
		}
	}
	return out
}

// ReadMeter reads every quantity of the profile with one request per
// profile block (two for ref-prepaid-v1), sent together, and fills
// Snapshot.Values too.
func (g *Gateway) ReadMeter(ctx context.Context, unit uint8) (Snapshot, error) {
	r := g.readMeters(ctx, []uint8{unit}, true)[0]
	return r.Snapshot, r.Err
}

// MeterResult is one meter's outcome in ReadMeters.
type MeterResult struct {
	Snapshot
	Err error
}

// ReadMeters reads the meters one after the other, as ReadMeter would, but
// with up to Config.MaxInFlight requests on the wire at once (Modbus TCP).
// The connection is taken for a window of meters at a time, so commands
// queued meanwhile are not held up by a whole gateway's read. A meter that
// times out fails alone: the connection is reopened for the next one. The
// snapshots leave Values nil: only the fields are decoded.
func (g *Gateway) ReadMeters(ctx context.Context, units []uint8) []MeterResult {
	return g.readMeters(ctx, units, false)
}

func (g *Gateway) readMeters(ctx context.Context, units []uint8, values bool) []MeterResult {
	out := make([]MeterResult, len(units))
	blocks := g.blocks
	if len(blocks) == 0 { // a profile without quantities: nothing to ask
		for i, u := range units {
			out[i].Unit = u
		}
		return out
	}
	per := len(blocks)
	window := max(int(g.window.Load())/per, 1)
	reqs := make([]request, 0, window*per)
	answers := make([]answer, window*per)
	for i := 0; i < len(units); {
		c, err := g.acquire(ctx, units[i])
		if err != nil {
			if errors.Is(err, ErrBadUnit) {
				out[i].Err = err
				i++
				continue
			}
			for ; i < len(units); i++ {
				out[i].Err = err
			}
			return out
		}
		// The window: up to window meters with valid units, in order.
		reqs = reqs[:0]
		n := 0
		for ; n < window && i+n < len(units); n++ {
			u := units[i+n]
			if u == 0 || u > 247 {
				break
			}
			for _, b := range blocks {
				reqs = append(reqs, request{unit: u, fn: fnReadHolding, addr: b.Address, words: b.Words})
			}
		}
		got, err := c.exchange(reqs, answers)
		if err != nil && c.reused && got == 0 {
			// The gateway may have dropped a connection we left idle without
			// us noticing. A read is safe to repeat, so try once on a fresh one.
			c.broken, c.reused = false, false
			if err = c.connect(); err == nil {
				got, err = c.exchange(reqs, answers)
			}
		}
		c.release()
		done := got / per // meters with every block answered
		for k := range done {
			out[i+k] = g.decode(units[i+k], answers[k*per:(k+1)*per], values)
		}
		i += done
		if err != nil {
			out[i].Err = err // the meter whose answer did not come
			i++
		}
	}
	return out
}

// decode turns a meter's block answers into its snapshot; an exception
// answer to any block is the meter's error.
func (g *Gateway) decode(unit uint8, answers []answer, values bool) MeterResult {
	blocks := g.blocks
	for k, a := range answers {
		if a.err != nil {
			r := request{unit: unit, fn: fnReadHolding, addr: blocks[k].Address, words: blocks[k].Words}
			return MeterResult{Err: fmt.Errorf("modbus %s unit %d: %s: %w", g.url, unit, r.describe(), a.err)}
		}
	}
	s := Snapshot{Unit: unit}
	for _, f := range g.reads {
		words := answers[f.block].regs[f.off : f.off+f.q.Words]
		f.set(&s, rescale(g.prof.DecodeQuantity(f.q, words), f.q.Scale.Exp(), f.exp))
	}
	if len(g.params) > 0 {
		s.Params = g.decodeParams(answers)
	}
	if values {
		s.Values = profile.Values{}
		for k, b := range blocks {
			maps.Copy(s.Values, g.prof.Decode(b.Address, answers[k].regs))
		}
	}
	return MeterResult{Snapshot: s}
}

// rescale converts v from 10^from units to 10^to units.
func rescale(v int64, from, to int32) int64 {
	for ; from > to; from-- {
		v *= 10
	}
	for ; from < to; from++ {
		v /= 10
	}
	return v
}

// Recharge (充值) credits amountCents (0.01 yuan) to the meter. The meter
// takes it only if expectedCounter is its purchase counter + 1, so sending
// the same recharge twice credits once: the second attempt is ErrRefused.
func (g *Gateway) Recharge(ctx context.Context, unit uint8, expectedCounter uint16, amountCents uint32) error {
	return g.command(ctx, unit, profile.CmdRecharge, profile.Values{
		profile.FieldCounter: int64(expectedCounter),
		profile.FieldAmount:  int64(amountCents),
	})
}

// Refund (退费) takes amountCents back from the meter's remaining money,
// under the same counter rule as Recharge; the meter refuses a refund larger
// than what remains.
func (g *Gateway) Refund(ctx context.Context, unit uint8, expectedCounter uint16, amountCents uint32) error {
	return g.command(ctx, unit, profile.CmdRefund, profile.Values{
		profile.FieldCounter: int64(expectedCounter),
		profile.FieldAmount:  int64(amountCents),
	})
}

// SwitchOff (拉闸) opens the relay by command.
func (g *Gateway) SwitchOff(ctx context.Context, unit uint8) error {
	return g.command(ctx, unit, profile.CmdSwitchOff, nil)
}

// SwitchOn (合闸) withdraws a switch-off command. The relay stays open if
// the meter has also tripped for arrears or is forced off.
func (g *Gateway) SwitchOn(ctx context.Context, unit uint8) error {
	return g.command(ctx, unit, profile.CmdSwitchOn, nil)
}

// SetMode sets profile.ModePrepaid, ModeProtect (保电) or ModeForcedOff.
func (g *Gateway) SetMode(ctx context.Context, unit uint8, mode uint16) error {
	return g.command(ctx, unit, profile.CmdSetMode, profile.Values{profile.FieldMode: int64(mode)})
}

// ClearRemaining sets the meter's remaining money to zero.
func (g *Gateway) ClearRemaining(ctx context.Context, unit uint8) error {
	return g.command(ctx, unit, profile.CmdClearRemaining, nil)
}

// ValveClose (关阀) shuts a water or gas meter's valve.
func (g *Gateway) ValveClose(ctx context.Context, unit uint8) error {
	return g.command(ctx, unit, profile.CmdValveClose, nil)
}

// ValveOpen (开阀) opens a water or gas meter's valve.
func (g *Gateway) ValveOpen(ctx context.Context, unit uint8) error {
	return g.command(ctx, unit, profile.CmdValveOpen, nil)
}

// WriteCommand writes any command of the profile with its args (a setting
// block such as set_tariff).
func (g *Gateway) WriteCommand(ctx context.Context, unit uint8, name string, args profile.Values) error {
	return g.command(ctx, unit, name, args)
}

// ReadSettings reads the profile's setting blocks (prices, safety limits),
// one request each; a profile without settings reads nothing.
func (g *Gateway) ReadSettings(ctx context.Context, unit uint8) (profile.Values, error) {
	out := profile.Values{}
	for _, b := range g.prof.SettingBlocks() {
		regs, err := g.ReadRegisters(ctx, unit, b.Address, b.Words)
		if err != nil {
			return nil, err
		}
		for k, v := range g.prof.Decode(b.Address, regs) {
			out[k] = v
		}
	}
	return out, nil
}

// ReadRegisters reads n holding registers from addr (function 03).
func (g *Gateway) ReadRegisters(ctx context.Context, unit uint8, addr, n uint16) ([]uint16, error) {
	c, err := g.acquire(ctx, unit)
	if err != nil {
		return nil, err
	}
	defer c.release()
	a, err := c.call(request{unit: unit, fn: fnReadHolding, addr: addr, words: n})
	if err != nil {
		return nil, err
	}
	return a.regs, nil
}

// command writes a profile command: one register with function 06, more
// with function 16.
func (g *Gateway) command(ctx context.Context, unit uint8, name string, args profile.Values) error {
	addr, regs, err := g.prof.EncodeCommand(name, args)
	if err != nil {
		return fmt.Errorf("modbus %s unit %d: %w", g.url, unit, err)
	}
	c, err := g.acquire(ctx, unit)
	if err != nil {
		return err
	}
	defer c.release()
	r := request{unit: unit, fn: fnWriteMultiple, addr: addr, regs: regs}
	if len(regs) == 1 {
		r.fn = fnWriteSingle
	}
	if _, err := c.call(r); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
