// Package meterimport checks a bulk import of gateways and meters (M2, 批量导入
// 档案): the rows of an operator's sheet, column by column, before anything
// is written. Checks against stored data (a meter number taken, a bus
// address in use) are the writer's.
package meterimport

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Columns of the sheet, by their English names; Aliases maps the Chinese
// headings operators use to them.
const (
	ColMeterNo        = "meter_no"
	ColGateway        = "gateway"
	ColGatewayAddress = "gateway_address"
	ColProtocol       = "protocol"
	ColMaxInFlight    = "max_in_flight"
	ColUnitAddress    = "unit_address"
	ColProfile        = "profile"
	ColKind           = "kind"
	ColPrepaidMode    = "prepaid_mode"
	ColPrice          = "price"
	ColCTRatio        = "ct_ratio"
	ColPTRatio        = "pt_ratio"
	ColAlarm1         = "alarm1"
	ColAlarm2         = "alarm2"
)

// Required columns; the others have defaults or come from a stored gateway.
var required = []string{ColMeterNo, ColGateway, ColUnitAddress, ColProfile, ColPrice}

var known = map[string]bool{ColMeterNo: true, ColGateway: true, ColGatewayAddress: true, ColProtocol: true,
	ColMaxInFlight: true, ColUnitAddress: true, ColProfile: true, ColKind: true, ColPrepaidMode: true, ColPrice: true,
	ColCTRatio: true, ColPTRatio: true, ColAlarm1: true, ColAlarm2: true}

// Aliases are the Chinese headings accepted for each column.
var Aliases = map[string]string{
	"表号": ColMeterNo, "网关": ColGateway, "网关编号": ColGateway, "网关地址": ColGatewayAddress, "协议": ColProtocol,
	"通讯地址": ColUnitAddress, "型号": ColProfile, "类型": ColKind, "费控方式": ColPrepaidMode, "单价": ColPrice,
	"电价": ColPrice, "电流变比": ColCTRatio, "电压变比": ColPTRatio, "报警金额1": ColAlarm1, "报警金额2": ColAlarm2,
}

// Gateway protocols, as stored in gateways.protocol.
const (
	ModbusTCP    = "modbus-tcp"
	ModbusRTUTCP = "modbus-rtu-tcp"
	DLT645TCP    = "dlt645-tcp"
)

// Gateway is what the sheet says of one gateway. Empty Protocol and
// Address (and zero MaxInFlight) were not given: the gateway must then be
// stored already.
type Gateway struct {
	Code        string
	Protocol    string
	Address     string
	MaxInFlight int
	Line        int // first row naming it
}

// Meter is one checked row.
type Meter struct {
	Line           int
	MeterNo        string
	Gateway        string // code
	Unit           int
	Profile        string
	Kind           string
	PrepaidMode    string
	Price          decimal.Decimal
	CT, PT         int
	Alarm1, Alarm2 decimal.Decimal
}

// Problem is one thing wrong with the sheet; Line counts from 1, the
// heading row.
type Problem struct {
	Line   int    `json:"row"`
	Column string `json:"column,omitempty"`
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("row %d: %s", p.Line, p.Detail)
	}
	return fmt.Sprintf("row %d, %s: %s", p.Line, p.Column, p.Detail)
}

// Sheet is a checked import. Problems empty means every row is good.
type Sheet struct {
	Gateways []*Gateway // in order of first appearance
	Meters   []Meter
	Problems []Problem
}

