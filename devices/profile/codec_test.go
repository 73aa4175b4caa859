package profile

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func TestDecode(t *testing.T) {
	p := mustRef(t)
	tests := []struct {
		name  string
		start uint16
		regs  []uint16
		want  Values
		skip  []string // quantities that must be absent
	}{
		{
			name:  "u32 high word first",
			start: 0x0000,
			regs:  []uint16{0x0001, 0x86A0},
			want:  Values{Energy: 100000},
		},
		{
			name:  "i32 negative remaining",
			start: 0x0100,
			regs:  []uint16{0xFFFF, 0xFF38}, // -200 = -2.00 yuan
			want:  Values{Remaining: -200},
		},
		{
			name:  "i16 negative power, u16 neighbours",
			start: 0x000B,
			regs:  []uint16{2200, 454, 0xFC18}, // 220.0 V, 4.54 A, -1.000 kW
			want:  Values{Voltage: 2200, Current: 454, Power: -1000},
		},
		{
			name:  "u32 full range",
			start: 0x0103,
			regs:  []uint16{0xFFFF, 0xFFFF},
			want:  Values{CumulativePurchased: 0xFFFFFFFF},
		},
		{
			name:  "quantity cut by block edge is left out",
			start: 0x0001,
			regs:  []uint16{0x1111, 0x0000, 0x0064, 0x0000},
			want:  Values{EnergySharp: 100},
			skip:  []string{Energy, EnergyPeak},
		},
		{
			name:  "empty block",
			start: 0x0100,
			regs:  nil,
			want:  Values{},
			skip:  []string{Remaining},
		},
		{
			name:  "block at the top of the address space",
			start: 0xFFFF,
			regs:  []uint16{1},
			want:  Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decode(tt.start, tt.regs)
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %d (present %v), want %d", k, g, ok, v)
				}
			}
			for _, k := range tt.skip {
				if _, ok := got[k]; ok {
					t.Errorf("%s decoded from a partial block", k)
				}
			}
		})
	}
}

func TestLowWordFirstProfile(t *testing.T) {
	p, err := Parse([]byte(`{"name":"lw","protocol":"modbus","word_order":"low_first","max_read_gap":0,
		"quantities":[{"name":"remaining","address":"0x0010","words":2,"type":"i32","scale":"0.01"}],
		"commands":{"recharge":{"address":"0x0020","fields":[{"name":"amount","type":"u32"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Decode(0x0010, []uint16{0xFF38, 0xFFFF})[Remaining]; got != -200 {
		t.Errorf("remaining = %d, want -200", got)
	}
	_, regs, err := p.EncodeCommand(CmdRecharge, Values{FieldAmount: 0x00010002})
	if err != nil || regs[0] != 0x0002 || regs[1] != 0x0001 {
		t.Errorf("recharge regs = %04X, %v", regs, err)
	}
}

func TestEncodeBlock(t *testing.T) {
	p := mustRef(t)
	v := Values{Remaining: -200, PurchaseCount: 3, CumulativePurchased: 70000, Status: StatusAlarm1 | StatusArrearsTrip}
	regs, err := p.EncodeBlock(v, 0x00FF, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{0, 0xFFFF, 0xFF38, 3, 0x0001, 0x1170, 0, 0, 0, 0, 0, 0, 0, 0, 0x0005, 0}
	if !slices.Equal(regs, want) {
		t.Errorf("EncodeBlock = %04X\nwant          %04X", regs, want)
	}
	// Half of a u32 is served as its word, like a meter would.
	regs, _ = p.EncodeBlock(v, 0x0101, 1)
	if regs[0] != 0xFF38 {
		t.Errorf("low half of remaining = %04X", regs[0])
	}
	if _, err := p.EncodeBlock(Values{Voltage: -1}, 0x000B, 1); !errors.Is(err, ErrBadValue) {
		t.Errorf("negative u16: %v, want ErrBadValue", err)
	}
}

// FuzzDecode feeds arbitrary register blocks at arbitrary addresses to the
// reference decoder. It must never panic, and every value it reports must
// encode back to the exact registers it came from.
func FuzzDecode(f *testing.F) {
	p := mustRef(f)
	f.Add(uint16(0x0000), []byte{0x00, 0x01, 0x86, 0xA0})
	f.Add(uint16(0x0100), []byte{0xFF, 0xFF, 0xFF, 0x38, 0x00, 0x03})
	f.Add(uint16(0xFFFF), []byte{0x12, 0x34, 0x56})
	f.Add(uint16(0x000B), []byte{})
	f.Fuzz(func(t *testing.T, start uint16, data []byte) {
		regs := make([]uint16, len(data)/2)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(data[2*i:])
		}
		values := p.Decode(start, regs)
		for name, v := range values {
			q, _ := p.Quantity(name)
			words, err := p.EncodeBlock(Values{name: v}, uint16(q.Address), q.Words)
			if err != nil {
				t.Fatalf("%s = %d does not encode: %v", name, v, err)
			}
			off := int(q.Address) - int(start)
			if !slices.Equal(words, regs[off:off+q.Words]) {
				t.Fatalf("%s: %04X decoded to %d, encodes to %04X", name, regs[off:off+q.Words], v, words)
			}
		}
	})
}

// FuzzDecodeCommand feeds arbitrary writes to the command matcher, as the
// simulator does with whatever a client sends. Matched commands must
// re-encode to the same registers.
func FuzzDecodeCommand(f *testing.F) {
	p := mustRef(f)
	f.Add(uint16(0x0200), []byte{0x00, 0x01, 0x00, 0x00, 0x27, 0x10})
	f.Add(uint16(0x0057), []byte{0x00, 0x01, 0x00, 0x01})
	f.Add(uint16(0x0220), []byte{0x5A, 0x5A})
	f.Fuzz(func(t *testing.T, addr uint16, data []byte) {
		regs := make([]uint16, len(data)/2)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(data[2*i:])
		}
		name, args, err := p.DecodeCommand(addr, regs)
		if err != nil {
			if !errors.Is(err, ErrNoCommand) && !errors.Is(err, ErrBadValue) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		gotAddr, got, err := p.EncodeCommand(name, args)
		if err != nil || gotAddr != addr || !slices.Equal(got, regs) {
			t.Fatalf("%s: 0x%04X %04X re-encodes to 0x%04X %04X (%v)", name, addr, regs, gotAddr, got, err)
		}
	})
}
