// Package profile describes meter models as data: which registers hold which
// quantity, with which type and scale, and how each command is written.
//
// A model is one JSON file under profiles/, embedded in the binary, so adding
// a meter (Acrel DTSY1352, a water meter, ...) is a new file, not new code.
// Decoding and encoding of register blocks live here too; they are pure so the
// Modbus client and the simulator share them and tests need no sockets.
//
// Values are raw integers in the quantity's register unit (0.01 kWh, 0.01
// yuan, 0.0001 yuan/kWh): money and energy never pass through floats. Scale
// says what one unit is worth, for whoever converts to business types.
package profile

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// RefPrepaidV1 is the reference prepaid profile our simulators implement.
const RefPrepaidV1 = "ref-prepaid-v1"

// RefPrepaidBlocksV1 is RefPrepaidV1 with the optional setting blocks (the
// price block and the safety-limit block, README.md here). The simulators
// implement it: a superset, so they serve ref-prepaid-v1 meters unchanged.
const RefPrepaidBlocksV1 = "ref-prepaid-blocks-v1"

// Quantity names a profile may define. The Modbus client maps these onto its
// Snapshot; a profile that lacks one leaves that field zero.
const (
	Energy              = "energy"        // total forward active energy
	EnergySharp         = "energy_sharp"  // 尖
	EnergyPeak          = "energy_peak"   // 峰
	EnergyFlat          = "energy_flat"   // 平
	EnergyValley        = "energy_valley" // 谷
	Voltage             = "voltage"
	Current             = "current"
	Power               = "power"
	PowerFactor         = "power_factor"
	Remaining           = "remaining"      // 剩余金额, negative = overdraft
	PurchaseCount       = "purchase_count" // 购电次数
	CumulativePurchased = "cumulative_purchased"
	Relay               = "relay"
	Mode                = "mode"
	Alarm1              = "alarm1"
	Alarm2              = "alarm2"
	UnitPrice           = "unit_price"
	Status              = "status"
)

// RefThreePhaseV1 is the reference three-phase profile (Acrel
// DTSY1352-style, ref-3phase-v1.md): ref-prepaid-v1 plus the electrical
// parameters below.
const RefThreePhaseV1 = "ref-3phase-v1"

// Electrical parameters (电参量) of three-phase meters: per phase (a, b, c)
// and total. A profile with any of them is read for them by the sweep.
const (
	VoltageA           = "voltage_a"
	VoltageB           = "voltage_b"
	VoltageC           = "voltage_c"
	CurrentA           = "current_a"
	CurrentB           = "current_b"
	CurrentC           = "current_c"
	ActivePowerA       = "active_power_a"
	ActivePowerB       = "active_power_b"
	ActivePowerC       = "active_power_c"
	ActivePowerTotal   = "active_power_total"
	ReactivePowerA     = "reactive_power_a"
	ReactivePowerB     = "reactive_power_b"
	ReactivePowerC     = "reactive_power_c"
	ReactivePowerTotal = "reactive_power_total"
	PowerFactorA       = "power_factor_a"
	PowerFactorB       = "power_factor_b"
	PowerFactorC       = "power_factor_c"
	PowerFactorTotal   = "power_factor_total"
	CTRatio            = "ct_ratio"
	PTRatio            = "pt_ratio"
	MaxDemand          = "max_demand"      // 最大需量
	MaxDemandTime      = "max_demand_time" // Unix seconds
)

// Command names and the names of their argument fields.
const (
	CmdRecharge       = "recharge" // 充值
	CmdRefund         = "refund"   // 退费
	CmdClearRemaining = "clear_remaining"
	CmdSwitchOff      = "switch_off" // 拉闸
	CmdSwitchOn       = "switch_on"  // 合闸
	CmdSetMode        = "set_mode"
	// The optional setting blocks (README.md here): the price block and the
	// safety limits, each written as one block.
	CmdSetTariff       = "set_tariff"
	CmdSetSafetyLimits = "set_safety_limits"
	// CmdSetUnitPrice rewrites the single unit price (0x010B): how the
	// platform keeps a meter without the price block on a TOU tariff.
	CmdSetUnitPrice = "set_unit_price"

	FieldCounter = "counter" // the purchase counter the command expects to create
	FieldAmount  = "amount"
	FieldMode    = "mode"
)

// Relay states (quantity "relay").
const (
	RelayClosed = 0 // power on
	RelayOpen   = 1 // cut off
)

