package profile

import (
	"errors"
	"slices"
	"testing"
)

// Water and gas meters are data: each loads from its file, reads its volume
// and valve with the planned blocks, and its valve commands round-trip
// through the register encoding a meter (or simulator) would decode.
func TestValveProfilesLoad(t *testing.T) {
	for _, tc := range []struct {
		name      string
		volumeExp int32
		closeRegs []uint16
	}{
		{"ref-water-valve-v1", -3, []uint16{0x0099}},
		{"ref-gas-valve-v1", -2, []uint16{0x0001}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Contains(Names(), tc.name) {
				t.Fatalf("%s not among the embedded profiles %v", tc.name, Names())
			}
			p, err := Load(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			vol, ok := p.Quantity(Volume)
			if !ok || vol.Address != 0 || vol.Type != "u32" || vol.Scale.Exp() != tc.volumeExp {
				t.Fatalf("volume %+v", vol)
			}
			if _, ok := p.Quantity(Valve); !ok {
				t.Fatal("no valve quantity")
			}
			// Two blocks: measurement + valve, and the prepaid block.
			if b := p.Blocks(); len(b) != 2 || b[0].Address != 0 || b[1].Address != 0x0100 {
				t.Fatalf("blocks %+v", b)
			}

			// 123.456 m³ water (or 1234.56 m³ gas) in two words, valve closed.
			regs := make([]uint16, p.Blocks()[0].Words)
			regs[0], regs[1] = 0x0001, 0xE240 // 123456
			regs[0x10] = ValveClosed
			v := p.Decode(0, regs)
			if v[Volume] != 123456 || v[Valve] != ValveClosed {
				t.Fatalf("decoded %v", v)
			}

			addr, words, err := p.EncodeCommand(CmdValveClose, nil)
			if err != nil || addr != 0x0011 || !slices.Equal(words, tc.closeRegs) {
				t.Fatalf("valve_close: 0x%04X % X %v", addr, words, err)
			}
			for _, cmd := range []string{CmdValveOpen, CmdValveClose} {
				addr, words, err := p.EncodeCommand(cmd, nil)
				if err != nil {
					t.Fatal(err)
				}
				name, _, err := p.DecodeCommand(addr, words)
				if err != nil || name != cmd {
					t.Fatalf("%s decodes as %q, %v", cmd, name, err)
				}
			}
			// An electricity command is not a water or gas meter's.
			if _, _, err := p.EncodeCommand(CmdRecharge, Values{FieldCounter: 1, FieldAmount: 100}); !errors.Is(err, ErrUnknownCommand) {
				t.Fatalf("recharge on %s: %v", tc.name, err)
			}
		})
	}
}
