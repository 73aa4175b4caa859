package dlt645

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAddr(t testing.TB, s string) Address {
	t.Helper()
	a, err := ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The published frame from the meter docs.
const publishedRead = "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16"

func TestPublishedReadFrame(t *testing.T) {
	addr := mustAddr(t, "000000000001")
	f := ReadRequest(addr, DIForwardActiveEnergyTotal)
	got, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, publishedRead)
	if !bytes.Equal(got, want) {
		t.Fatalf("encode = % X\nwant     % X", got, want)
	}
	back, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Fatalf("decode = %+v, want %+v", back, f)
	}
	if back.Address.String() != "000000000001" {
		t.Fatalf("address = %s", back.Address)
	}
}

func TestEncodeDoesNotMutateData(t *testing.T) {
	f := ReadRequest(Address{1}, DIVoltageA)
	orig := append([]byte(nil), f.Data...)
	if _, err := EncodeWithPreamble(f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, orig) {
		t.Fatalf("data mutated: % X", f.Data)
	}
}

func TestDecode(t *testing.T) {
	good := publishedRead
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"plain", good, nil},
		{"4 FE preamble", "FE FE FE FE " + good, nil},
		{"1 FE preamble", "FE " + good, nil},
		{"empty", "", ErrTruncated},
		{"preamble only", "FE FE FE FE", ErrTruncated},
		{"bad first start", "69 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16", ErrBadStart},
		{"bad second start", "68 01 00 00 00 00 00 69 11 04 33 33 34 33 B3 16", ErrBadStart},
		{"bad checksum", "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B4 16", ErrBadChecksum},
		{"bad data byte", "68 01 00 00 00 00 00 68 11 04 33 33 35 33 B3 16", ErrBadChecksum},
		{"bad end", "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 17", ErrBadEnd},
		{"truncated header", "68 01 00 00 00", ErrTruncated},
		{"truncated data", "68 01 00 00 00 00 00 68 11 04 33 33", ErrTruncated},
		{"missing end", "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3", ErrTruncated},
		{"length too big", "68 01 00 00 00 00 00 68 11 05 33 33 34 33 B3 16", ErrTruncated},
		{"trailing", good + " 00", ErrTrailingData},
		{"garbage before", "00 " + good, ErrBadStart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode(mustHex(t, tc.in))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if f.Control != CtrlRead || !bytes.Equal(f.Data, []byte{0, 0, 1, 0}) {
					t.Fatalf("decoded %+v", f)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestEncodeTooLong(t *testing.T) {
	_, err := Encode(Frame{Data: make([]byte, 256)})
	if !errors.Is(err, ErrDataTooLong) {
		t.Fatalf("err = %v", err)
	}
	// 255 is the maximum and must round-trip.
	f := Frame{Address: Address{1}, Control: 0x91, Data: bytes.Repeat([]byte{0xCD}, 255)}
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		err  bool
	}{
		{"000000000001", Address{0x01}, false},
		{"123456789012", Address{0x12, 0x90, 0x78, 0x56, 0x34, 0x12}, false},
		{"AAAAAAAAAAAA", WildcardAddress, false},
		{"aaaaaaaaaaaa", WildcardAddress, false},
		{"999999999999", BroadcastAddress, false},
		{"1", Address{0x01}, false},
		{"", Address{}, true},
		{"0000000000001", Address{}, true},
		{"00000000000A", Address{}, true},
		{"0000000000x1", Address{}, true},
	}
	for _, tc := range tests {
		got, err := ParseAddress(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if tc.err {
			if !errors.Is(err, ErrBadAddress) {
				t.Errorf("%q: err = %v, want ErrBadAddress", tc.in, err)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%q: got % X want % X", tc.in, got[:], tc.want[:])
		}
		if len(tc.in) == 12 && !strings.EqualFold(got.String(), tc.in) {
			t.Errorf("%q: String() = %s", tc.in, got)
		}
	}
	meter := mustAddr(t, "123456789012")
	for _, tc := range []struct {
		to   string
		want bool
	}{
		{"123456789012", true},
		{"AAAAAAAAAAAA", true},
		{"AAAAAAAA9012", true},
		{"AAAAAAAA9013", false},
		{"000000000001", false},
	} {
		if got := mustAddr(t, tc.to).Matches(meter); got != tc.want {
			t.Errorf("%s matches %s = %v", tc.to, meter, got)
		}
	}
	if !BroadcastAddress.IsBroadcast() || meter.IsBroadcast() {
		t.Error("IsBroadcast")
	}
}

func TestReadResponseRoundTrip(t *testing.T) {
	addr := mustAddr(t, "202312310042")
	tests := []struct {
		id    DataID
		value int64
		wire  string // plain value bytes, low byte first
	}{
		{DIForwardActiveEnergyTotal, 12345678, "78 56 34 12"}, // 123456.78 kWh
		{DIForwardActiveEnergyTotal, 0, "00 00 00 00"},
		{DIForwardActiveEnergyTotal, 99999999, "99 99 99 99"},
		{DIVoltageA, 2205, "05 22"},                // 220.5 V
		{DICurrentA, 5123, "23 51 00"},             // 5.123 A
		{DICurrentA, -5123, "23 51 80"},            // -5.123 A
		{DICurrentA, -799999, "99 99 F9"},          // most negative
		{DIActivePowerTotal, 12345, "45 23 01"},    // 1.2345 kW
		{DIActivePowerTotal, -12345, "45 23 81"},   // -1.2345 kW (exporting)
		{DIRemainingMoney, 1000050, "50 00 00 01"}, // 10000.50 yuan
		{DIPurchaseCount, 37, "37 00"},
		{DIRunStatus3, 0x0250, "50 02"}, // relay open, command in force, money-type prepaid
		{DIRunStatus3, 0xFFFF, "FF FF"}, // bits, not BCD
	}
	for _, tc := range tests {
		it, ok := Lookup(tc.id)
		if !ok {
			t.Fatalf("%s not in table", tc.id)
		}
		f, err := ReadResponse(addr, it, tc.value)
		if err != nil {
			t.Fatalf("%s %d: %v", tc.id, tc.value, err)
		}
		w := tc.id.wire()
		if want := append(w[:], mustHex(t, tc.wire)...); !bytes.Equal(f.Data, want) {
			t.Errorf("%s %d: data % X want % X", tc.id, tc.value, f.Data, want)
		}
		raw, err := Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.id, err)
		}
		if back.Control != 0x91 || back.Address != addr {
			t.Errorf("%s: control %s address %s", tc.id, back.Control, back.Address)
		}
		v, err := ParseReadResponse(back, it)
		if err != nil || v != tc.value {
			t.Errorf("%s: ParseReadResponse = %d, %v; want %d", tc.id, v, err, tc.value)
		}
		r, err := ParseReading(back)
		if err != nil || r.Value != tc.value || r.Item.ID != tc.id {
			t.Errorf("%s: ParseReading = %+v, %v", tc.id, r, err)
		}
	}
	// Every table row must be covered above.
	seen := map[DataID]bool{}
	for _, tc := range tests {
		seen[tc.id] = true
	}
	for _, it := range Items() {
		if !seen[it.ID] {
			t.Errorf("no round-trip case for %s %s", it.ID, it.Name)
		}
	}
}

func TestParseReadResponseErrors(t *testing.T) {
	addr := Address{1}
	energy, _ := Lookup(DIForwardActiveEnergyTotal)
	volt, _ := Lookup(DIVoltageA)
	okResp, _ := ReadResponse(addr, energy, 1)
	tests := []struct {
		name string
		f    Frame
		it   Item
		want error
	}{
		{"wrong id", okResp, volt, ErrDataIDMismatch},
		{"request not response", ReadRequest(addr, energy.ID), energy, ErrUnexpected},
		{"other function", RemoteControlAck(addr), energy, ErrUnexpected},
		{"short value", Frame{Address: addr, Control: 0x91, Data: []byte{0, 0, 1, 0, 1}}, energy, ErrLength},
		{"no id", Frame{Address: addr, Control: 0x91, Data: []byte{0, 0}}, energy, ErrLength},
		{"bad bcd", Frame{Address: addr, Control: 0x91, Data: []byte{0, 0, 1, 0, 0x0A, 0, 0, 0}}, energy, ErrBadBCD},
		{"abnormal no data", ErrorResponse(addr, CtrlRead, CodeNoData), energy, CodeNoData},
		{"abnormal password", ErrorResponse(addr, CtrlRead, CodeUnauthorized|CodeOther), energy, CodeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := Encode(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseReadResponse(f, tc.it)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	unknown := Frame{Address: addr, Control: 0x91, Data: []byte{0xFF, 0xFF, 0xFF, 0xFF, 0}}
	if _, err := ParseReading(unknown); !errors.Is(err, ErrUnknownDataID) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestMeterError(t *testing.T) {
	f := ErrorResponse(Address{1}, CtrlRead, CodeUnauthorized|CodeNoData)
	if f.Control != 0xD1 {
		t.Fatalf("control %s", f.Control)
	}
	_, err := ParseReadResponse(f, Item{ID: DIVoltageA, Length: 2})
	var me *MeterError
	if !errors.As(err, &me) || me.Code != 0x06 {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, CodeUnauthorized) || !errors.Is(err, CodeNoData) || errors.Is(err, CodeOther) {
		t.Fatal("bit matching")
	}
	if s := err.Error(); !strings.Contains(s, "password error/unauthorised") || !strings.Contains(s, "no data requested") {
		t.Fatalf("message %q", s)
	}
	// An abnormal response without an error word is still a MeterError.
	_, err = ParseReadResponse(Frame{Control: 0xD1}, Item{ID: DIVoltageA, Length: 2})
	if !errors.As(err, &me) || me.Code != 0 || errors.Is(err, CodeOther) {
		t.Fatalf("empty abnormal: %v", err)
	}
}

func TestReadAddress(t *testing.T) {
	req := ReadAddressRequest()
	raw, err := Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, "68 AA AA AA AA AA AA 68 13 00 DF 16"); !bytes.Equal(raw, want) {
		t.Fatalf("request % X want % X", raw, want)
	}
	meter := mustAddr(t, "123456789012")
	if !req.Address.Matches(meter) {
		t.Fatal("wildcard should reach any meter")
	}
	raw, err = Encode(ReadAddressResponse(meter))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReadAddressResponse(f)
	if err != nil || got != meter {
		t.Fatalf("got %s, %v", got, err)
	}
	if _, err := ParseReadAddressResponse(ErrorResponse(meter, CtrlReadAddress, CodeOther)); !errors.Is(err, CodeOther) {
		t.Fatalf("abnormal: %v", err)
	}
	if _, err := ParseReadAddressResponse(Frame{Control: 0x93, Data: []byte{1}}); !errors.Is(err, ErrLength) {
		t.Fatalf("short: %v", err)
	}
}

func TestRemoteControlRoundTrip(t *testing.T) {
	addr := mustAddr(t, "000000000001")
	until := time.Date(2025, 3, 9, 17, 45, 30, 0, time.UTC)
	rc := RemoteControl{
		Password:   Password{Level: 0x02, Code: 0x123456},
		Operator:   0x87654321,
		Command:    CmdSwitchOff,
		ValidUntil: until,
	}
	f, err := RemoteControlRequest(addr, rc)
	if err != nil {
		t.Fatal(err)
	}
	wantData := mustHex(t, "02 56 34 12  21 43 65 87  1A 00  30 45 17 09 03 25")
	if !bytes.Equal(f.Data, wantData) {
		t.Fatalf("data % X\nwant % X", f.Data, wantData)
	}
	raw, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Header and wire offset: 68 addr 68 1C 10, then each byte +0x33.
	if !bytes.HasPrefix(raw, mustHex(t, "68 01 00 00 00 00 00 68 1C 10 35 89 67 45")) {
		t.Fatalf("wire % X", raw)
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRemoteControlRequest(back, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got != rc {
		t.Fatalf("round trip %+v, want %+v", got, rc)
	}

	for _, cmd := range []ControlCommand{CmdSwitchOnAllowed, CmdSwitchOnDirect, CmdProtect, CmdProtectReleased} {
		rc.Command = cmd
		f, err := RemoteControlRequest(addr, rc)
		if err != nil || f.Data[8] != byte(cmd) {
			t.Fatalf("%s: %v", cmd, err)
		}
	}

	// Responses.
	ack, err := Encode(RemoteControlAck(addr))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, "68 01 00 00 00 00 00 68 9C 00 6D 16"); !bytes.Equal(ack, want) {
		t.Fatalf("ack % X want % X", ack, want)
	}
	af, err := Decode(ack)
	if err != nil {
		t.Fatal(err)
	}
	if err := ParseRemoteControlResponse(af); err != nil {
		t.Fatalf("ack: %v", err)
	}
	nak, err := Encode(ErrorResponse(addr, CtrlRemoteControl, CodeUnauthorized))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, "68 01 00 00 00 00 00 68 DC 01 37 E5 16"); !bytes.Equal(nak, want) {
		t.Fatalf("nak % X want % X", nak, want)
	}
	nf, err := Decode(nak)
	if err != nil {
		t.Fatal(err)
	}
	if err := ParseRemoteControlResponse(nf); !errors.Is(err, CodeUnauthorized) {
		t.Fatalf("nak: %v", err)
	}
	if err := ParseRemoteControlResponse(ReadRequest(addr, DIVoltageA)); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("wrong frame: %v", err)
	}
}

func TestRemoteControlErrors(t *testing.T) {
	ok := RemoteControl{Command: CmdProtect, ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	mod := func(f func(*RemoteControl)) RemoteControl { r := ok; f(&r); return r }
	tests := []struct {
		name string
		rc   RemoteControl
		want error
	}{
		{"bad command", mod(func(r *RemoteControl) { r.Command = 0x55 }), ErrBadCommand},
		{"password too wide", mod(func(r *RemoteControl) { r.Password.Code = 0x1000000 }), ErrBadPassword},
		{"year 1999", mod(func(r *RemoteControl) { r.ValidUntil = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }), ErrBadTime},
		{"year 2100", mod(func(r *RemoteControl) { r.ValidUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }), ErrBadTime},
		{"zero time", mod(func(r *RemoteControl) { r.ValidUntil = time.Time{} }), ErrBadTime},
	}
	for _, tc := range tests {
		if _, err := RemoteControlRequest(Address{}, tc.rc); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	base, err := RemoteControlRequest(Address{}, ok)
	if err != nil {
		t.Fatal(err)
	}
	withTime := func(ts string) Frame {
		d := append([]byte(nil), base.Data...)
		copy(d[10:], mustHex(t, ts))
		return Frame{Control: CtrlRemoteControl, Data: d}
	}
	parseTests := []struct {
		name string
		f    Frame
		want error
	}{
		{"short", Frame{Control: CtrlRemoteControl, Data: base.Data[:15]}, ErrLength},
		{"response control", Frame{Control: 0x9C, Data: base.Data}, ErrUnexpected},
		{"non-BCD time", withTime("0A 00 00 01 01 25"), ErrBadTime},
		{"month 13", withTime("00 00 00 01 13 25"), ErrBadTime},
		{"Feb 30", withTime("00 00 00 30 02 25"), ErrBadTime},
		{"hour 24", withTime("00 00 24 01 01 25"), ErrBadTime},
	}
	for _, tc := range parseTests {
		if _, err := ParseRemoteControlRequest(tc.f, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Feb 29 in a leap year is valid.
	if _, err := ParseRemoteControlRequest(withTime("00 00 00 29 02 24"), nil); err != nil {
		t.Errorf("leap day: %v", err)
	}
}

func TestValueCodec(t *testing.T) {
	tests := []struct {
		name string
		it   Item
		v    int64
		want error
	}{
		{"unsigned negative", Item{Length: 2}, -1, ErrOutOfRange},
		{"unsigned max", Item{Length: 2}, 9999, nil},
		{"unsigned over", Item{Length: 2}, 10000, ErrOutOfRange},
		{"signed max", Item{Length: 2, Signed: true}, 7999, nil},
		{"signed over", Item{Length: 2, Signed: true}, 8000, ErrOutOfRange},
		{"signed min", Item{Length: 2, Signed: true}, -7999, nil},
		{"signed under", Item{Length: 2, Signed: true}, -8000, ErrOutOfRange},
		{"min int64", Item{Length: 8, Signed: true}, -1 << 63, ErrOutOfRange},
		{"8 bytes max", Item{Length: 8}, 9999999999999999, nil},
		{"zero length", Item{Length: 0}, 0, ErrBadItem},
		{"9 bytes", Item{Length: 9}, 0, ErrBadItem},
		{"bits max", Item{Length: 2, Bits: true}, 0xFFFF, nil},
		{"bits over", Item{Length: 2, Bits: true}, 0x10000, ErrOutOfRange},
		{"bits negative", Item{Length: 2, Bits: true}, -1, ErrOutOfRange},
		{"bits 8 bytes", Item{Length: 8, Bits: true}, 0, ErrBadItem},
	}
	for _, tc := range tests {
		b, err := EncodeValue(tc.it, tc.v)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			continue
		}
		if err != nil {
			continue
		}
		v, err := ParseValue(tc.it, b)
		if err != nil || v != tc.v {
			t.Errorf("%s: round trip %d, %v", tc.name, v, err)
		}
	}
	// Negative zero (sign bit, zero magnitude) reads as 0.
	if v, err := ParseValue(Item{Length: 3, Signed: true}, []byte{0, 0, 0x80}); err != nil || v != 0 {
		t.Errorf("negative zero: %d %v", v, err)
	}
	// The top bit is only a sign for signed items: unsigned 0x80 is 80.
	if v, err := ParseValue(Item{Length: 1}, []byte{0x80}); err != nil || v != 80 {
		t.Errorf("unsigned 0x80: %d %v", v, err)
	}
	// Meters fill missing values with FF.
	if _, err := ParseValue(Item{Length: 2}, []byte{0xFF, 0xFF}); !errors.Is(err, ErrBadBCD) {
		t.Errorf("FF: %v", err)
	}
}

// TestRunStatusWord reads run status word 3 (04 00 05 03), a bit string
// rather than BCD: relay open (bit 4) on a money-type prepaid meter (bits
// 8–9 = 10) is 0x0210, sent low byte first and +0x33 like every data byte.
func TestRunStatusWord(t *testing.T) {
	it, ok := Lookup(DIRunStatus3)
	if !ok || !it.Bits || it.Length != 2 {
		t.Fatalf("run status word 3: %+v %v", it, ok)
	}
	addr := mustAddr(t, "000000000001")
	resp, err := ReadResponse(addr, it, 0x0210)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := Encode(resp)
	if err != nil {
		t.Fatal(err)
	}
	// 68 A0..A5 68 91 L=06, DI 03 05 00 04 and value 10 02, each +33.
	data := wire[10 : 10+6]
	if want := []byte{0x36, 0x38, 0x33, 0x37, 0x43, 0x35}; !bytes.Equal(data, want) {
		t.Fatalf("data field % X, want % X (frame % X)", data, want, wire)
	}
	back, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseReadResponse(back, it)
	if err != nil || v != 0x0210 || v&Status3RelayOpen == 0 || v&Status3RelayCommandOpen != 0 {
		t.Fatalf("parsed %#x, %v", v, err)
	}
	// FF bytes are a valid bit string, not a BCD error.
	if v, err := ParseValue(it, []byte{0xFF, 0xFF}); err != nil || v != 0xFFFF {
		t.Errorf("FF FF: %#x %v", v, err)
	}
}

func TestControlBits(t *testing.T) {
	c := Control(0xB1)
	if !c.IsResponse() || c.IsAbnormal() || !c.HasFollowUp() || c.Function() != CtrlRead {
		t.Fatal("0xB1 bits")
	}
	if CtrlRead.Response() != 0x91 || CtrlRead.AbnormalResponse() != 0xD1 ||
		CtrlRemoteControl.Response() != 0x9C || CtrlRemoteControl.AbnormalResponse() != 0xDC {
		t.Fatal("response codes")
	}
}

func TestReadFrame(t *testing.T) {
	pub := mustHex(t, publishedRead)
	resp, _ := ReadResponse(Address{1}, items[0], 42)
	respRaw, err := EncodeWithPreamble(resp)
	if err != nil {
		t.Fatal(err)
	}
	// Two frames back to back, the second with a preamble, then a clean end.
	var stream []byte
	stream = append(stream, pub...)
	stream = append(stream, respRaw...)
	r := bufio.NewReader(bytes.NewReader(stream))
	f1, err := ReadFrame(r)
	if err != nil || f1.Control != CtrlRead {
		t.Fatalf("first: %+v %v", f1, err)
	}
	f2, err := ReadFrame(r)
	if err != nil || !reflect.DeepEqual(f2, resp) {
		t.Fatalf("second: %+v %v", f2, err)
	}
	if _, err := ReadFrame(r); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}

	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated", pub[:len(pub)-3], ErrTruncated},
		{"truncated header", pub[:5], ErrTruncated},
		{"preamble then eof", []byte{0xFE, 0xFE}, ErrTruncated},
		{"bad checksum", append(append([]byte(nil), pub[:len(pub)-2]...), 0x00, 0x16), ErrBadChecksum},
		{"garbage", append([]byte{0x00}, pub...), ErrBadStart},
		{"bad second start", mustHex(t, "68 01 00 00 00 00 00 00 11 04"), ErrBadStart},
		{"endless preamble", bytes.Repeat([]byte{0xFE}, 100), ErrBadStart},
	}
	for _, tc := range tests {
		_, err := ReadFrame(bufio.NewReader(bytes.NewReader(tc.in)))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	_, err = ReadFrame(bufio.NewReader(bytes.NewReader(pub[:4])))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("mid-frame EOF should wrap io.ErrUnexpectedEOF: %v", err)
	}

	// After a garbage byte the caller can resync by reading again.
	r = bufio.NewReader(bytes.NewReader(append([]byte{0x00, 0x01}, pub...)))
	var got Frame
	for range 3 {
		if got, err = ReadFrame(r); err == nil {
			break
		}
	}
	if err != nil || got.Control != CtrlRead {
		t.Fatalf("resync: %v", err)
	}
}
