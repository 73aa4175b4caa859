package sweep

import (
	"encoding/binary"
	"time"
)

// PostgreSQL's binary COPY format, for the readings: the server stores
// uuids, timestamps and numerics as sent, where the text format made it
// parse every one of them (a tenth of its CPU in a sweep).

// copyBinaryHeader is the signature, the flags and the header extension length.
var copyBinaryHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// pgEpochMicros is 2000-01-01T00:00:00Z in Unix microseconds.
const pgEpochMicros = 946_684_800_000_000

func appendFieldCount(b []byte, n int) []byte { return binary.BigEndian.AppendUint16(b, uint16(n)) }

func appendUUID(b []byte, id [16]byte) []byte {
	b = binary.BigEndian.AppendUint32(b, 16)
	return append(b, id[:]...)
}

func appendTimestamptz(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-pgEpochMicros))
}

func appendInt4(b []byte, v int32) []byte {
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, uint32(v))
}

func appendInt2(b []byte, v int16) []byte {
	b = binary.BigEndian.AppendUint32(b, 2)
	return binary.BigEndian.AppendUint16(b, uint16(v))
}

// appendNumeric appends v×10^-places (places 0..4) as a binary numeric:
// base-10000 digits, the last one the fraction when places > 0.
func appendNumeric(b []byte, v int64, places int) []byte {
	neg := v < 0
	if neg {
		v = -v // a register value is far from math.MinInt64
	}
	// Scale to four decimals, so the point falls between two digits.
	w := uint64(v)
	for range 4 - places {
		w *= 10
	}
	var digits [8]uint16 // 10000^8 > 2^64
	n := 0
	for ; w > 0; w /= 10000 {
		digits[len(digits)-1-n] = uint16(w % 10000)
		n++
	}
	d := digits[len(digits)-n:]
	weight := n - 2 // the last digit is 10000^-1
	// Trailing zero digits are not stored: the server strips them anyway.
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	if len(d) == 0 {
		weight = 0
	}
	var sign uint16
	if neg && len(d) > 0 {
		sign = 0x4000
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*len(d)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(d)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(places))
	for _, x := range d {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

// copyBinaryTrailer ends the tuples.
var copyBinaryTrailer = []byte{0xff, 0xff}