// Read checks a sheet given as its heading row and then each row in turn
// (next returns false after the last). knownProfile says whether a meter
// profile exists. Blank rows are skipped.
func Read(heading []string, next func() ([]string, bool, error), knownProfile func(string) bool) (Sheet, error) {
	var sh Sheet
	col := map[string]int{}
	for i, h := range heading {
		name := strings.ToLower(strings.TrimSpace(h))
		if a, ok := Aliases[strings.TrimSpace(h)]; ok {
			name = a
		}
		switch {
		case name == "":
		case !known[name]:
			sh.Problems = append(sh.Problems, Problem{Line: 1, Column: h, Detail: "unknown column"})
		case col[name] != 0:
			sh.Problems = append(sh.Problems, Problem{Line: 1, Column: name, Detail: "column given twice"})
		default:
			col[name] = i + 1 // 0 is "absent"
		}
	}
	for _, c := range required {
		if col[c] == 0 {
			sh.Problems = append(sh.Problems, Problem{Line: 1, Column: c, Detail: "required column missing"})
		}
	}
	if len(sh.Problems) > 0 {
		return sh, nil
	}
	gateways := map[string]*Gateway{}
	meterLine := map[string]int{}
	unitLine := map[string]int{}
	for line := 2; ; line++ {
		cells, ok, err := next()
		if err != nil {
			return sh, fmt.Errorf("row %d: %w", line, err)
		}
		if !ok {
			break
		}
		get := func(c string) string {
			if i := col[c]; i > 0 && i <= len(cells) {
				return strings.TrimSpace(cells[i-1])
			}
			return ""
		}
		if blank(cells) {
			continue
		}
		r := rowReader{line: line, get: get, sh: &sh}
		m := Meter{Line: line, MeterNo: get(ColMeterNo), Gateway: get(ColGateway)}
		switch {
		case m.MeterNo == "":
			r.fail(ColMeterNo, "required")
		case len(m.MeterNo) > 32 || strings.ContainsAny(m.MeterNo, " \t/?#%"):
			r.fail(ColMeterNo, "at most 32 characters, without spaces or / ? # %")
		case meterLine[m.MeterNo] != 0:
			r.fail(ColMeterNo, fmt.Sprintf("%s is also on row %d", m.MeterNo, meterLine[m.MeterNo]))
		default:
			meterLine[m.MeterNo] = line
		}
		if m.Gateway == "" {
			r.fail(ColGateway, "required")
		}
		gw := r.gateway()
		if g := gateways[m.Gateway]; g != nil && m.Gateway != "" {
			r.agree(g, gw)
		} else if m.Gateway != "" {
			gw.Code, gw.Line = m.Gateway, line
			gateways[m.Gateway] = gw
			sh.Gateways = append(sh.Gateways, gw)
		}
		if m.Unit = r.integer(ColUnitAddress, 0, 1, 247); r.get(ColUnitAddress) == "" {
			r.fail(ColUnitAddress, "required")
		}
		if key := m.Gateway + "\x00" + strconv.Itoa(m.Unit); m.Unit > 0 && m.Gateway != "" {
			if l := unitLine[key]; l != 0 {
				r.fail(ColUnitAddress, fmt.Sprintf("gateway %s unit %d is also on row %d", m.Gateway, m.Unit, l))
			} else {
				unitLine[key] = line
			}
		}
		if m.Profile = get(ColProfile); !knownProfile(m.Profile) {
			r.fail(ColProfile, fmt.Sprintf("no meter profile %q", m.Profile))
		}
		m.Kind = r.oneOf(ColKind, "electricity", "electricity", "water", "gas")
		m.PrepaidMode = r.oneOf(ColPrepaidMode, "meter", "meter", "platform")
		m.Price = r.amount(ColPrice, true, 4)
		m.CT = r.integer(ColCTRatio, 1, 1, 100000)
		m.PT = r.integer(ColPTRatio, 1, 1, 100000)
		m.Alarm1 = r.amount(ColAlarm1, false, 2)
		m.Alarm2 = r.amount(ColAlarm2, false, 2)
		sh.Meters = append(sh.Meters, m)
	}
	sh.CheckAddresses(func(code string) string {
		if g := gateways[code]; g != nil {
			return g.Protocol
		}
		return ""
	})
	return sh, nil
}

