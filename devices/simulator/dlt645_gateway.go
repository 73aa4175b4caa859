package simulator

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/voltflow/voltflow/devices/dlt645"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/clock"
)

// DLTAuth is what a simulated DL/T 645 meter accepts for remote control
// (0x1C): the password (level and code) and the operator code.
type DLTAuth struct {
	Password dlt645.Password
	Operator uint32
}

// DefaultDLTAuth is the simulators' remote-control credentials: level 02,
// password 123456, operator 00000001.
var DefaultDLTAuth = DLTAuth{Password: dlt645.Password{Level: 0x02, Code: 0x123456}, Operator: 1}

// DLTGateway is a simulated TCP gateway to DL/T 645-2007 meters on an RS-485
// bus. Meter unit u (1..N) has the address Base+u as twelve BCD digits, so
// with Base 0 unit 1 is 000000000001. The meters are the same simulated
// prepaid meters as behind Gateway; they answer reads (0x11) of the
// identifiers in docs/meters.md and remote control (0x1C).
//
// As on a real bus, a frame for an address nobody has, a dead meter, a
// broadcast or a garbled frame gets no answer.
type DLTGateway struct {
	meters  []*Meter
	addrs   map[dlt645.Address]*Meter
	base    uint64
	auth    DLTAuth
	latency time.Duration
	clock   clock.Clock
	streamServer
	bus chan struct{} // one request on the bus at a time, across connections
}

// NewDLTGateway puts meters behind a DL/T 645 gateway listening on addr.
// base+len(meters) must fit in twelve digits.
func NewDLTGateway(addr string, base uint64, auth DLTAuth, meters []*Meter) (*DLTGateway, error) {
	if base+uint64(len(meters)) > 999_999_999_999 {
		return nil, fmt.Errorf("simulator dlt645 gateway %s: base %d with %d meters exceeds 12 digits", addr, base, len(meters))
	}
	g := &DLTGateway{meters: meters, addrs: map[dlt645.Address]*Meter{}, base: base, auth: auth,
		bus: make(chan struct{}, 1)}
	for i, m := range meters {
		g.addrs[g.MeterAddress(uint8(i+1))] = m
	}
	g.streamServer = streamServer{addr: addr, serve: g.serveConn}
	return g, nil
}

// MeterAddress is the DL/T 645 address of unit u.
func (g *DLTGateway) MeterAddress(unit uint8) dlt645.Address {
	a, _ := dlt645.ParseAddress(fmt.Sprintf("%012d", g.base+uint64(unit))) // digits only: cannot fail
	return a
}

// SetLatency sets the per-request bus time; call it before Start.
func (g *DLTGateway) SetLatency(d time.Duration) { g.latency = d }

// URL names the gateway.
func (g *DLTGateway) URL() string { return "dlt645://" + g.Addr() }

// Meter returns unit u's meter, or nil.
func (g *DLTGateway) Meter(unit uint8) *Meter {
	if unit == 0 || int(unit) > len(g.meters) {
		return nil
	}
	return g.meters[unit-1]
}

// Meters is the number of meters.
func (g *DLTGateway) Meters() int { return len(g.meters) }

func (g *DLTGateway) serveConn(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute))
		f, err := dlt645.ReadFrame(br)
		switch {
		case err == nil:
		case errors.Is(err, dlt645.ErrBadChecksum), errors.Is(err, dlt645.ErrBadStart), errors.Is(err, dlt645.ErrBadEnd):
			continue // noise on the line: skip, as a meter does, and look for the next frame
		default:
			return
		}
		resp, ok := g.handle(f)
		if !ok {
			continue
		}
		wire, err := dlt645.EncodeWithPreamble(resp)
		if err != nil {
			return
		}
		if _, err := c.Write(wire); err != nil {
			return
		}
	}
}

