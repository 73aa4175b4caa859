package dlt645

import (
	"errors"
	"fmt"
	"time"
)

// ControlCommand is N1 of a remote-control (0x1C) request.
type ControlCommand byte

// Remote-control commands.
const (
	CmdSwitchOff       ControlCommand = 0x1A // trip the relay
	CmdSwitchOnAllowed ControlCommand = 0x1B // allow the customer to close (button)
	CmdSwitchOnDirect  ControlCommand = 0x1C // close immediately
	CmdProtect         ControlCommand = 0x3A // protect (保电): never trip
	CmdProtectReleased ControlCommand = 0x3B // leave protect mode
)

// Valid reports whether c is one of the commands above.
func (c ControlCommand) Valid() bool {
	switch c {
	case CmdSwitchOff, CmdSwitchOnAllowed, CmdSwitchOnDirect, CmdProtect, CmdProtectReleased:
		return true
	}
	return false
}

func (c ControlCommand) String() string { return fmt.Sprintf("0x%02X", byte(c)) }

// Password is the 4-byte password field: privilege level, then a 24-bit
// code sent low byte first (level 02, code 0x123456 -> 02 56 34 12).
type Password struct {
	Level byte
	Code  uint32
}

// RemoteControl is the plaintext 0x1C request body. Meters that demand an
// ESAM-encrypted body (level 0x98) are not covered by this layout.
type RemoteControl struct {
	Password Password
	Operator uint32 // operator code, sent low byte first
	Command  ControlCommand
	// ValidUntil is when the command expires, in the meter's local time:
	// only the wall-clock fields are sent, years 2000..2099.
	ValidUntil time.Time
}

// Remote-control errors.
var (
	ErrBadCommand  = errors.New("dlt645: unknown remote-control command")
	ErrBadPassword = errors.New("dlt645: password code exceeds 24 bits")
	ErrBadTime     = errors.New("dlt645: time not representable")
)

const remoteControlLen = 16 // PA P0-P2, C0-C3, N1, N2, N3-N8

// RemoteControlRequest builds the 0x1C request.
func RemoteControlRequest(addr Address, rc RemoteControl) (Frame, error) {
	if !rc.Command.Valid() {
		return Frame{}, fmt.Errorf("%w: %s", ErrBadCommand, rc.Command)
	}
	if rc.Password.Code > 0xFFFFFF {
		return Frame{}, fmt.Errorf("%w: 0x%X", ErrBadPassword, rc.Password.Code)
	}
	ts, err := encodeTime(rc.ValidUntil)
	if err != nil {
		return Frame{}, err
	}
	p, op := rc.Password.Code, rc.Operator
	d := make([]byte, 0, remoteControlLen)
	d = append(d, rc.Password.Level, byte(p), byte(p>>8), byte(p>>16))
	d = append(d, byte(op), byte(op>>8), byte(op>>16), byte(op>>24))
	d = append(d, byte(rc.Command), 0x00) // N2 is reserved
	d = append(d, ts[:]...)
	return Frame{Address: addr, Control: CtrlRemoteControl, Data: d}, nil
}

// ParseRemoteControlRequest decodes a 0x1C request (for meter simulators).
// The command is not checked so the simulator can answer unknown ones with
// an error response; ValidUntil is placed in loc (UTC if nil).
func ParseRemoteControlRequest(f Frame, loc *time.Location) (RemoteControl, error) {
	if f.Control != CtrlRemoteControl {
		return RemoteControl{}, fmt.Errorf("%w: got %s, want %s", ErrUnexpected, f.Control, CtrlRemoteControl)
	}
	d := f.Data
	if len(d) != remoteControlLen {
		return RemoteControl{}, fmt.Errorf("%w: remote control has %d bytes, want %d", ErrLength, len(d), remoteControlLen)
	}
	t, err := decodeTime([6]byte(d[10:16]), loc)
	if err != nil {
		return RemoteControl{}, err
	}
	return RemoteControl{
		Password:   Password{Level: d[0], Code: uint32(d[1]) | uint32(d[2])<<8 | uint32(d[3])<<16},
		Operator:   uint32(d[4]) | uint32(d[5])<<8 | uint32(d[6])<<16 | uint32(d[7])<<24,
		Command:    ControlCommand(d[8]),
		ValidUntil: t,
	}, nil
}

// RemoteControlAck builds the meter's normal 0x9C answer.
func RemoteControlAck(addr Address) Frame {
	return Frame{Address: addr, Control: CtrlRemoteControl.Response()}
}

// ParseRemoteControlResponse returns nil for an acknowledgement and a
// *MeterError for a 0xDC error response. Data on an ack is ignored: the
// standard defines none, and refusing a confirmed trip over it helps no one.
func ParseRemoteControlResponse(f Frame) error {
	return expectResponse(f, CtrlRemoteControl)
}

// encodeTime packs ss mm hh DD MM YY as BCD, seconds first.
func encodeTime(t time.Time) ([6]byte, error) {
	if t.Year() < 2000 || t.Year() > 2099 {
		return [6]byte{}, fmt.Errorf("%w: year %d outside 2000..2099", ErrBadTime, t.Year())
	}
	f := [6]int{t.Second(), t.Minute(), t.Hour(), t.Day(), int(t.Month()), t.Year() % 100}
	var out [6]byte
	for i, v := range f {
		out[i] = byte(v/10)<<4 | byte(v%10)
	}
	return out, nil
}

func decodeTime(b [6]byte, loc *time.Location) (time.Time, error) {
	var f [6]int
	for i, c := range b {
		if c>>4 > 9 || c&0x0F > 9 {
			return time.Time{}, fmt.Errorf("%w: byte 0x%02X is not BCD", ErrBadTime, c)
		}
		f[i] = int(c>>4)*10 + int(c&0x0F)
	}
	sec, minute, hour, day, month, year := f[0], f[1], f[2], f[3], f[4], 2000+f[5]
	if sec > 59 || minute > 59 || hour > 23 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) {
		return time.Time{}, fmt.Errorf("%w: %02d-%02d-%02d %02d:%02d:%02d", ErrBadTime, year, month, day, hour, minute, sec)
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