// CheckAddresses notes every meter behind a DL/T 645 gateway whose number
// is not a DL/T 645 address (12 digits): that number is what the platform
// addresses it by. protocol gives a gateway's protocol by code, "" if not
// known yet.
func (sh *Sheet) CheckAddresses(protocol func(gateway string) string) {
	for _, m := range sh.Meters {
		if protocol(m.Gateway) == DLT645TCP && !dltAddress(m.MeterNo) {
			sh.Problems = append(sh.Problems, Problem{Line: m.Line, Column: ColMeterNo,
				Detail: "a DL/T 645 meter's number is its address: 12 digits"})
		}
	}
	slices.SortStableFunc(sh.Problems, func(a, b Problem) int { return a.Line - b.Line })
}

// ValidAddress reports whether s is a gateway address: host:port.
func ValidAddress(s string) bool {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	return err == nil && host != "" && perr == nil && n >= 1 && n <= 65535
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func dltAddress(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// rowReader reads one row's cells, noting problems.
type rowReader struct {
	line int
	get  func(string) string
	sh   *Sheet
}

func (r rowReader) fail(column, detail string) {
	r.sh.Problems = append(r.sh.Problems, Problem{Line: r.line, Column: column, Detail: detail})
}

// gateway is what this row says of its gateway.
func (r rowReader) gateway() *Gateway {
	g := &Gateway{Protocol: r.get(ColProtocol), Address: r.get(ColGatewayAddress)}
	switch g.Protocol {
	case "", ModbusTCP, ModbusRTUTCP, DLT645TCP:
	default:
		r.fail(ColProtocol, fmt.Sprintf("%q: want %s, %s or %s", g.Protocol, ModbusTCP, ModbusRTUTCP, DLT645TCP))
	}
	if g.Address != "" && !ValidAddress(g.Address) {
		r.fail(ColGatewayAddress, fmt.Sprintf("%q: want host:port", g.Address))
	}
	g.MaxInFlight = r.integer(ColMaxInFlight, 0, 1, 256)
	if g.MaxInFlight > 1 && g.Protocol != "" && g.Protocol != ModbusTCP {
		r.fail(ColMaxInFlight, "only a Modbus TCP gateway takes more than one request at a time")
	}
	return g
}

// agree checks a later row's gateway columns against the first row's, and
// fills in what the first left blank.
func (r rowReader) agree(g, row *Gateway) {
	for _, f := range []struct {
		col       string
		have, got string
		set       func()
	}{
		{ColProtocol, g.Protocol, row.Protocol, func() { g.Protocol = row.Protocol }},
		{ColGatewayAddress, g.Address, row.Address, func() { g.Address = row.Address }},
		{ColMaxInFlight, itoa(g.MaxInFlight), itoa(row.MaxInFlight), func() { g.MaxInFlight = row.MaxInFlight }},
	} {
		switch {
		case f.got == "" || f.got == f.have:
		case f.have == "":
			f.set()
		default:
			r.fail(f.col, fmt.Sprintf("gateway %s is %s on row %d", g.Code, f.have, g.Line))
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (r rowReader) integer(col string, dflt, lo, hi int) int {
	s := r.get(col)
	if s == "" {
		return dflt
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.fail(col, fmt.Sprintf("%q: want a whole number from %d to %d", s, lo, hi))
		return dflt
	}
	return n
}

func (r rowReader) oneOf(col, dflt string, allowed ...string) string {
	s := r.get(col)
	if s == "" {
		return dflt
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(col, fmt.Sprintf("%q: want one of %s", s, strings.Join(allowed, ", ")))
	return dflt
}

func (r rowReader) amount(col string, need bool, places int32) decimal.Decimal {
	s := r.get(col)
	if s == "" {
		if need {
			r.fail(col, "required")
		}
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil:
		r.fail(col, fmt.Sprintf("%q is not a number", s))
	case d.IsNegative():
		r.fail(col, fmt.Sprintf("%s is negative", s))
	case !d.Equal(d.Truncate(places)):
		r.fail(col, fmt.Sprintf("%s has more than %d decimal places", s, places))
	case d.GreaterThanOrEqual(decimal.New(1, 14)):
		r.fail(col, fmt.Sprintf("%s is too large", s))
	default:
		return d
	}
	return decimal.Zero
}