// Meter modes (quantity "mode", command "set_mode").
const (
	ModePrepaid   = 0 // prepaid, trips itself when the money runs out
	ModeProtect   = 1 // 保电: forced on, never trips
	ModeForcedOff = 2 // forced off
)

// Status flag bits (quantity "status").
const (
	StatusAlarm1        = 1 << 0 // remaining ≤ alarm amount 1
	StatusAlarm2        = 1 << 1 // remaining ≤ alarm amount 2
	StatusArrearsTrip   = 1 << 2 // relay opened because remaining ≤ 0
	StatusOverloadTrip  = 1 << 3
	StatusMalignantTrip = 1 << 4 // 恶性负载
)

// MaxReadWords is the most registers one Modbus read (function 03) returns.
const MaxReadWords = 125

// Profile is one meter model. Profiles returned by Load are shared: treat
// them as read-only.
type Profile struct {
	Name        string `json:"name"`
	Protocol    string `json:"protocol"`
	Description string `json:"description,omitempty"`
	// WordOrder of 32-bit values: "high_first" (default) or "low_first".
	WordOrder string `json:"word_order,omitempty"`
	// MaxReadGap is how many undefined registers a block read may span to
	// save a request. Some meters refuse reads of undefined registers; their
	// profile sets 0.
	MaxReadGap int                `json:"max_read_gap"`
	Quantities []Quantity         `json:"quantities"`
	Commands   map[string]Command `json:"commands"`
	// Settings are registers the meter keeps as configuration (a price
	// block, safety limits): readable, written by a command, but not read
	// by the sweep — a command reads them back to confirm its write.
	Settings []Quantity `json:"settings,omitempty"`

	lowFirst      bool
	blocks        []Block
	settingBlocks []Block
	byName        map[string]int
	settingByName map[string]int
	everything    []Quantity // quantities, then settings
}

// Quantity is one measured or stored value.
type Quantity struct {
	Name    string `json:"name"`
	Address Word   `json:"address"`
	Words   int    `json:"words"`
	Type    Type   `json:"type"`
	Scale   Scale  `json:"scale"`
	Unit    string `json:"unit,omitempty"`
}

// end is one past the last register, in uint32 so that 0xFFFF+1 does not wrap.
func (q Quantity) end() uint32 { return uint32(q.Address) + uint32(q.Words) }

// Command is a register write. Either Values (a fixed pattern, e.g. the
// switch-off code) or Fields (typed arguments written in order) is set.
type Command struct {
	Address Word    `json:"address"`
	Fields  []Field `json:"fields,omitempty"`
	Values  []Word  `json:"values,omitempty"`
}

// Field is one typed argument of a command.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Block is a run of registers read with one request.
type Block struct {
	Address uint16
	Words   uint16
}

// Errors of Load, Parse and the codec; match them with errors.Is.
var (
	ErrUnknownProfile = errors.New("profile: unknown profile")
	ErrInvalid        = errors.New("profile: invalid profile")
	ErrUnknownCommand = errors.New("profile: unknown command")
	ErrNoCommand      = errors.New("profile: no command at this address")
	ErrBadValue       = errors.New("profile: value does not fit")
)

//go:embed profiles/*.json
var embedded embed.FS

var (
	loadOnce sync.Once
	loaded   map[string]*Profile
	loadErr  error
)

// Load returns the embedded profile called name (e.g. RefPrepaidV1).
func Load(name string) (*Profile, error) {
	loadOnce.Do(loadEmbedded)
	if loadErr != nil {
		return nil, loadErr
	}
	p, ok := loaded[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProfile, name)
	}
	return p, nil
}

