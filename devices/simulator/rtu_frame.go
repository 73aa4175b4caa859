package simulator

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Modbus RTU framing, as a transparent RS-485-to-Ethernet converter passes
// it through a TCP socket: unit id, PDU, CRC-16/MODBUS (low byte first),
// with no MBAP header and no length field, so a frame's length follows from
// its function code.

// Function codes the reference meter serves.
const (
	fnReadHolding   = 0x03
	fnWriteSingle   = 0x06
	fnWriteMultiple = 0x10
)

// Errors of RTU request decoding.
var (
	ErrRTUShort    = errors.New("modbus rtu: frame too short")
	ErrRTUCRC      = errors.New("modbus rtu: bad crc")
	ErrRTULength   = errors.New("modbus rtu: length does not match the function")
	ErrRTUFunction = errors.New("modbus rtu: unsupported function")
	ErrRTUQuantity = errors.New("modbus rtu: register quantity out of range")
)

// RTURequest is a decoded request frame. Regs holds the written values of
// 06 and 16; for 06 it is one register.
type RTURequest struct {
	Unit     uint8
	Function uint8
	Addr     uint16
	Quantity uint16
	Regs     []uint16
}

// CRC16 is CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF).
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// appendCRC appends the CRC of b, low byte first as RTU sends it.
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint16(b, CRC16(b))
}

// rtuRequestLen is the length of a whole request frame of function fn,
// given the first 7 bytes when fn is 16 (for its byte count); 0 for a
// function whose length is unknown.
func rtuRequestLen(fn uint8, head []byte) int {
	switch fn {
	case fnReadHolding, fnWriteSingle:
		return 8
	case fnWriteMultiple:
		if len(head) < 7 {
			return 0
		}
		return 9 + int(head[6])
	}
	return 0
}

// DecodeRTURequest checks and decodes one whole request frame.
func DecodeRTURequest(b []byte) (RTURequest, error) {
	if len(b) < 4 {
		return RTURequest{}, fmt.Errorf("%w: %d bytes", ErrRTUShort, len(b))
	}
	body := b[:len(b)-2]
	if got, want := binary.LittleEndian.Uint16(b[len(b)-2:]), CRC16(body); got != want {
		return RTURequest{}, fmt.Errorf("%w: got 0x%04X, computed 0x%04X", ErrRTUCRC, got, want)
	}
	r := RTURequest{Unit: body[0], Function: body[1]}
	n := rtuRequestLen(r.Function, b)
	if n == 0 {
		return r, fmt.Errorf("%w: 0x%02X", ErrRTUFunction, r.Function)
	}
	if len(b) != n {
		return r, fmt.Errorf("%w: function 0x%02X, %d bytes, want %d", ErrRTULength, r.Function, len(b), n)
	}
	r.Addr = binary.BigEndian.Uint16(body[2:4])
	switch r.Function {
	case fnReadHolding:
		r.Quantity = binary.BigEndian.Uint16(body[4:6])
		if r.Quantity == 0 || r.Quantity > 125 {
			return r, fmt.Errorf("%w: read of %d", ErrRTUQuantity, r.Quantity)
		}
	case fnWriteSingle:
		r.Quantity = 1
		r.Regs = []uint16{binary.BigEndian.Uint16(body[4:6])}
	case fnWriteMultiple:
		r.Quantity = binary.BigEndian.Uint16(body[4:6])
		if r.Quantity == 0 || r.Quantity > 123 || int(body[6]) != 2*int(r.Quantity) {
			return r, fmt.Errorf("%w: write of %d with %d bytes", ErrRTUQuantity, r.Quantity, body[6])
		}
		for i := range int(r.Quantity) {
			r.Regs = append(r.Regs, binary.BigEndian.Uint16(body[7+2*i:]))
		}
	}
	return r, nil
}

// ReadRTURequest reads one request frame from a stream. A function whose
// length it cannot know returns ErrRTUFunction with the two bytes read; the
// caller resynchronises by dropping what is buffered, as a real RTU device
// waits for the bus to fall silent.
func ReadRTURequest(r *bufio.Reader) ([]byte, error) {
	head := make([]byte, 2, 7)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	switch head[1] {
	case fnReadHolding, fnWriteSingle:
	case fnWriteMultiple:
		head = head[:7]
		if _, err := io.ReadFull(r, head[2:]); err != nil {
			return nil, err
		}
	default:
		return head, fmt.Errorf("%w: 0x%02X", ErrRTUFunction, head[1])
	}
	frame := make([]byte, rtuRequestLen(head[1], head))
	copy(frame, head)
	if _, err := io.ReadFull(r, frame[len(head):]); err != nil {
		return nil, err
	}
	return frame, nil
}

// EncodeRTUResponse builds the answer to req: the registers of a read, the
// echo of a write, or an exception when code is not 0.
func EncodeRTUResponse(req RTURequest, regs []uint16, code uint8) []byte {
	out := []byte{req.Unit, req.Function}
	switch {
	case code != 0:
		out[1] |= 0x80
		out = append(out, code)
	case req.Function == fnReadHolding:
		out = append(out, byte(2*len(regs)))
		for _, v := range regs {
			out = binary.BigEndian.AppendUint16(out, v)
		}
	case req.Function == fnWriteSingle:
		out = binary.BigEndian.AppendUint16(out, req.Addr)
		out = binary.BigEndian.AppendUint16(out, req.Regs[0])
	default: // 16
		out = binary.BigEndian.AppendUint16(out, req.Addr)
		out = binary.BigEndian.AppendUint16(out, req.Quantity)
	}
	return appendCRC(out)
}

// EncodeRTURequest builds a request frame; tests and the fuzz seeds use it.
func EncodeRTURequest(req RTURequest) []byte {
	out := []byte{req.Unit, req.Function}
	out = binary.BigEndian.AppendUint16(out, req.Addr)
	switch req.Function {
	case fnReadHolding:
		out = binary.BigEndian.AppendUint16(out, req.Quantity)
	case fnWriteSingle:
		out = binary.BigEndian.AppendUint16(out, req.Regs[0])
	default:
		out = binary.BigEndian.AppendUint16(out, uint16(len(req.Regs)))
		out = append(out, byte(2*len(req.Regs)))
		for _, v := range req.Regs {
			out = binary.BigEndian.AppendUint16(out, v)
		}
	}
	return appendCRC(out)
}
