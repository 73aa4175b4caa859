package dlt645

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add(mustHex(f, publishedRead))
	f.Add(mustHex(f, "FE FE FE FE "+publishedRead))
	f.Add(mustHex(f, "68 01 00 00 00 00 00 68 9C 00 6D 16"))
	f.Add(mustHex(f, "68 01 00 00 00 00 00 68 DC 01 37 E5 16"))
	f.Add([]byte{0x68})
	// Seeds for the "control + data" interpretation.
	f.Add(mustHex(f, "91 00 00 01 00 78 56 34 12"))
	f.Add(mustHex(f, "1C 02 56 34 12 21 43 65 87 1A 00 30 45 17 09 03 25"))
	f.Add(mustHex(f, "93 01 00 00 00 00 00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Random bytes rarely carry a valid checksum, so also treat the
		// input as control + data of a well-formed frame to reach the
		// higher-level parsers.
		if len(b) > 0 && len(b) <= MaxDataLen+1 {
			built := Frame{Address: Address{1, 2, 3, 4, 5, 6}, Control: Control(b[0])}
			if len(b) > 1 {
				built.Data = b[1:]
			}
			raw, err := Encode(built)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(raw)
			if err != nil || !reflect.DeepEqual(back, built) {
				t.Fatalf("built frame round trip: %v %+v", err, back)
			}
			checkParsers(t, back)
		}

		fr, err := Decode(b)
		// The stream reader must agree with Decode on well-formed input.
		sf, serr := ReadFrame(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if serr != nil || !reflect.DeepEqual(sf, fr) {
			t.Fatalf("ReadFrame disagrees: %+v %v vs %+v", sf, serr, fr)
		}
		// A decoded frame re-encodes to the same bytes minus the preamble.
		out, err := Encode(fr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, bytes.TrimLeft(b, "\xFE")) {
			t.Fatalf("re-encode % X, input % X", out, b)
		}
		checkParsers(t, fr)
	})
}

// checkParsers runs every frame-level parser; none may panic, and a valid
// remote-control request must re-encode to the same body.
func checkParsers(t *testing.T, fr Frame) {
	t.Helper()
	_, _ = ParseReading(fr)
	for _, it := range items {
		_, _ = ParseReadResponse(fr, it)
	}
	_, _ = ParseReadAddressResponse(fr)
	_ = ParseRemoteControlResponse(fr)
	if rc, err := ParseRemoteControlRequest(fr, nil); err == nil && rc.Command.Valid() {
		again, err := RemoteControlRequest(fr.Address, rc)
		if err != nil {
			t.Fatalf("re-encode remote control: %v", err)
		}
		// N2 is reserved and dropped by the parser.
		want := append([]byte(nil), fr.Data...)
		want[9] = 0
		if !bytes.Equal(again.Data, want) {
			t.Fatalf("remote control % X, want % X", again.Data, want)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	f.Add([]byte{0x78, 0x56, 0x34, 0x12}, uint8(4), false, false)
	f.Add([]byte{0x23, 0x51, 0x80}, uint8(3), true, false)
	f.Add([]byte{0xFF, 0xFF}, uint8(2), false, false)
	f.Add([]byte{0xFF, 0xFF}, uint8(2), false, true)
	f.Add([]byte{0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99}, uint8(8), false, false)
	f.Fuzz(func(t *testing.T, data []byte, length uint8, signed, bits bool) {
		it := Item{Length: int(length % (MaxValueLen + 2)), Signed: signed, Bits: bits}
		v, err := ParseValue(it, data)
		if err != nil {
			return
		}
		back, err := EncodeValue(it, v)
		if err != nil {
			t.Fatalf("EncodeValue(%d): %v", v, err)
		}
		want := append([]byte(nil), data...)
		if v == 0 && signed && !bits {
			want[len(want)-1] &^= 0x80 // negative zero normalises to zero
		}
		if !bytes.Equal(back, want) {
			t.Fatalf("round trip % X -> %d -> % X", data, v, back)
		}
	})
}
