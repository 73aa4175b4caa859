// Package ykc speaks the YKC (云快充) charger protocol: TCP frames starting
// 0x68, a one-byte length, a two-byte sequence number, an encryption flag, a
// frame type, the body and a CRC-16/MODBUS.
//
// Specification: 《云快充平台协议 V1.6》 (充电桩与云快充服务平台交互协议), as
// transcribed to Markdown in the project DaYePython/ykc-parser, files
// references/docs/02-协议基础/02-应用层报文帧格式.md (frame layout),
// references/docs/11-附录/02-CRC16校验计算方法.md (CRC) and the per-frame
// chapters under references/docs/04-* … 09-*; the same PDF is published in
// LLLLimbo/ykc-proxy-server as doc/云快充平台协议V1.6.pdf. The code here is
// written from those tables, not from either project's code.
package ykc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Start is the byte every frame begins with.
const Start = 0x68

// headerLen counts sequence number (2), encryption flag (1) and frame type
// (1): the length byte covers these plus the body.
const headerLen = 4

// MaxBody is the longest body one length byte can announce.
const MaxBody = 255 - headerLen

// Encryption flags.
const (
	Plain = 0x00
	DES3  = 0x01 // 3DES over the body; we neither send nor accept it
)

// Errors of the frame layer.
var (
	ErrCRC      = errors.New("ykc: CRC mismatch")
	ErrTooLong  = errors.New("ykc: body longer than one length byte allows")
	ErrShort    = errors.New("ykc: frame shorter than its header")
	ErrNoStart  = errors.New("ykc: frame does not start with 0x68")
	ErrTrailing = errors.New("ykc: bytes after the body")
)

// Frame is one YKC frame. Body is the (unencrypted) message body.
type Frame struct {
	Seq       uint16
	Encrypted byte
	Type      byte
	Body      []byte
	// CRCHighFirst: the CRC came (or goes) high byte first. The
	// specification sends it low byte first, but chargers in the field send
	// it either way (the frames published by sanbing-java/
	// JChargePointProtocol show both), so the reader accepts both and a
	// frame re-encodes as it was read.
	CRCHighFirst bool
}

// CRC16 is CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); the
// specification's table-driven version computes the same value. It is taken
// over sequence number, encryption flag, frame type and body, and sent low
// byte first.
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

// Append appends the encoded frame to dst.
func (f Frame) Append(dst []byte) ([]byte, error) {
	if len(f.Body) > MaxBody {
		return dst, ErrTooLong
	}
	dst = append(dst, Start, byte(headerLen+len(f.Body)))
	from := len(dst)
	// The specification does not give the sequence number's byte order; we
	// send it low byte first like every other BIN field of the protocol.
	dst = binary.LittleEndian.AppendUint16(dst, f.Seq)
	dst = append(dst, f.Encrypted, f.Type)
	dst = append(dst, f.Body...)
	if f.CRCHighFirst {
		return binary.BigEndian.AppendUint16(dst, CRC16(dst[from:])), nil
	}
	return binary.LittleEndian.AppendUint16(dst, CRC16(dst[from:])), nil
}

// Marshal is Append to a new slice.
func (f Frame) Marshal() ([]byte, error) { return f.Append(make([]byte, 0, 2+headerLen+len(f.Body)+2)) }

// Parse decodes exactly one frame from b.
func Parse(b []byte) (Frame, error) {
	if len(b) < 2+headerLen+2 {
		return Frame{}, ErrShort
	}
	if b[0] != Start {
		return Frame{}, ErrNoStart
	}
	n := int(b[1])
	if n < headerLen {
		return Frame{}, ErrShort
	}
	if len(b) < 2+n+2 {
		return Frame{}, ErrShort
	}
	if len(b) > 2+n+2 {
		return Frame{}, ErrTrailing
	}
	return parsePayload(b[2:2+n], binary.LittleEndian.Uint16(b[2+n:]))
}

func parsePayload(p []byte, crc uint16) (Frame, error) {
	f := Frame{
		Seq:       binary.LittleEndian.Uint16(p),
		Encrypted: p[2],
		Type:      p[3],
		Body:      p[headerLen:],
	}
	// crc was read low byte first; a charger sending high byte first gives
	// the swapped value.
	switch got := CRC16(p); {
	case got == crc:
	case got == crc>>8|crc<<8:
		f.CRCHighFirst = true
	default:
		return f, fmt.Errorf("%w: frame type 0x%02X carries %04X, computed %04X", ErrCRC, f.Type, crc, got)
	}
	return f, nil
}

// Reader reads frames from a byte stream.
type Reader struct {
	r   *bufio.Reader
	buf [2 + 255 + 2]byte
	// Skipped counts bytes dropped while looking for a start byte.
	Skipped int
}

// NewReader reads frames from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 512)} }

// Read returns the next frame. Bytes before a 0x68 are skipped (a charger
// that restarts mid-frame must not wedge the connection). A frame whose CRC
// does not match is consumed and returned with an error wrapping ErrCRC, so
// the caller can log it and read on. The Body aliases the reader's buffer
// and is valid until the next Read.
func (r *Reader) Read() (Frame, error) {
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c == Start {
			break
		}
		r.Skipped++
	}
	n, err := r.r.ReadByte()
	if err != nil {
		return Frame{}, noEOF(err)
	}
	if n < headerLen {
		return Frame{}, fmt.Errorf("%w: length %d", ErrShort, n)
	}
	p := r.buf[:int(n)+2]
	if _, err := io.ReadFull(r.r, p); err != nil {
		return Frame{}, noEOF(err)
	}
	return parsePayload(p[:n], binary.LittleEndian.Uint16(p[n:]))
}

// noEOF turns an EOF inside a frame into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
