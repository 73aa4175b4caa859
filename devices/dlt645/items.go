package dlt645

import (
	"errors"
	"fmt"
)

// DataID is a 4-byte data identifier written as printed in the standard,
// DI3 first: 0x00010000 is "00 01 00 00". On the wire it goes DI0 first.
type DataID uint32

// Identifiers we read.
const (
	DIForwardActiveEnergyTotal DataID = 0x00010000
	DIVoltageA                 DataID = 0x02010100
	DICurrentA                 DataID = 0x02020100
	DIActivePowerTotal         DataID = 0x02030000
	DIRemainingMoney           DataID = 0x00900200
	DIPurchaseCount            DataID = 0x03330201
	DIRunStatus3               DataID = 0x04000503 // 电表运行状态字3 (operation)
)

// Bits of run status word 3 (DIRunStatus3) the platform uses.
const (
	Status3RelayOpen        = 1 << 4 // 继电器状态: the relay is open (cut off)
	Status3RelayCommandOpen = 1 << 6 // 继电器命令状态: a switch-off command is in force
)

// wire returns the identifier in transmission order (DI0 first).
func (d DataID) wire() [4]byte {
	return [4]byte{byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)}
}

func dataIDFromWire(b []byte) DataID {
	return DataID(b[0]) | DataID(b[1])<<8 | DataID(b[2])<<16 | DataID(b[3])<<24
}

func (d DataID) String() string {
	return fmt.Sprintf("%02X %02X %02X %02X", byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
}

// Item describes how one identifier's value is encoded. The value is a BCD
// number of Length bytes, low byte first; with Signed the top bit of the
// highest byte is the sign (so its high digit is at most 7). The integer
// read is in units of 10^-Decimals Unit.
type Item struct {
	ID       DataID
	Name     string
	Length   int // value bytes, excluding the identifier; 1..MaxValueLen
	Decimals int
	Signed   bool
	// Bits marks a status word: the bytes are a bit string (low byte
	// first), not BCD digits.
	Bits bool
	Unit string
}

// MaxValueLen keeps any BCD value (up to 16 digits) inside an int64.
const MaxValueLen = 8

// items is the identifier table; supporting another identifier is a row.
var items = []Item{
	{ID: DIForwardActiveEnergyTotal, Name: "total forward active energy", Length: 4, Decimals: 2, Unit: "kWh"}, // XXXXXX.XX
	{ID: DIVoltageA, Name: "A-phase voltage", Length: 2, Decimals: 1, Unit: "V"},                               // XXX.X
	{ID: DICurrentA, Name: "A-phase current", Length: 3, Decimals: 3, Signed: true, Unit: "A"},                 // XXX.XXX
	{ID: DIActivePowerTotal, Name: "total active power", Length: 3, Decimals: 4, Signed: true, Unit: "kW"},     // XX.XXXX
	{ID: DIRemainingMoney, Name: "remaining money", Length: 4, Decimals: 2, Unit: "yuan"},                      // XXXXXX.XX
	{ID: DIPurchaseCount, Name: "purchase count", Length: 2, Decimals: 0, Unit: ""},                            // XXXX
	{ID: DIRunStatus3, Name: "run status word 3", Length: 2, Bits: true},                                       // XXXX, bits
}

// Lookup returns the table row for id.
func Lookup(id DataID) (Item, bool) {
	for _, it := range items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Items returns a copy of the identifier table.
func Items() []Item { return append([]Item(nil), items...) }

// Value errors.
var (
	ErrUnknownDataID = errors.New("dlt645: unknown data identifier")
	ErrBadItem       = errors.New("dlt645: invalid item definition")
	ErrBadBCD        = errors.New("dlt645: invalid BCD digit")
	ErrOutOfRange    = errors.New("dlt645: value out of range for item")
)

func (it Item) check() error {
	if it.Length < 1 || it.Length > MaxValueLen || (it.Bits && it.Length > 7) {
		// A bit string of 8 bytes would not fit a non-negative int64.
		return fmt.Errorf("%w: %s length %d", ErrBadItem, it.ID, it.Length)
	}
	return nil
}

// ParseValue decodes a value field (plain bytes, +0x33 already removed) into
// an integer in the item's smallest unit.
func ParseValue(it Item, data []byte) (int64, error) {
	if err := it.check(); err != nil {
		return 0, err
	}
	if len(data) != it.Length {
		return 0, fmt.Errorf("%w: %s value has %d bytes, want %d", ErrLength, it.ID, len(data), it.Length)
	}
	if it.Bits {
		var v int64
		for i := len(data) - 1; i >= 0; i-- {
			v = v<<8 | int64(data[i])
		}
		return v, nil
	}
	var v int64
	neg := false
	for i := len(data) - 1; i >= 0; i-- {
		b := data[i]
		if it.Signed && i == len(data)-1 {
			neg = b&0x80 != 0
			b &^= 0x80
		}
		hi, lo := b>>4, b&0x0F
		if hi > 9 || lo > 9 {
			return 0, fmt.Errorf("%w: %s byte 0x%02X", ErrBadBCD, it.ID, data[i])
		}
		v = v*100 + int64(hi)*10 + int64(lo)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// maxMagnitude is the largest absolute value the item can carry.
func (it Item) maxMagnitude() int64 {
	m := int64(1)
	for range 2*it.Length - 1 {
		m *= 10
	}
	if it.Signed {
		return 8*m - 1 // the top digit shares its byte with the sign bit
	}
	return 10*m - 1
}

// EncodeValue is the inverse of ParseValue, used to build responses (meter
// simulators, tests).
func EncodeValue(it Item, v int64) ([]byte, error) {
	if err := it.check(); err != nil {
		return nil, err
	}
	if it.Bits {
		if v < 0 || (it.Length < 8 && v >= 1<<(8*it.Length)) {
			return nil, fmt.Errorf("%w: %s value %d", ErrOutOfRange, it.ID, v)
		}
		out := make([]byte, it.Length)
		for i := range out {
			out[i] = byte(v >> (8 * i))
		}
		return out, nil
	}
	maxV := it.maxMagnitude()
	if v > maxV || v < -maxV || (v < 0 && !it.Signed) {
		return nil, fmt.Errorf("%w: %s value %d", ErrOutOfRange, it.ID, v)
	}
	neg := v < 0
	if neg {
		v = -v // safe: |v| <= maxV
	}
	out := make([]byte, it.Length)
	for i := range out {
		d := v % 100
		v /= 100
		out[i] = byte(d/10)<<4 | byte(d%10)
	}
	if neg {
		out[len(out)-1] |= 0x80
	}
	return out, nil
}
