package profile

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func mustRef(t testing.TB) *Profile {
	t.Helper()
	p, err := Load(RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryEmbeddedProfileLoads(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no embedded profiles")
	}
	for _, n := range names {
		if _, err := Load(n); err != nil {
			t.Errorf("Load(%q): %v", n, err)
		}
	}
	if _, err := Load("no-such-meter"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Load(unknown) = %v, want ErrUnknownProfile", err)
	}
}

// The reference profile is the contract of docs/meters.md; pin it.
func TestRefPrepaidV1MatchesDocs(t *testing.T) {
	p := mustRef(t)
	want := []struct {
		name  string
		addr  uint16
		typ   Type
		scale string
	}{
		{Energy, 0x0000, U32, "0.01"},
		{EnergySharp, 0x0002, U32, "0.01"},
		{EnergyPeak, 0x0004, U32, "0.01"},
		{EnergyFlat, 0x0006, U32, "0.01"},
		{EnergyValley, 0x0008, U32, "0.01"},
		{Voltage, 0x000B, U16, "0.1"},
		{Current, 0x000C, U16, "0.01"},
		{Power, 0x000D, I16, "0.001"},
		{PowerFactor, 0x0010, U16, "0.001"},
		{Remaining, 0x0100, I32, "0.01"},
		{PurchaseCount, 0x0102, U16, "1"},
		{CumulativePurchased, 0x0103, U32, "0.01"},
		{Relay, 0x0105, U16, "1"},
		{Mode, 0x0106, U16, "1"},
		{Alarm1, 0x0107, U32, "0.01"},
		{Alarm2, 0x0109, U32, "0.01"},
		{UnitPrice, 0x010B, U32, "0.0001"},
		{Status, 0x010D, U16, "1"},
	}
	for _, w := range want {
		q, ok := p.Quantity(w.name)
		if !ok {
			t.Errorf("%s missing", w.name)
			continue
		}
		if uint16(q.Address) != w.addr || q.Type != w.typ || q.Scale.String() != w.scale {
			t.Errorf("%s = 0x%04X %s %s, want 0x%04X %s %s", w.name,
				uint16(q.Address), q.Type, q.Scale, w.addr, w.typ, w.scale)
		}
	}
	if len(p.Quantities) != len(want) {
		t.Errorf("%d quantities, want %d", len(p.Quantities), len(want))
	}

	blocks := p.Blocks()
	wantBlocks := []Block{{0x0000, 0x11}, {0x0100, 0x0E}}
	if len(blocks) != len(wantBlocks) || blocks[0] != wantBlocks[0] || blocks[1] != wantBlocks[1] {
		t.Errorf("Blocks() = %v, want %v", blocks, wantBlocks)
	}

	cmds := []struct {
		name string
		args Values
		addr uint16
		regs []uint16
	}{
		{CmdRecharge, Values{FieldCounter: 7, FieldAmount: 0x12345}, 0x0200, []uint16{7, 0x0001, 0x2345}},
		{CmdRefund, Values{FieldCounter: 8, FieldAmount: 500}, 0x0210, []uint16{8, 0, 500}},
		{CmdClearRemaining, nil, 0x0220, []uint16{0x5A5A}},
		{CmdSwitchOff, nil, 0x0057, []uint16{1, 1}},
		{CmdSwitchOn, nil, 0x0057, []uint16{1, 0}},
		{CmdSetMode, Values{FieldMode: ModeProtect}, 0x0106, []uint16{1}},
	}
	for _, c := range cmds {
		addr, regs, err := p.EncodeCommand(c.name, c.args)
		if err != nil {
			t.Errorf("EncodeCommand(%s): %v", c.name, err)
			continue
		}
		if addr != c.addr || !slices.Equal(regs, c.regs) {
			t.Errorf("EncodeCommand(%s) = 0x%04X %04X, want 0x%04X %04X", c.name, addr, regs, c.addr, c.regs)
		}
		name, args, err := p.DecodeCommand(addr, regs)
		if err != nil || name != c.name {
			t.Errorf("DecodeCommand(0x%04X, %04X) = %q, %v; want %q", addr, regs, name, err, c.name)
		}
		for k, v := range c.args {
			if args[k] != v {
				t.Errorf("DecodeCommand(%s) %s = %d, want %d", c.name, k, args[k], v)
			}
		}
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	p := mustRef(t)
	tests := []struct {
		name string
		addr uint16
		regs []uint16
		want error
	}{
		{"unknown address", 0x0300, []uint16{1}, ErrNoCommand},
		{"recharge too short", 0x0200, []uint16{1, 2}, ErrNoCommand},
		{"control, unknown pattern", 0x0057, []uint16{2, 2}, ErrBadValue},
		{"clear, wrong magic", 0x0220, []uint16{0x1234}, ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := p.DecodeCommand(tt.addr, tt.regs); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEncodeCommandErrors(t *testing.T) {
	p := mustRef(t)
	tests := []struct {
		name string
		cmd  string
		args Values
		want error
	}{
		{"unknown command", "self_destruct", nil, ErrUnknownCommand},
		{"missing field", CmdRecharge, Values{FieldCounter: 1}, ErrBadValue},
		{"counter too big", CmdRecharge, Values{FieldCounter: 1 << 16, FieldAmount: 1}, ErrBadValue},
		{"negative amount", CmdRefund, Values{FieldCounter: 1, FieldAmount: -1}, ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := p.EncodeCommand(tt.cmd, tt.args); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseRefusesBrokenProfiles(t *testing.T) {
	base := `{"name":"x","protocol":"modbus","max_read_gap":0,"quantities":[%s],"commands":{%s}}`
	tests := []struct {
		name       string
		quantities string
		commands   string
	}{
		{"typo in field", `{"name":"a","adress":"0x0001","words":1,"type":"u16","scale":"1"}`, ``},
		{"unknown type", `{"name":"a","address":1,"words":1,"type":"f32","scale":"1"}`, ``},
		{"words disagree with type", `{"name":"a","address":1,"words":1,"type":"u32","scale":"1"}`, ``},
		{"scale not a power of ten", `{"name":"a","address":1,"words":1,"type":"u16","scale":"0.5"}`, ``},
		{"overlap", `{"name":"a","address":1,"words":2,"type":"u32","scale":"1"},{"name":"b","address":2,"words":1,"type":"u16","scale":"1"}`, ``},
		{"duplicate name", `{"name":"a","address":1,"words":1,"type":"u16","scale":"1"},{"name":"a","address":2,"words":1,"type":"u16","scale":"1"}`, ``},
		{"past 0xFFFF", `{"name":"a","address":"0xFFFF","words":2,"type":"u32","scale":"1"}`, ``},
		{"command with neither", ``, `"c":{"address":1}`},
		{"command with both", ``, `"c":{"address":1,"values":[1],"fields":[{"name":"f","type":"u16"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(strings.Replace(base, "%s", tt.quantities, 1), "%s", tt.commands, 1)
			if _, err := Parse([]byte(doc)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestBlocksRespectGapAndSize(t *testing.T) {
	// 130 single registers every other address: a gap of 1 merges them, but
	// no block may exceed the 125 registers one read returns.
	var qs []Quantity
	for i := range 130 {
		qs = append(qs, Quantity{Name: string(rune('a' + i)), Address: Word(2 * i), Words: 1, Type: U16})
	}
	for _, gap := range []int{0, 1} {
		blocks := planBlocks(qs, gap)
		covered := 0
		for _, b := range blocks {
			if b.Words > MaxReadWords {
				t.Errorf("gap %d: block %v exceeds %d", gap, b, MaxReadWords)
			}
			for _, q := range qs {
				if uint32(q.Address) >= uint32(b.Address) && q.end() <= uint32(b.Address)+uint32(b.Words) {
					covered++
				}
			}
		}
		if covered != len(qs) {
			t.Errorf("gap %d: %d of %d quantities covered", gap, covered, len(qs))
		}
		if gap == 0 && len(blocks) != 130 || gap == 1 && len(blocks) != 3 {
			t.Errorf("gap %d: %d blocks", gap, len(blocks))
		}
	}
}

func TestWordAndScaleJSON(t *testing.T) {
	words := []struct {
		in   string
		want Word
		ok   bool
	}{
		{`"0x0100"`, 0x0100, true},
		{`"0X5a5a"`, 0x5A5A, true},
		{`256`, 256, true},
		{`"256"`, 256, true},
		{`"0x10000"`, 0, false},
		{`-1`, 0, false},
	}
	for _, w := range words {
		var got Word
		err := json.Unmarshal([]byte(w.in), &got)
		if (err == nil) != w.ok || got != w.want {
			t.Errorf("Word %s = %d, %v", w.in, got, err)
		}
	}
	scales := []struct {
		in   string
		want Scale
		ok   bool
	}{
		{`"0.0001"`, -4, true},
		{`"0.1"`, -1, true},
		{`"1"`, 0, true},
		{`"100"`, 2, true},
		{`"0."`, 0, false},
		{`"0.02"`, 0, false},
		{`""`, 0, false},
	}
	for _, s := range scales {
		var got Scale
		err := json.Unmarshal([]byte(s.in), &got)
		if (err == nil) != s.ok || got != s.want {
			t.Errorf("Scale %s = %d, %v", s.in, got, err)
		}
		if s.ok {
			if b, _ := json.Marshal(got); string(b) != s.in {
				t.Errorf("Scale round trip %s -> %s", s.in, b)
			}
		}
	}
}
