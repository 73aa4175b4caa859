package profile

import (
	"fmt"
	"sort"
)

// Values holds quantities or command arguments by name, as raw register
// integers (e.g. remaining money in 0.01 yuan).
type Values map[string]int64

// Decode turns a block of registers read from address start into the values
// of every quantity that lies entirely inside it. Quantities only partly
// covered are left out rather than guessed.
func (p *Profile) Decode(start uint16, regs []uint16) Values {
	v := Values{}
	end := uint32(start) + uint32(len(regs))
	for _, q := range p.all() {
		if uint32(q.Address) < uint32(start) || q.end() > end {
			continue
		}
		off := int(q.Address) - int(start)
		v[q.Name] = p.decode(q.Type, regs[off:off+q.Words])
	}
	return v
}

// EncodeBlock renders values as count registers starting at start, the way a
// meter answers a read: quantities missing from values read as 0, registers
// that belong to no quantity read as 0, and a quantity cut by the block edge
// contributes the words inside it.
func (p *Profile) EncodeBlock(values Values, start uint16, count int) ([]uint16, error) {
	return p.EncodeBlockFunc(func(name string) int64 { return values[name] }, start, count)
}

// EncodeBlockFunc is EncodeBlock with each quantity's value asked of value,
// so a simulator answering many reads builds no map per read.
func (p *Profile) EncodeBlockFunc(value func(name string) int64, start uint16, count int) ([]uint16, error) {
	regs := make([]uint16, count)
	end := uint32(start) + uint32(count)
	for _, q := range p.all() {
		if q.end() <= uint32(start) || uint32(q.Address) >= end {
			continue
		}
		words, n, err := p.encodeWords(q.Type, value(q.Name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		for i, w := range words[:n] {
			if a := uint32(q.Address) + uint32(i); a >= uint32(start) && a < end {
				regs[a-uint32(start)] = w
			}
		}
	}
	return regs, nil
}

// EncodeCommand renders a command's registers. Fixed-value commands ignore args;
// field commands need every field in args.
func (p *Profile) EncodeCommand(name string, args Values) (uint16, []uint16, error) {
	c, err := p.Command(name)
	if err != nil {
		return 0, nil, err
	}
	if len(c.Values) > 0 {
		regs := make([]uint16, len(c.Values))
		for i, w := range c.Values {
			regs[i] = uint16(w)
		}
		return uint16(c.Address), regs, nil
	}
	regs := make([]uint16, 0, c.Words())
	for _, f := range c.Fields {
		v, ok := args[f.Name]
		if !ok {
			return 0, nil, fmt.Errorf("%w: command %q: missing field %q", ErrBadValue, name, f.Name)
		}
		words, err := p.encode(f.Type, v)
		if err != nil {
			return 0, nil, fmt.Errorf("command %q field %q: %w", name, f.Name, err)
		}
		regs = append(regs, words...)
	}
	return uint16(c.Address), regs, nil
}

// DecodeCommand identifies the command a register write carries, as a meter does
// when it receives one, and decodes its arguments. It fails with ErrNoCommand
// when no command lives at addr with that length, and with ErrBadValue when
// one does but the written pattern is none of the fixed values.
func (p *Profile) DecodeCommand(addr uint16, regs []uint16) (string, Values, error) {
	names := make([]string, 0, len(p.Commands))
	for n := range p.Commands {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic when a profile is ambiguous
	found := false
	for _, n := range names {
		c := p.Commands[n]
		if uint16(c.Address) != addr || c.Words() != len(regs) {
			continue
		}
		found = true
		if len(c.Values) > 0 {
			if equalWords(c.Values, regs) {
				return n, Values{}, nil
			}
			continue
		}
		args := Values{}
		off := 0
		for _, f := range c.Fields {
			w := f.Type.Words()
			args[f.Name] = p.decode(f.Type, regs[off:off+w])
			off += w
		}
		return n, args, nil
	}
	if found {
		return "", nil, fmt.Errorf("%w: %04X at 0x%04X", ErrBadValue, regs, addr)
	}
	return "", nil, fmt.Errorf("%w: 0x%04X, %d words", ErrNoCommand, addr, len(regs))
}

func equalWords(want []Word, got []uint16) bool {
	for i := range want {
		if uint16(want[i]) != got[i] {
			return false
		}
	}
	return true
}

// decode reads one value; len(words) == t.Words() is the caller's promise.
func (p *Profile) decode(t Type, words []uint16) int64 {
	switch t {
	case U16:
		return int64(words[0])
	case I16:
		return int64(int16(words[0]))
	}
	hi, lo := words[0], words[1]
	if p.lowFirst {
		hi, lo = lo, hi
	}
	u := uint32(hi)<<16 | uint32(lo)
	if t == I32 {
		return int64(int32(u))
	}
	return int64(u)
}

func (p *Profile) encode(t Type, v int64) ([]uint16, error) {
	words, n, err := p.encodeWords(t, v)
	if err != nil {
		return nil, err
	}
	return words[:n:n], nil
}

// encodeWords renders v as n (1 or 2) registers, without allocating.
func (p *Profile) encodeWords(t Type, v int64) ([2]uint16, int, error) {
	var lo, hi int64
	switch t {
	case U16:
		lo, hi = 0, 0xFFFF
	case I16:
		lo, hi = -0x8000, 0x7FFF
	case U32:
		lo, hi = 0, 0xFFFFFFFF
	case I32:
		lo, hi = -0x80000000, 0x7FFFFFFF
	default:
		return [2]uint16{}, 0, fmt.Errorf("%w: unknown type %q", ErrBadValue, t)
	}
	if v < lo || v > hi {
		return [2]uint16{}, 0, fmt.Errorf("%w: %d out of range for %s", ErrBadValue, v, t)
	}
	if t.Words() == 1 {
		return [2]uint16{uint16(v)}, 1, nil
	}
	u := uint32(v)
	words := [2]uint16{uint16(u >> 16), uint16(u)}
	if p.lowFirst {
		words[0], words[1] = words[1], words[0]
	}
	return words, 2, nil
}

// DecodeQuantity reads one quantity's value from its words
// (len(words) == q.Words), as Decode does without building a map.
func (p *Profile) DecodeQuantity(q Quantity, words []uint16) int64 {
	return p.decode(q.Type, words)
}
