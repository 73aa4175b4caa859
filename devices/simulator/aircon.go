package simulator

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
)

// AirconController is a simulated central air-conditioning billing
// controller (中央空调计费控制器) on a real Modbus TCP socket, profile
// ref-aircon-v1: indoor unit (室内机) i answers as unit id i+1 with its
// cumulative run time, cumulative valve-open time, rated capacity and
// on/off state. Time only passes through Advance, so tests decide exactly
// how many minutes each indoor unit ran.
type AirconController struct {
	prof   *profile.Profile
	blocks []profile.Block

	mu    sync.Mutex // guards units
	units []IndoorUnit

	srv streamServer
}

// IndoorUnit is one indoor unit's state. Runtime and ValveOpen are kept
// exactly; the registers show whole minutes (truncated), as the controller
// would.
type IndoorUnit struct {
	CapacityCentiKW int64         // rated capacity, 0.01 kW (e.g. 560 = 5.60 kW)
	Running         bool          // switched on
	ValveDuty       int64         // ‰ of running time the unit's valve is open (0 means 1000)
	Runtime         time.Duration // cumulative run time
	ValveOpen       time.Duration // cumulative valve-open time
}

// NewAirconController puts indoor units behind a controller that will
// listen on addr ("127.0.0.1:0" for any free port).
func NewAirconController(addr string, units []IndoorUnit) (*AirconController, error) {
	if len(units) == 0 || len(units) > 247 {
		return nil, fmt.Errorf("simulator: %d indoor units, want 1..247", len(units))
	}
	p, err := profile.Load(profile.RefAirconV1)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	c := &AirconController{prof: p, blocks: p.Blocks(), units: slices.Clone(units)}
	c.srv = streamServer{addr: addr, serve: c.serveConn}
	return c, nil
}

// Start listens until Stop or until ctx is done.
func (c *AirconController) Start(ctx context.Context) error { return c.srv.Start(ctx) }

// Stop closes the listener and every connection.
func (c *AirconController) Stop() error { return c.srv.Stop() }

// Addr is the listen address (host:port).
func (c *AirconController) Addr() string { return c.srv.Addr() }

// URL is the address as the Modbus client takes it.
func (c *AirconController) URL() string { return "tcp://" + c.Addr() }

// Meters is the number of indoor units (unit ids 1..Meters()).
func (c *AirconController) Meters() int { return len(c.units) }

// Unit returns indoor unit u's state (unit id u, 1-based).
func (c *AirconController) Unit(u int) IndoorUnit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.units[u-1]
}

// SetRunning switches indoor unit u (unit id) on or off.
func (c *AirconController) SetRunning(u int, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.units[u-1].Running = on
}

// Advance lets d pass: every running indoor unit adds d to its run time
// and its duty's part of d to its valve-open time.
func (c *AirconController) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.units {
		u := &c.units[i]
		if !u.Running {
			continue
		}
		duty := u.ValveDuty
		if duty <= 0 || duty > 1000 {
			duty = 1000
		}
		u.Runtime += d
		u.ValveOpen += d * time.Duration(duty) / 1000
	}
}

func (u IndoorUnit) value(name string) int64 {
	switch name {
	case profile.AirconRuntime:
		return int64(u.Runtime / time.Minute)
	case profile.AirconValveOpen:
		return int64(u.ValveOpen / time.Minute)
	case profile.AirconCapacity:
		return u.CapacityCentiKW
	case profile.AirconRunning:
		if u.Running {
			return 1
		}
	}
	return 0
}

// serveConn answers Modbus TCP requests one at a time, in order.
func (c *AirconController) serveConn(conn net.Conn) {
	br := bufio.NewReader(conn)
	var head [7]byte
	for {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Minute))
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(head[4:])) - 1
		if binary.BigEndian.Uint16(head[2:]) != 0 || n < 1 || n > 253 {
			return // not Modbus TCP
		}
		pdu := make([]byte, n)
		if _, err := io.ReadFull(br, pdu); err != nil {
			return
		}
		resp := c.handle(head[6], pdu)
		out := make([]byte, 7, 7+len(resp))
		copy(out, head[:4])
		binary.BigEndian.PutUint16(out[4:], uint16(len(resp)+1))
		out[6] = head[6]
		if _, err := conn.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// handle answers one request PDU: reads of holding registers inside the
// profile's map, and the switch_on / switch_off writes.
func (c *AirconController) handle(unit uint8, pdu []byte) []byte {
	fn := pdu[0]
	exception := func(code uint8) []byte { return []byte{fn | 0x80, code} }
	if (fn != fnReadHolding && fn != fnWriteSingle) || len(pdu) != 5 {
		return exception(0x01)
	}
	addr, qty := binary.BigEndian.Uint16(pdu[1:]), binary.BigEndian.Uint16(pdu[3:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if unit == 0 || int(unit) > len(c.units) {
		return exception(0x0B) // nothing on the bus answers
	}
	u := &c.units[unit-1]
	if fn == fnWriteSingle {
		name, _, err := c.prof.DecodeCommand(addr, []uint16{qty})
		switch {
		case errors.Is(err, profile.ErrNoCommand):
			return exception(0x02)
		case err != nil:
			return exception(0x03)
		}
		u.Running = name == profile.CmdSwitchOn
		return slices.Clone(pdu)
	}
	if qty == 0 || qty > profile.MaxReadWords || !c.mapped(addr, qty) {
		return exception(0x02)
	}
	regs, err := c.prof.EncodeBlockFunc(u.value, addr, int(qty))
	if err != nil {
		return exception(0x04)
	}
	resp := []byte{fn, byte(2 * len(regs))}
	for _, r := range regs {
		resp = binary.BigEndian.AppendUint16(resp, r)
	}
	return resp
}

func (c *AirconController) mapped(addr, n uint16) bool {
	end := uint32(addr) + uint32(n)
	for _, b := range c.blocks {
		if uint32(addr) >= uint32(b.Address) && end <= uint32(b.Address)+uint32(b.Words) {
			return true
		}
	}
	return false
}

// DemoIndoorUnits is n indoor units of assorted sizes (2.80 kW up) and
// valve duties, every other one switched on, for `voltflow sim aircon`.
func DemoIndoorUnits(n int) []IndoorUnit {
	out := make([]IndoorUnit, n)
	for i := range out {
		out[i] = IndoorUnit{CapacityCentiKW: 280 + 90*int64(i%8), ValveDuty: 600 + 50*int64(i%8), Running: i%2 == 0}
	}
	return out
}

// RunAircon serves a controller on addr with units and advances its clock
// by tick×speed every real tick until ctx is done, then stops it. It is
// the body of `voltflow sim aircon`.
func RunAircon(ctx context.Context, addr string, units []IndoorUnit, speed float64, tick time.Duration) error {
	if tick <= 0 || speed < 0 {
		return fmt.Errorf("simulator: tick %v, speed %v: out of range", tick, speed)
	}
	c, err := NewAirconController(addr, units)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	step := time.Duration(float64(tick) * speed)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return c.Stop()
		case <-t.C:
			c.Advance(step)
		}
	}
}
