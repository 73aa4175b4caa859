package simulator

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
)

// Gateway is one simulated Modbus TCP gateway: a listener with meters behind
// it as unit ids 1..N. Like an RS-485 bus it answers one request at a time,
// across all its connections; requests pipelined on a connection wait in
// its socket, as on a real gateway.
type Gateway struct {
	prof    *profile.Profile
	blocks  []profile.Block // the register areas a read may cover
	meters  []*Meter        // unit id i+1
	latency time.Duration
	// noPipelining drops requests that arrived during an answer (see
	// Config.NoPipelining).
	noPipelining bool
	logger       *log.Logger

	bus sync.Mutex // one request on the simulated RS-485 bus at a time

	srv streamServer

	onWrite atomic.Pointer[func(unit uint8, at time.Time)] // see OnWrite
}

// OnWrite has f told of every write (function 06 or 16) a meter of this
// gateway took, with the time it took it: load tests time commands from
// the API call to the meter. f runs on the bus, so it must be quick; nil
// stops the reports.
func (g *Gateway) OnWrite(f func(unit uint8, at time.Time)) {
	if f == nil {
		g.onWrite.Store(nil)
		return
	}
	g.onWrite.Store(&f)
}

// NewGateway puts meters behind a gateway that will listen on addr
// ("127.0.0.1:0" for any free port). meters[i] answers unit id i+1.
func NewGateway(addr string, prof *profile.Profile, meters []*Meter) *Gateway {
	g := &Gateway{
		prof:   prof,
		blocks: prof.Blocks(),
		meters: meters,
		logger: log.New(io.Discard, "", 0),
	}
	g.srv = streamServer{addr: addr, serve: g.serveConn}
	return g
}

// Addr is the listen address (host:port). Before the first Start it may
// still have port 0.
func (g *Gateway) Addr() string { return g.srv.Addr() }

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
func (g *Gateway) Start(ctx context.Context) error { return g.srv.Start(ctx) }

// Stop closes the listener and every open connection, so clients see the
// gateway as unreachable until the next Start.
func (g *Gateway) Stop() error { return g.srv.Stop() }

// serveConn answers Modbus TCP frames in order. Answers are buffered and
// sent when no further request is waiting, so a pipelined burst costs one
// read and one write.
func (g *Gateway) serveConn(c net.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 4096)
	var head [7]byte
	for {
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
			// Idle connections are kept a long time; polling keeps ours busy.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute))
		}
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(head[4:])) - 1
		if binary.BigEndian.Uint16(head[2:]) != 0 || n < 1 || n > 253 {
			return // not Modbus TCP: drop the connection
		}
		pdu, err := br.Peek(n)
		if err != nil {
			return
		}
		resp := g.handleTCP(head[6], pdu)
		if _, err := br.Discard(n); err != nil {
			return
		}
		var mbap [7]byte
		copy(mbap[:4], head[:4])
		binary.BigEndian.PutUint16(mbap[4:], uint16(len(resp)+1))
		mbap[6] = head[6]
		_, _ = bw.Write(mbap[:])
		if _, err := bw.Write(resp); err != nil {
			return
		}
		if g.noPipelining && !dropWaiting(c, br) {
			return
		}
	}
}

// dropWaiting discards every request already received, buffered or still
// in the socket, as a gateway that forwards one request at a time does
// with those that came while it was busy. It reports whether the
// connection is still usable.
func dropWaiting(c net.Conn, br *bufio.Reader) bool {
	for {
		if _, err := br.Discard(br.Buffered()); err != nil {
			return false
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := br.Peek(1); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = c.SetReadDeadline(time.Time{})
				return true
			}
			return false
		}
	}
}

