package dlt645

import (
	"fmt"
	"strings"
)

// Address is a meter address in wire order: Address[0] is the lowest BCD
// byte, i.e. the last two digits of the printed 12-digit number.
type Address [6]byte

// wildcardByte may replace any address byte; the meter then ignores that
// byte when matching. An all-wildcard address reaches whichever single meter
// is on the line, which is how 0x13 discovers an unknown address.
const wildcardByte = 0xAA

var (
	// WildcardAddress (AAAAAAAAAAAA) is used with read-address (0x13).
	WildcardAddress = Address{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}
	// BroadcastAddress (999999999999) is the standard's broadcast, used for
	// time sync; meters never answer it.
	BroadcastAddress = Address{0x99, 0x99, 0x99, 0x99, 0x99, 0x99}
)

// ParseAddress parses the printed form, most significant digit first, e.g.
// "000000000001". Shorter strings are zero-padded on the left, as the
// standard pads short addresses with leading zeros. Each byte must be two
// BCD digits or the wildcard "AA".
func ParseAddress(s string) (Address, error) {
	var a Address
	if len(s) == 0 || len(s) > 12 {
		return a, fmt.Errorf("%w: %q: want 1 to 12 digits", ErrBadAddress, s)
	}
	s = strings.Repeat("0", 12-len(s)) + s
	for i := range 6 {
		hi, lo := s[2*i], s[2*i+1]
		var b byte
		switch {
		case (hi == 'A' || hi == 'a') && (lo == 'A' || lo == 'a'):
			b = wildcardByte
		case isDigit(hi) && isDigit(lo):
			b = (hi-'0')<<4 | (lo - '0')
		default:
			return Address{}, fmt.Errorf("%w: %q: byte %q is not BCD or AA", ErrBadAddress, s, s[2*i:2*i+2])
		}
		a[5-i] = b
	}
	return a, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// String prints the address most significant byte first ("000000000001").
func (a Address) String() string {
	return fmt.Sprintf("%02X%02X%02X%02X%02X%02X", a[5], a[4], a[3], a[2], a[1], a[0])
}

// Matches reports whether a frame sent to a would be accepted by the meter
// whose own address is meter: every byte equal, or a wildcard in a.
func (a Address) Matches(meter Address) bool {
	for i := range a {
		if a[i] != wildcardByte && a[i] != meter[i] {
			return false
		}
	}
	return true
}

// IsBroadcast reports whether a is the no-reply broadcast address.
func (a Address) IsBroadcast() bool { return a == BroadcastAddress }