// Names lists the embedded profiles, sorted.
func Names() []string {
	loadOnce.Do(loadEmbedded)
	names := make([]string, 0, len(loaded))
	for n := range loaded {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// loadEmbedded parses every embedded file once. One broken file fails them
// all, loudly, because it is a build defect rather than a runtime condition.
func loadEmbedded() {
	loaded = map[string]*Profile{}
	files, err := fs.Glob(embedded, "profiles/*.json")
	if err != nil {
		loadErr = err
		return
	}
	for _, f := range files {
		data, err := embedded.ReadFile(f)
		if err != nil {
			loadErr = err
			return
		}
		p, err := Parse(data)
		if err != nil {
			loadErr = fmt.Errorf("%s: %w", f, err)
			return
		}
		if want := strings.TrimSuffix(path.Base(f), ".json"); p.Name != want {
			loadErr = fmt.Errorf("%w: %s declares name %q", ErrInvalid, f, p.Name)
			return
		}
		loaded[p.Name] = p
	}
}

// Parse reads and validates one profile document. Unknown JSON fields are
// refused so that a typo ("adress") fails instead of reading register 0.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := p.init(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) init() error {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, p.Name, fmt.Sprintf(format, a...))
	}
	if p.Name == "" {
		return invalid("missing name")
	}
	if p.Protocol != "modbus" {
		return invalid("protocol %q, want modbus", p.Protocol)
	}
	switch p.WordOrder {
	case "", "high_first":
	case "low_first":
		p.lowFirst = true
	default:
		return invalid("word_order %q", p.WordOrder)
	}
	if p.MaxReadGap < 0 {
		return invalid("negative max_read_gap")
	}
	p.byName = make(map[string]int, len(p.Quantities))
	for i, q := range p.Quantities {
		if q.Name == "" {
			return invalid("quantity at 0x%04X has no name", uint16(q.Address))
		}
		if _, dup := p.byName[q.Name]; dup {
			return invalid("quantity %q defined twice", q.Name)
		}
		if q.Type.Words() == 0 {
			return invalid("quantity %q: type %q", q.Name, q.Type)
		}
		if q.Words != q.Type.Words() {
			return invalid("quantity %q: %d words for type %s", q.Name, q.Words, q.Type)
		}
		if q.end() > 0x10000 {
			return invalid("quantity %q runs past register 0xFFFF", q.Name)
		}
		p.byName[q.Name] = i
	}
	p.settingByName = make(map[string]int, len(p.Settings))
	for i, q := range p.Settings {
		if q.Name == "" || q.Type.Words() == 0 || q.Words != q.Type.Words() || q.end() > 0x10000 {
			return invalid("setting %q at 0x%04X: %d words of type %q", q.Name, uint16(q.Address), q.Words, q.Type)
		}
		if _, dup := p.byName[q.Name]; dup {
			return invalid("setting %q is also a quantity", q.Name)
		}
		if _, dup := p.settingByName[q.Name]; dup {
			return invalid("setting %q defined twice", q.Name)
		}
		p.settingByName[q.Name] = i
	}
	// Overlapping quantities would make encoding ambiguous.
	all := append(slices.Clone(p.Quantities), p.Settings...)
	slices.SortFunc(all, func(a, b Quantity) int { return int(a.Address) - int(b.Address) })
	for i := 1; i < len(all); i++ {
		if uint32(all[i].Address) < all[i-1].end() {
			return invalid("quantities %q and %q overlap", all[i-1].Name, all[i].Name)
		}
	}
	sorted := slices.Clone(p.Quantities)
	slices.SortFunc(sorted, func(a, b Quantity) int { return int(a.Address) - int(b.Address) })
	settings := slices.Clone(p.Settings)
	slices.SortFunc(settings, func(a, b Quantity) int { return int(a.Address) - int(b.Address) })
	p.settingBlocks = planBlocks(settings, p.MaxReadGap)
	p.everything = append(slices.Clone(p.Quantities), p.Settings...)
	for name, c := range p.Commands {
		if (len(c.Fields) == 0) == (len(c.Values) == 0) {
			return invalid("command %q needs either fields or values", name)
		}
		for _, f := range c.Fields {
			if f.Name == "" || f.Type.Words() == 0 {
				return invalid("command %q: field %q of type %q", name, f.Name, f.Type)
			}
		}
		if n := c.Words(); n > 123 || uint32(c.Address)+uint32(n) > 0x10000 {
			return invalid("command %q: %d words at 0x%04X", name, n, uint16(c.Address))
		}
	}
	p.blocks = planBlocks(sorted, p.MaxReadGap)
	return nil
}

// planBlocks groups address-sorted quantities into as few reads as possible,
// bridging gaps of at most maxGap undefined registers.
func planBlocks(sorted []Quantity, maxGap int) []Block {
	var blocks []Block
	var start, end uint32
	for i, q := range sorted {
		if i > 0 && uint32(q.Address) <= end+uint32(maxGap) && q.end()-start <= MaxReadWords {
			end = max(end, q.end())
			continue
		}
		if i > 0 {
			blocks = append(blocks, Block{Address: uint16(start), Words: uint16(end - start)})
		}
		start, end = uint32(q.Address), q.end()
	}
	if len(sorted) > 0 {
		blocks = append(blocks, Block{Address: uint16(start), Words: uint16(end - start)})
	}
	return blocks
}

