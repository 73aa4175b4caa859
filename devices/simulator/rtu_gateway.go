package simulator

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/voltflow/voltflow/devices/profile"
)

// RTUGateway is a simulated transparent RS-485-to-Ethernet converter: Modbus
// RTU frames (with their CRC) pass through a plain TCP socket to the meters
// on the bus, unit ids 1..N. The meters and the register map are those of
// Gateway; only the framing differs.
//
// Unlike a Modbus TCP gateway, a transparent converter never answers on a
// meter's behalf: a dead or absent meter, or a frame with a bad CRC, gets
// silence, and the client's timeout is what notices.
type RTUGateway struct {
	g *Gateway // meters, profile, latency and the bus lock; never started
	streamServer
}

// NewRTUGateway puts meters behind an RTU-over-TCP converter listening on
// addr ("127.0.0.1:0" for any free port). meters[i] answers unit id i+1.
func NewRTUGateway(addr string, prof *profile.Profile, meters []*Meter) *RTUGateway {
	r := &RTUGateway{g: NewGateway(addr, prof, meters)}
	r.streamServer = streamServer{addr: addr, serve: r.serveConn}
	return r
}

// SetLatency sets the per-request bus time; call it before Start.
func (r *RTUGateway) SetLatency(d time.Duration) { r.g.latency = d }

// URL is the address as the Modbus client takes it.
func (r *RTUGateway) URL() string { return "rtuovertcp://" + r.Addr() }

// Meter returns the meter with the given unit id, or nil.
func (r *RTUGateway) Meter(unit uint8) *Meter { return r.g.Meter(unit) }

// Meters is the number of meters.
func (r *RTUGateway) Meters() int { return r.g.Meters() }

func (r *RTUGateway) serveConn(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		// Idle connections are kept, as the Modbus TCP gateway keeps them.
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute))
		frame, err := ReadRTURequest(br)
		if errors.Is(err, ErrRTUFunction) {
			// Length unknown: answer "illegal function" if the CRC of what
			// has arrived checks out, then drop the rest of the burst.
			resync(c, br)
			if len(frame) >= 2 {
				_, _ = c.Write(EncodeRTUResponse(RTURequest{Unit: frame[0], Function: frame[1]}, nil, 0x01))
			}
			continue
		}
		if err != nil {
			return
		}
		req, err := DecodeRTURequest(frame)
		switch {
		case errors.Is(err, ErrRTUCRC):
			resync(c, br) // a garbled frame is ignored, as on the wire
			continue
		case err != nil:
			if _, werr := c.Write(EncodeRTUResponse(req, nil, 0x03)); werr != nil {
				return
			}
			continue
		}
		resp := r.handle(req)
		if resp == nil {
			continue
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// resync drops whatever is already buffered or arrives within a few
// character times, the RTU notion of the end of a frame.
func resync(c net.Conn, br *bufio.Reader) {
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 512)
	for {
		if _, err := br.Read(buf); err != nil {
			return
		}
	}
}

// handle runs one request against the meter; nil means silence.
func (r *RTUGateway) handle(req RTURequest) []byte {
	g := r.g
	m := g.Meter(req.Unit)
	if m == nil || m.Dead() {
		return nil
	}
	regs, code := g.request(m, req.Function, req.Addr, req.Quantity, req.Regs)
	return EncodeRTUResponse(req, regs, code)
}

// exceptionOf maps the Modbus library's exception errors, which Gateway's
// read and write return, to their codes.
func exceptionOf(err error) uint8 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, mb.ErrIllegalFunction):
		return 0x01
	case errors.Is(err, mb.ErrIllegalDataAddress):
		return 0x02
	case errors.Is(err, mb.ErrIllegalDataValue):
		return 0x03
	case errors.Is(err, mb.ErrGWTargetFailedToRespond):
		return 0x0B
	}
	return 0x04
}

// Compile-time check that both gateway kinds serve the same lifecycle.
var _ interface {
	Start(context.Context) error
	Stop() error
} = (*RTUGateway)(nil)
