package ykc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrBody is wrapped by every body decoding error.
var ErrBody = errors.New("ykc: bad body")

// CP56 is a CP56Time2a time stamp (IEC 60870-5): milliseconds of the minute
// (2 bytes, low first), minute, hour, day of month (low 5 bits; the high 3
// carry the weekday), month, year − 2000. It is kept as the seven bytes so a
// frame re-encodes byte for byte.
type CP56 [7]byte

// NewCP56 encodes t (in its own location) as CP56Time2a.
func NewCP56(t time.Time) CP56 {
	var c CP56
	ms := uint16(t.Second()*1000 + t.Nanosecond()/1e6)
	binary.LittleEndian.PutUint16(c[:], ms)
	c[2] = byte(t.Minute())
	c[3] = byte(t.Hour())
	c[4] = byte(t.Day())
	c[5] = byte(t.Month())
	c[6] = byte(t.Year() - 2000)
	return c
}

// Time decodes the stamp in loc. Invalid fields are normalised by time.Date.
func (c CP56) Time(loc *time.Location) time.Time {
	ms := int(binary.LittleEndian.Uint16(c[:]))
	return time.Date(2000+int(c[6]&0x7F), time.Month(c[5]&0x0F), int(c[4]&0x1F),
		int(c[3]&0x1F), int(c[2]&0x3F), ms/1000, ms%1000*1e6, loc)
}

// IsZero reports an all-zero stamp (the specification's "置零").
func (c CP56) IsZero() bool { return c == CP56{} }

// dec reads fields off a body; the first error sticks.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int, what string) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("%w: %s needs %d bytes, %d left", ErrBody, what, n, len(d.b))
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// bcd returns the digits as upper-case hex, so that a field that is not
// strictly BCD (chargers in the field send hex in "BCD" trade numbers) still
// round-trips.
func (d *dec) bcd(n int, what string) string {
	const hexd = "0123456789ABCDEF"
	b := d.take(n, what)
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i], out[2*i+1] = hexd[c>>4], hexd[c&0x0F]
	}
	return string(out)
}

func (d *dec) u8(what string) uint8 { return d.take(1, what)[0] }
func (d *dec) u16(what string) uint16 {
	return binary.LittleEndian.Uint16(d.take(2, what))
}
func (d *dec) u24(what string) uint32 {
	b := d.take(3, what)
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
}
func (d *dec) u32(what string) uint32 {
	return binary.LittleEndian.Uint32(d.take(4, what))
}
func (d *dec) u40(what string) uint64 {
	b := d.take(5, what)
	return uint64(binary.LittleEndian.Uint32(b)) | uint64(b[4])<<32
}
func (d *dec) cp56(what string) CP56 { return CP56(d.take(7, what)) }

// bytes copies n raw bytes (ASCII fields are kept raw: zero padding and the
// reversed VIN of some frames must survive a round trip).
func (d *dec) bytes(n int, what string) []byte {
	return append([]byte(nil), d.take(n, what)...)
}

func (d *dec) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after the last field", ErrBody, len(d.b))
	}
	return d.err
}

// enc writes fields; the first error sticks.
type enc struct {
	b   []byte
	err error
}

func (e *enc) bcd(s string, n int, what string) {
	if e.err != nil {
		return
	}
	if len(s) > 2*n {
		e.err = fmt.Errorf("ykc: %s %q longer than %d digits", what, s, 2*n)
		return
	}
	// "不足…位补0": pad on the left.
	for range 2*n - len(s) {
		s = "0" + s
	}
	for i := 0; i < 2*n; i += 2 {
		hi, ok1 := nibble(s[i])
		lo, ok2 := nibble(s[i+1])
		if !ok1 || !ok2 {
			e.err = fmt.Errorf("ykc: %s %q is not decimal", what, s)
			return
		}
		e.b = append(e.b, hi<<4|lo)
	}
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *enc) u24(v uint32) { e.b = append(e.b, byte(v), byte(v>>8), byte(v>>16)) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u40(v uint64) {
	e.b = binary.LittleEndian.AppendUint32(e.b, uint32(v))
	e.b = append(e.b, byte(v>>32))
}
func (e *enc) cp56(c CP56) { e.b = append(e.b, c[:]...) }

// bytes writes b zero-padded (or cut) to n bytes.
func (e *enc) bytes(b []byte, n int) {
	if len(b) > n {
		b = b[:n]
	}
	e.b = append(e.b, b...)
	for range n - len(b) {
		e.b = append(e.b, 0)
	}
}

// ASCII returns a zero-padded ASCII field as text, without the padding.
func ASCII(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
