package modbus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	mb "github.com/simonvetter/modbus"
)

// Function codes the client sends.
const (
	fnReadHolding   = 0x03
	fnWriteSingle   = 0x06
	fnWriteMultiple = 0x10
)

// request is one Modbus request: a read of words registers (fn 03), or a
// write of regs (06 with one register, 16 with more).
type request struct {
	unit  uint8
	fn    uint8
	addr  uint16
	words uint16
	regs  []uint16
}

// answer is a request's outcome: the registers read, or the exception the
// meter (or the gateway for it) answered with.
type answer struct {
	regs []uint16
	err  *ExceptionError
}

// transport carries requests to a gateway over one connection.
type transport interface {
	open() error
	close() error
	// exchange runs reqs in order and fills answers[i] for reqs[i]. It
	// returns how many answers arrived before a transport error (timeout,
	// reset, garbled frame), which leaves the connection out of step.
	exchange(reqs []request, answers []answer) (int, error)
}

// tcpTransport speaks Modbus TCP itself rather than through the library:
// its requests are pipelined (written together, answers matched by
// transaction id, as Modbus TCP allows) and its reads buffered, so reading
// a meter costs one write and usually one read on each side instead of a
// pair of syscalls per register block.
type tcpTransport struct {
	addr    string // host:port
	timeout time.Duration

	c    net.Conn
	br   *bufio.Reader
	wbuf []byte
	txn  uint16 // last transaction id sent
}

func (t *tcpTransport) open() error {
	c, err := net.DialTimeout("tcp", t.addr, t.timeout)
	if err != nil {
		return err
	}
	t.c = c
	t.br = bufio.NewReaderSize(c, 4096)
	return nil
}

func (t *tcpTransport) close() error {
	if t.c == nil {
		return nil
	}
	err := t.c.Close()
	t.c, t.br = nil, nil
	return err
}

// errFrame is a frame that is not a well-formed answer to what was asked.
var errFrame = errors.New("malformed or unexpected modbus tcp frame")

func (t *tcpTransport) exchange(reqs []request, answers []answer) (int, error) {
	first := t.txn + 1
	b := t.wbuf[:0]
	for _, r := range reqs {
		t.txn++
		b = appendMBAP(b, t.txn, r)
	}
	t.wbuf = b
	// The timeout bounds each answer, as it would bound each request sent
	// alone: a gateway works through pipelined requests one at a time.
	if err := t.c.SetDeadline(time.Now().Add(t.timeout)); err != nil {
		return 0, err
	}
	if _, err := t.c.Write(b); err != nil {
		return 0, err
	}
	got := 0
	var head [7]byte
	for got < len(reqs) {
		if got > 0 {
			if err := t.c.SetReadDeadline(time.Now().Add(t.timeout)); err != nil {
				return got, err
			}
		}
		if _, err := io.ReadFull(t.br, head[:]); err != nil {
			return got, err
		}
		txn := binary.BigEndian.Uint16(head[0:])
		n := int(binary.BigEndian.Uint16(head[4:])) - 1 // the length counts the unit id
		if binary.BigEndian.Uint16(head[2:]) != 0 || n < 2 || n > 253 {
			return got, errFrame
		}
		pdu, err := t.br.Peek(n)
		if err != nil {
			return got, err
		}
		// Answers come in order from a serial bus; a stale id (an answer to
		// a request of an earlier, abandoned exchange) is skipped.
		i := int(txn - first)
		if i != got {
			if _, err := t.br.Discard(n); err != nil {
				return got, err
			}
			if i >= 0 && i < len(reqs) {
				return got, errFrame
			}
			continue
		}
		if err := decodeAnswer(reqs[i], head[6], pdu, &answers[i]); err != nil {
			return got, err
		}
		if _, err := t.br.Discard(n); err != nil {
			return got, err
		}
		got++
	}
	return got, nil
}

// appendMBAP appends r as a Modbus TCP frame with transaction id txn.
func appendMBAP(b []byte, txn uint16, r request) []byte {
	var pdu int
	switch r.fn {
	case fnReadHolding, fnWriteSingle:
		pdu = 5
	default:
		pdu = 6 + 2*len(r.regs)
	}
	b = binary.BigEndian.AppendUint16(b, txn)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(pdu+1))
	b = append(b, r.unit, r.fn)
	b = binary.BigEndian.AppendUint16(b, r.addr)
	switch r.fn {
	case fnReadHolding:
		b = binary.BigEndian.AppendUint16(b, r.words)
	case fnWriteSingle:
		b = binary.BigEndian.AppendUint16(b, r.regs[0])
	default:
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.regs)))
		b = append(b, byte(2*len(r.regs)))
		for _, v := range r.regs {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	}
	return b
}

// decodeAnswer checks an answer's PDU against its request. pdu is only
// valid until the next read: registers are copied out.
func decodeAnswer(r request, unit uint8, pdu []byte, a *answer) error {
	*a = answer{}
	switch {
	case unit != r.unit:
		return errFrame
	case pdu[0] == r.fn|0x80:
		a.err = &ExceptionError{Unit: r.unit, Code: pdu[1]}
		return nil
	case pdu[0] != r.fn:
		return errFrame
	}
	if r.fn != fnReadHolding {
		// 06 echoes address and value, 16 address and count.
		if len(pdu) != 5 || binary.BigEndian.Uint16(pdu[1:]) != r.addr {
			return errFrame
		}
		return nil
	}
	if len(pdu) != 2+2*int(r.words) || int(pdu[1]) != 2*int(r.words) {
		return errFrame
	}
	a.regs = make([]uint16, r.words)
	for i := range a.regs {
		a.regs[i] = binary.BigEndian.Uint16(pdu[2+2*i:])
	}
	return nil
}

// libTransport runs requests one at a time through the Modbus library; it
// carries RTU over TCP, whose frames have no transaction id to pipeline by.
type libTransport struct{ c *mb.ModbusClient }

func (t libTransport) open() error  { return t.c.Open() }
func (t libTransport) close() error { return t.c.Close() }

func (t libTransport) exchange(reqs []request, answers []answer) (int, error) {
	for i, r := range reqs {
		// The library keeps the unit id as client state; the caller holds
		// the gateway's turn, which makes SetUnitId-then-request safe.
		_ = t.c.SetUnitId(r.unit) // never fails
		var err error
		answers[i] = answer{}
		switch r.fn {
		case fnReadHolding:
			answers[i].regs, err = t.c.ReadRegisters(r.addr, r.words, mb.HOLDING_REGISTER)
		case fnWriteSingle:
			err = t.c.WriteRegister(r.addr, r.regs[0])
		default:
			err = t.c.WriteRegisters(r.addr, r.regs)
		}
		if code, ok := exceptionCode(err); ok {
			answers[i].err = &ExceptionError{Unit: r.unit, Code: code}
			continue
		}
		if err != nil {
			return i, err
		}
	}
	return len(reqs), nil
}

// describe names a request in errors.
func (r request) describe() string {
	switch r.fn {
	case fnReadHolding:
		return fmt.Sprintf("read 0x%04X+%d", r.addr, r.words)
	default:
		return fmt.Sprintf("write 0x%04X+%d", r.addr, len(r.regs))
	}
}
