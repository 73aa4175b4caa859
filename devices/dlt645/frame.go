package dlt645

import (
	"errors"
	"fmt"
)

// Framing constants.
const (
	startByte    = 0x68
	endByte      = 0x16
	preambleByte = 0xFE
	dataOffset   = 0x33 // added to every data byte on the wire
	// headerLen covers 68 A0..A5 68 C L; frameOverhead adds CS and 16.
	headerLen     = 10
	frameOverhead = headerLen + 2
	// MaxDataLen is what the one-byte length field can describe.
	MaxDataLen = 255
)

// preamble is the wake-up sequence many meters expect before a request.
var preamble = [4]byte{preambleByte, preambleByte, preambleByte, preambleByte}

// Framing errors. Decode and ReadFrame wrap these with detail, so match them
// with errors.Is.
var (
	ErrTruncated      = errors.New("dlt645: truncated frame")
	ErrBadStart       = errors.New("dlt645: bad start byte")
	ErrBadEnd         = errors.New("dlt645: bad end byte")
	ErrBadChecksum    = errors.New("dlt645: bad checksum")
	ErrTrailingData   = errors.New("dlt645: trailing bytes after frame")
	ErrDataTooLong    = errors.New("dlt645: data field longer than 255 bytes")
	ErrBadAddress     = errors.New("dlt645: bad address")
	ErrUnexpected     = errors.New("dlt645: unexpected control code")
	ErrLength         = errors.New("dlt645: unexpected data length")
	ErrDataIDMismatch = errors.New("dlt645: response data identifier does not match")
)

// Control is the control code byte: D7 direction (1 = from meter), D6
// abnormal response, D5 follow-up frame, D4..D0 function.
type Control byte

// Function codes used here (requests, as sent by the master).
const (
	CtrlRead          Control = 0x11
	CtrlReadAddress   Control = 0x13
	CtrlRemoteControl Control = 0x1C
)

const (
	ctrlResponse = 0x80
	ctrlAbnormal = 0x40
	ctrlFollowUp = 0x20
	ctrlFuncMask = 0x1F
)

// Function returns the function code with the direction and flag bits cleared.
func (c Control) Function() Control { return c & ctrlFuncMask }

// IsResponse reports whether the frame travels from meter to master.
func (c Control) IsResponse() bool { return c&ctrlResponse != 0 }

// IsAbnormal reports whether a response carries an error word instead of data.
func (c Control) IsAbnormal() bool { return c&ctrlAbnormal != 0 }

// HasFollowUp reports whether the meter has more frames for this request.
func (c Control) HasFollowUp() bool { return c&ctrlFollowUp != 0 }

// Response is the normal-response code for c's function (0x11 -> 0x91).
func (c Control) Response() Control { return c.Function() | ctrlResponse }

// AbnormalResponse is the error-response code for c's function (0x11 -> 0xD1).
func (c Control) AbnormalResponse() Control { return c.Function() | ctrlResponse | ctrlAbnormal }

func (c Control) String() string { return fmt.Sprintf("0x%02X", byte(c)) }

// Frame is one decoded frame. Data holds the plain bytes (the +0x33 wire
// offset already removed).
type Frame struct {
	Address Address
	Control Control
	Data    []byte
}

// Encode returns the wire bytes of f without a preamble. f.Data is not
// modified.
func Encode(f Frame) ([]byte, error) {
	return appendFrame(nil, f)
}

// EncodeWithPreamble returns FE FE FE FE followed by the frame, as sent to
// meters on a bus that need the wake-up bytes.
func EncodeWithPreamble(f Frame) ([]byte, error) {
	return appendFrame(preamble[:], f)
}

func appendFrame(prefix []byte, f Frame) ([]byte, error) {
	if len(f.Data) > MaxDataLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrDataTooLong, len(f.Data))
	}
	out := make([]byte, 0, len(prefix)+frameOverhead+len(f.Data))
	out = append(out, prefix...)
	start := len(out)
	out = append(out, startByte)
	out = append(out, f.Address[:]...)
	out = append(out, startByte, byte(f.Control), byte(len(f.Data)))
	for _, b := range f.Data {
		out = append(out, b+dataOffset)
	}
	out = append(out, checksum(out[start:]), endByte)
	return out, nil
}

func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// Decode parses exactly one frame, skipping any number of leading FE bytes.
// Extra bytes after the end byte are an error so that a caller holding a
// buffer notices it split frames wrongly; use ReadFrame for streams.
func Decode(b []byte) (Frame, error) {
	for len(b) > 0 && b[0] == preambleByte {
		b = b[1:]
	}
	if len(b) == 0 {
		return Frame{}, fmt.Errorf("%w: no frame after preamble", ErrTruncated)
	}
	if b[0] != startByte {
		return Frame{}, fmt.Errorf("%w: got 0x%02X at first start", ErrBadStart, b[0])
	}
	if len(b) < headerLen {
		return Frame{}, fmt.Errorf("%w: %d of %d header bytes", ErrTruncated, len(b), headerLen)
	}
	if b[7] != startByte {
		return Frame{}, fmt.Errorf("%w: got 0x%02X at second start", ErrBadStart, b[7])
	}
	n := frameOverhead + int(b[9])
	switch {
	case len(b) < n:
		return Frame{}, fmt.Errorf("%w: have %d of %d bytes", ErrTruncated, len(b), n)
	case len(b) > n:
		return Frame{}, fmt.Errorf("%w: %d extra", ErrTrailingData, len(b)-n)
	}
	if b[n-1] != endByte {
		return Frame{}, fmt.Errorf("%w: got 0x%02X", ErrBadEnd, b[n-1])
	}
	if want := checksum(b[:n-2]); b[n-2] != want {
		return Frame{}, fmt.Errorf("%w: got 0x%02X, computed 0x%02X", ErrBadChecksum, b[n-2], want)
	}
	f := Frame{Control: Control(b[8])}
	copy(f.Address[:], b[1:7])
	if l := int(b[9]); l > 0 {
		f.Data = make([]byte, l)
		for i := range f.Data {
			f.Data[i] = b[headerLen+i] - dataOffset
		}
	}
	return f, nil
}