// handleTCP answers one request PDU with a response PDU.
func (g *Gateway) handleTCP(unit uint8, pdu []byte) []byte {
	fn := pdu[0]
	exception := func(code uint8) []byte { return []byte{fn | 0x80, code} }
	var addr, qty uint16
	var regs []uint16
	switch fn {
	case fnReadHolding, fnWriteSingle:
		if len(pdu) != 5 {
			return exception(0x03)
		}
		addr, qty = binary.BigEndian.Uint16(pdu[1:]), binary.BigEndian.Uint16(pdu[3:])
		if fn == fnWriteSingle {
			regs, qty = []uint16{qty}, 1
		} else if qty == 0 || qty > profile.MaxReadWords {
			return exception(0x03)
		}
	case fnWriteMultiple:
		if len(pdu) < 6 {
			return exception(0x03)
		}
		addr, qty = binary.BigEndian.Uint16(pdu[1:]), binary.BigEndian.Uint16(pdu[3:])
		if qty == 0 || qty > 123 || int(pdu[5]) != 2*int(qty) || len(pdu) != 6+2*int(qty) {
			return exception(0x03)
		}
		regs = make([]uint16, qty)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(pdu[6+2*i:])
		}
	default:
		return exception(0x01) // no coils, no inputs: holding registers only
	}
	if uint32(addr)+uint32(qty) > 0x10000 {
		return exception(0x02)
	}
	m := g.Meter(unit)
	if m == nil || m.Dead() {
		// What a real gateway says when nothing on the bus answers.
		return exception(0x0B)
	}
	out, code := g.request(m, fn, addr, qty, regs)
	if f := g.onWrite.Load(); f != nil && code == 0 && fn != fnReadHolding {
		(*f)(unit, time.Now())
	}
	switch {
	case code != 0:
		return exception(code)
	case fn == fnReadHolding:
		resp := make([]byte, 2, 2+2*len(out))
		resp[0], resp[1] = fn, byte(2*len(out))
		for _, v := range out {
			resp = binary.BigEndian.AppendUint16(resp, v)
		}
		return resp
	case fn == fnWriteSingle:
		return slices.Clone(pdu)
	}
	return slices.Clone(pdu[:5]) // 16: function, address, quantity
}

// request runs one request against meter m, holding the bus: the
// registers read, or an exception code.
func (g *Gateway) request(m *Meter, fn uint8, addr, qty uint16, regs []uint16) ([]uint16, uint8) {
	g.bus.Lock()
	defer g.bus.Unlock()
	if g.latency > 0 {
		time.Sleep(g.latency)
	}
	if fn == fnReadHolding {
		out, err := g.read(m, addr, qty)
		return out, exceptionOf(err)
	}
	return nil, exceptionOf(g.write(m, addr, regs))
}

func (g *Gateway) read(m *Meter, addr, n uint16) ([]uint16, error) {
	prof, blocks := m.profileOf()
	if prof == nil {
		prof, blocks = g.prof, g.blocks
	}
	if !mapped(blocks, addr, n) {
		if !inSettings(prof, addr, n) {
			return nil, mb.ErrIllegalDataAddress
		}
		// The setting blocks (prices, safety limits): read on demand.
		regs, err := prof.EncodeBlock(m.Settings(), addr, int(n))
		if err != nil {
			return nil, mb.ErrServerDeviceFailure
		}
		return regs, nil
	}
	st := m.State()
	value := func(name string) int64 {
		v := st.value(name)
		if name == profile.Volume {
			// Volume is kept in litres; a gas profile counts it in 0.01 m³.
			q, _ := prof.Quantity(profile.Volume)
			v = rescale(v, -3, q.Scale.Exp())
		}
		return v
	}
	regs, err := prof.EncodeBlockFunc(value, addr, int(n))
	if err != nil {
		g.logger.Printf("unit register out of range: %v", err)
		return nil, mb.ErrServerDeviceFailure
	}
	return regs, nil
}

// inSettings reports whether the read lies in one of the profile's setting
// blocks.
func inSettings(prof *profile.Profile, addr, n uint16) bool {
	end := uint32(addr) + uint32(n)
	for _, b := range prof.SettingBlocks() {
		if uint32(addr) >= uint32(b.Address) && end <= uint32(b.Address)+uint32(b.Words) {
			return true
		}
	}
	return false
}

// mapped reports whether every register in the read lies in one of the
// profile's register areas; reads elsewhere get exception 02 as on a real
// meter.
func mapped(blocks []profile.Block, addr, n uint16) bool {
	end := uint32(addr) + uint32(n)
	for _, b := range blocks {
		if uint32(addr) >= uint32(b.Address) && end <= uint32(b.Address)+uint32(b.Words) {
			return true
		}
	}
	return false
}

func (g *Gateway) write(m *Meter, addr uint16, regs []uint16) error {
	prof, _ := m.profileOf()
	if prof == nil {
		prof = g.prof
	}
	name, args, err := prof.DecodeCommand(addr, regs)
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
	case profile.CmdSetTariff:
		err = m.SetTariff(args)
	case profile.CmdSetUnitPrice:
		m.SetUnitPrice(args[profile.UnitPrice])
	case profile.CmdSetSafetyLimits:
		m.SetSafetyLimits(args["max_load"], args["malignant_start"], args["allowed_trips"])
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

// setLogger routes the gateway's log lines to l.
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