// Blocks returns the reads that cover every quantity, in address order.
func (p *Profile) Blocks() []Block { return slices.Clone(p.blocks) }

// SettingBlocks returns the reads that cover every setting, in address
// order (none for a profile without settings).
func (p *Profile) SettingBlocks() []Block { return slices.Clone(p.settingBlocks) }

// Setting looks up a setting by name.
func (p *Profile) Setting(name string) (Quantity, bool) {
	i, ok := p.settingByName[name]
	if !ok {
		return Quantity{}, false
	}
	return p.Settings[i], true
}

// Supports reports whether the profile has the command (e.g. a meter that
// takes a price block or safety limits).
func (p *Profile) Supports(command string) bool {
	_, ok := p.Commands[command]
	return ok
}

// all is every register the profile defines: quantities, then settings.
func (p *Profile) all() []Quantity { return p.everything }

// Quantity looks up a quantity by name.
func (p *Profile) Quantity(name string) (Quantity, bool) {
	i, ok := p.byName[name]
	if !ok {
		return Quantity{}, false
	}
	return p.Quantities[i], true
}

// Command looks up a command by name.
func (p *Profile) Command(name string) (Command, error) {
	c, ok := p.Commands[name]
	if !ok {
		return Command{}, fmt.Errorf("%w: %q in %s", ErrUnknownCommand, name, p.Name)
	}
	return c, nil
}

// Words is the number of registers the command writes.
func (c Command) Words() int {
	if len(c.Values) > 0 {
		return len(c.Values)
	}
	n := 0
	for _, f := range c.Fields {
		n += f.Type.Words()
	}
	return n
}

// Type is a register value type.
type Type string

// Register value types: unsigned or two's complement, 1 or 2 registers.
const (
	U16 Type = "u16"
	I16 Type = "i16"
	U32 Type = "u32"
	I32 Type = "i32"
)

// Words is the number of registers a value of type t spans, 0 if t is unknown.
func (t Type) Words() int {
	switch t {
	case U16, I16:
		return 1
	case U32, I32:
		return 2
	}
	return 0
}

// Word is a register address or value. In JSON it is a number or, as in
// meter manuals, a hex string ("0x0100").
type Word uint16

// UnmarshalJSON accepts 256 and "0x0100".
func (w *Word) UnmarshalJSON(b []byte) error {
	s := string(b)
	base := 10
	if uq, err := strconv.Unquote(s); err == nil {
		s, base = uq, 0 // base 0 honours the 0x prefix
	}
	v, err := strconv.ParseUint(s, base, 16)
	if err != nil {
		return fmt.Errorf("register word %s: %w", b, err)
	}
	*w = Word(v)
	return nil
}

// MarshalJSON writes the hex form manuals use.
func (w Word) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`"0x%04X"`, uint16(w))), nil
}

// Scale is what one register unit is worth, as a power of ten: -2 means
// 0.01. It is an exponent, not a float, so a consumer can build an exact
// decimal (decimal.New(raw, exp)). In JSON it is written "0.01".
type Scale int32

// Exp is the decimal exponent: value = raw × 10^Exp.
func (s Scale) Exp() int32 { return int32(s) }

func (s Scale) String() string {
	switch {
	case s < 0:
		return "0." + strings.Repeat("0", int(-s)-1) + "1"
	default:
		return "1" + strings.Repeat("0", int(s))
	}
}

// UnmarshalJSON accepts powers of ten written as decimals: "0.001", "1", "10".
func (s *Scale) UnmarshalJSON(b []byte) error {
	str, err := strconv.Unquote(string(b))
	if err != nil {
		str = string(b)
	}
	switch {
	case len(str) > 2 && strings.HasPrefix(str, "0.") && strings.HasSuffix(str, "1") &&
		strings.Trim(str[2:len(str)-1], "0") == "":
		*s = Scale(-(len(str) - 2))
	case strings.HasPrefix(str, "1") && strings.Trim(str[1:], "0") == "":
		*s = Scale(len(str) - 1)
	default:
		return fmt.Errorf("scale %s: not a power of ten", b)
	}
	return nil
}

// MarshalJSON writes the decimal form.
func (s Scale) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