// handle answers one request; false means silence.
func (g *DLTGateway) handle(f dlt645.Frame) (dlt645.Frame, bool) {
	if f.Control.IsResponse() {
		return dlt645.Frame{}, false
	}
	m := g.addrs[f.Address]
	if m == nil || m.Dead() {
		return dlt645.Frame{}, false
	}
	g.bus <- struct{}{}
	defer func() { <-g.bus }()
	if g.latency > 0 {
		time.Sleep(g.latency)
	}
	switch f.Control {
	case dlt645.CtrlRead:
		return g.read(f, m), true
	case dlt645.CtrlRemoteControl:
		return g.control(f, m), true
	}
	return dlt645.ErrorResponse(f.Address, f.Control, dlt645.CodeOther), true
}

func (g *DLTGateway) read(f dlt645.Frame, m *Meter) dlt645.Frame {
	noData := dlt645.ErrorResponse(f.Address, f.Control, dlt645.CodeNoData)
	if len(f.Data) != 4 {
		return noData
	}
	id := dlt645.DataID(f.Data[0]) | dlt645.DataID(f.Data[1])<<8 | dlt645.DataID(f.Data[2])<<16 | dlt645.DataID(f.Data[3])<<24
	it, ok := dlt645.Lookup(id)
	if !ok {
		return noData
	}
	v, ok := dltValue(m.State(), id)
	if !ok {
		return noData
	}
	resp, err := dlt645.ReadResponse(f.Address, it, v)
	if err != nil {
		return dlt645.ErrorResponse(f.Address, f.Control, dlt645.CodeOther)
	}
	return resp
}

// dltValue converts the meter's register units to the identifier's unit.
func dltValue(s State, id dlt645.DataID) (int64, bool) {
	switch id {
	case dlt645.DIForwardActiveEnergyTotal:
		return s.Energy, true // 0.01 kWh both
	case dlt645.DIVoltageA:
		return s.Voltage, true // 0.1 V both
	case dlt645.DICurrentA:
		return s.Current * 10, true // 0.01 A → 0.001 A
	case dlt645.DIActivePowerTotal:
		return s.Power * 10, true // W = 0.001 kW → 0.0001 kW
	case dlt645.DIRemainingMoney:
		// The item is unsigned; overdraft has an identifier of its own
		// (00 90 02 01) that we do not serve, so a negative balance reads 0.
		return max(s.Remaining, 0), true
	case dlt645.DIPurchaseCount:
		return int64(s.PurchaseCount), true
	case dlt645.DIRunStatus3:
		v := int64(0b10 << 8) // bits 8–9: 电费型预付费表, a money-type prepaid meter
		if s.Relay == profile.RelayOpen {
			v |= dlt645.Status3RelayOpen
		}
		if s.SwitchedOff {
			v |= dlt645.Status3RelayCommandOpen
		}
		return v, true
	}
	return 0, false
}

func (g *DLTGateway) control(f dlt645.Frame, m *Meter) dlt645.Frame {
	fail := func(code dlt645.ErrorCode) dlt645.Frame { return dlt645.ErrorResponse(f.Address, f.Control, code) }
	rc, err := dlt645.ParseRemoteControlRequest(f, g.clock.Now().Location())
	if err != nil {
		return fail(dlt645.CodeOther)
	}
	if rc.Password != g.auth.Password || rc.Operator != g.auth.Operator {
		return fail(dlt645.CodeUnauthorized)
	}
	if !rc.ValidUntil.After(g.clock.Now()) {
		return fail(dlt645.CodeOther) // an expired command is not carried out
	}
	switch rc.Command {
	case dlt645.CmdSwitchOff:
		err = m.SwitchOff()
	case dlt645.CmdSwitchOnAllowed, dlt645.CmdSwitchOnDirect:
		// The simulated relay has no button, so "allowed" closes at once.
		m.SwitchOn()
	case dlt645.CmdProtect:
		err = m.SetMode(profile.ModeProtect)
	case dlt645.CmdProtectReleased:
		err = m.SetMode(profile.ModePrepaid)
	default:
		return fail(dlt645.CodeOther)
	}
	if err != nil {
		return fail(dlt645.CodeOther) // e.g. switch off while protected
	}
	return dlt645.RemoteControlAck(f.Address)
}
