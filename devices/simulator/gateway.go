package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sync"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
)

// Gateway is one simulated Modbus TCP gateway: a listener with meters behind
// it as unit ids 1..N. Like an RS-485 bus it answers one request at a time,
// across all its connections.
type Gateway struct {
	prof    *profile.Profile
	meters  []*Meter // unit id i+1
	latency time.Duration
	logger  *log.Logger

	bus sync.Mutex // one request on the simulated RS-485 bus at a time

	mu        sync.Mutex // guards the fields below
	addr      string     // host:port; a port 0 is resolved on the first Start
	server    *mb.ModbusServer
	stopWatch func() bool
}

// NewGateway puts meters behind a gateway that will listen on addr
// ("127.0.0.1:0" for any free port). meters[i] answers unit id i+1.
func NewGateway(addr string, prof *profile.Profile, meters []*Meter) *Gateway {
	return &Gateway{
		addr:   addr,
		prof:   prof,
		meters: meters,
		logger: log.New(io.Discard, "", 0),
	}
}

// Addr is the listen address (host:port). Before the first Start it may
// still have port 0.
func (g *Gateway) Addr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addr
}

// URL is the address as the Modbus client takes it.
func (g *Gateway) URL() string { return "tcp://" + g.Addr() }

// Meter returns the meter with the given unit id, or nil.
func (g *Gateway) Meter(unit uint8) *Meter {
	if unit == 0 || int(unit) > len(g.meters) {
		return nil
	}
	return g.meters[unit-1]
}

// Meters is the number of meters (unit ids 1..Meters()).
func (g *Gateway) Meters() int { return len(g.meters) }

// Start listens and serves until Stop or until ctx is done. Starting a
// running gateway does nothing. A restart keeps the address, port
// included, so clients see an outage and a recovery of the same gateway.
func (g *Gateway) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.server != nil {
		return nil
	}
	if err := g.resolvePort(); err != nil {
		return err
	}
	srv, err := mb.NewServer(&mb.ServerConfiguration{
		URL:        "tcp://" + g.addr,
		Timeout:    10 * time.Minute, // idle connections; polling keeps ours busy
		MaxClients: 32,               // the library's default of 10 is tight for tests
		Logger:     g.logger,
	}, handler{g})
	if err != nil {
		return fmt.Errorf("simulator gateway %s: %w", g.addr, err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("simulator gateway %s: %w", g.addr, err)
	}
	g.server = srv
	g.stopWatch = context.AfterFunc(ctx, func() { _ = g.Stop() })
	return nil
}

// resolvePort replaces a port 0 with a free port, once. The library listens
// on a URL and does not tell which port it got, so we ask the kernel first;
// another process could take the port in between, which tests can live with.
func (g *Gateway) resolvePort() error {
	host, port, err := net.SplitHostPort(g.addr)
	if err != nil {
		return fmt.Errorf("simulator gateway %s: %w", g.addr, err)
	}
	if port != "0" {
		return nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("simulator gateway %s: %w", g.addr, err)
	}
	g.addr = l.Addr().String()
	return l.Close()
}

// Stop closes the listener and every open connection, so clients see the
// gateway as unreachable until the next Start.
func (g *Gateway) Stop() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.server == nil {
		return nil
	}
	g.stopWatch()
	err := g.server.Stop()
	g.server = nil
	if err != nil {
		return fmt.Errorf("simulator gateway %s: stop: %w", g.addr, err)
	}
	return nil
}

// handler serves the library's request callbacks; it keeps them off the
// Gateway's own API.
type handler struct{ g *Gateway }

// HandleHoldingRegisters answers reads (03) from the meter's registers and
// runs writes (06, 16) as profile commands.
func (h handler) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	g := h.g
	m := g.Meter(req.UnitId)
	if m == nil || m.Dead() {
		// What a real gateway says when nothing on the bus answers.
		return nil, mb.ErrGWTargetFailedToRespond
	}
	g.bus.Lock()
	defer g.bus.Unlock()
	if g.latency > 0 {
		time.Sleep(g.latency)
	}
	if !req.IsWrite {
		return g.read(m, req.Addr, req.Quantity)
	}
	return nil, g.write(m, req.Addr, req.Args)
}

func (g *Gateway) read(m *Meter, addr, n uint16) ([]uint16, error) {
	if !g.mapped(addr, n) {
		return nil, mb.ErrIllegalDataAddress
	}
	values := m.State().values()
	// Volume is kept in litres; a gas profile counts it in 0.01 m³.
	if q, ok := g.prof.Quantity(profile.Volume); ok {
		values[profile.Volume] = rescale(values[profile.Volume], -3, q.Scale.Exp())
	}
	regs, err := g.prof.EncodeBlock(values, addr, int(n))
	if err != nil {
		g.logger.Printf("unit register out of range: %v", err)
		return nil, mb.ErrServerDeviceFailure
	}
	return regs, nil
}

// mapped reports whether every register in the read lies in one of the
// profile's register areas; reads elsewhere get exception 02 as on a real
// meter.
func (g *Gateway) mapped(addr, n uint16) bool {
	end := uint32(addr) + uint32(n)
	for _, b := range g.prof.Blocks() {
		if uint32(addr) >= uint32(b.Address) && end <= uint32(b.Address)+uint32(b.Words) {
			return true
		}
	}
	return false
}

func (g *Gateway) write(m *Meter, addr uint16, regs []uint16) error {
	name, args, err := g.prof.DecodeCommand(addr, regs)
	switch {
	case errors.Is(err, profile.ErrNoCommand):
		return mb.ErrIllegalDataAddress
	case err != nil:
		return mb.ErrIllegalDataValue
	}
	switch name {
	case profile.CmdRecharge:
		err = m.Recharge(uint16(args[profile.FieldCounter]), uint32(args[profile.FieldAmount]))
	case profile.CmdRefund:
		err = m.Refund(uint16(args[profile.FieldCounter]), uint32(args[profile.FieldAmount]))
	case profile.CmdClearRemaining:
		m.ClearRemaining()
	case profile.CmdSwitchOff:
		err = m.SwitchOff()
	case profile.CmdSwitchOn:
		m.SwitchOn()
	case profile.CmdSetMode:
		err = m.SetMode(uint16(args[profile.FieldMode]))
	case profile.CmdValveOpen:
		m.SetValve(true)
	case profile.CmdValveClose:
		m.SetValve(false)
	default:
		return mb.ErrIllegalDataAddress // a profile command this meter does not implement
	}
	switch {
	case errors.Is(err, ErrRefused):
		return mb.ErrServerDeviceFailure // exception 04
	case err != nil:
		return mb.ErrIllegalDataValue // exception 03
	}
	return nil
}

// HandleCoils refuses: the meter has no coils.
func (handler) HandleCoils(*mb.CoilsRequest) ([]bool, error) { return nil, mb.ErrIllegalFunction }

// HandleDiscreteInputs refuses: the meter has no discrete inputs.
func (handler) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

// HandleInputRegisters refuses: the profile uses holding registers only.
func (handler) HandleInputRegisters(*mb.InputRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction
}

var _ mb.RequestHandler = handler{}

// setLogger routes the library's log lines to l.
func (g *Gateway) setLogger(l *slog.Logger) {
	if l != nil {
		g.logger = slog.NewLogLogger(l.Handler(), slog.LevelWarn)
	}
}

// rescale converts v from 10^from units to 10^to units (truncating).
func rescale(v int64, from, to int32) int64 {
	for ; from > to; from-- {
		v *= 10
	}
	for ; from < to; from++ {
		v /= 10
	}
	return v
}
