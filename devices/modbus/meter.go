package modbus

import (
	"context"
	"fmt"

	mb "github.com/simonvetter/modbus"

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

// ReadMeter reads every quantity of the profile with one request per
// profile block (two for ref-prepaid-v1), holding the connection between
// them so the blocks are read back to back.
func (g *Gateway) ReadMeter(ctx context.Context, unit uint8) (Snapshot, error) {
	c, err := g.acquire(ctx, unit)
	if err != nil {
		return Snapshot{}, err
	}
	defer c.release()

	values, err := c.readBlocks()
	if err != nil && c.broken && c.reused {
		// The gateway may have dropped a connection we left idle without us
		// noticing. A read is safe to repeat, so try once on a fresh one.
		c.broken, c.reused = false, false
		if err = c.connect(); err == nil {
			values, err = c.readBlocks()
		}
	}
	if err != nil {
		return Snapshot{}, err
	}

	s := Snapshot{Unit: unit, Values: values}
	for _, f := range snapshotFields {
		q, ok := g.prof.Quantity(f.name)
		if !ok {
			continue
		}
		f.set(&s, rescale(values[f.name], q.Scale.Exp(), f.exp))
	}
	return s, nil
}

// readBlocks reads and decodes every block of the profile.
func (c *conn) readBlocks() (profile.Values, error) {
	values := profile.Values{}
	for _, b := range c.g.prof.Blocks() {
		var regs []uint16
		op := fmt.Sprintf("read 0x%04X+%d", b.Address, b.Words)
		err := c.call(op, func(m *mb.ModbusClient) (err error) {
			regs, err = m.ReadRegisters(b.Address, b.Words, mb.HOLDING_REGISTER)
			return err
		})
		if err != nil {
			return nil, err
		}
		for k, v := range c.g.prof.Decode(b.Address, regs) {
			values[k] = v
		}
	}
	return values, nil
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
	return c.call(name, func(m *mb.ModbusClient) error {
		if len(regs) == 1 {
			return m.WriteRegister(addr, regs[0])
		}
		return m.WriteRegisters(addr, regs)
	})
}
