// Package meterimport checks a bulk import of gateways and meters (M2, 批量导入
// 档案): the rows of an operator's sheet, column by column, before anything
// is written. Checks against stored data (a meter number taken, a bus
// address in use) are the writer's.
package meterimport

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/identifier"
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

// Row is one checked row of the sheet: the meter and what the row says of
// its gateway. A cell with a problem is left zero ("" or 0), so checks
// across rows (a meter number given twice, a gateway said two ways), which
// the writer makes on all rows at once, skip it.
type Row struct {
	Meter
	GatewayProtocol string
	GatewayAddress  string
	MaxInFlight     int // 0: not given
}

// Columns is a checked heading row: where each column is.
type Columns struct {
	col          map[string]int // 1-based; 0 is "absent"
	knownProfile func(string) bool
	defaults     Defaults
}

// Defaults fill a row's empty price and alarm cells: the project's settings
// for new meters (S4). The zero value is none: a price is required and an
// alarm left empty is 0.
type Defaults struct {
	Price          *decimal.Decimal
	Alarm1, Alarm2 decimal.Decimal
}

// ReadHeading checks the heading row. knownProfile says whether a meter
// profile exists. Problems mean no row can be read.
func ReadHeading(heading []string, knownProfile func(string) bool) (Columns, []Problem) {
	return ReadHeadingWith(heading, knownProfile, Defaults{})
}

// ReadHeadingWith is ReadHeading with the project's defaults: with a
// default price the price column may be left out or a cell left empty.
func ReadHeadingWith(heading []string, knownProfile func(string) bool, defaults Defaults) (Columns, []Problem) {
	c := Columns{col: map[string]int{}, knownProfile: knownProfile, defaults: defaults}
	var problems []Problem
	for i, h := range heading {
		name := strings.ToLower(strings.TrimSpace(h))
		if a, ok := Aliases[strings.TrimSpace(h)]; ok {
			name = a
		}
		switch {
		case name == "":
		case !known[name]:
			problems = append(problems, Problem{Line: 1, Column: h, Detail: "unknown column"})
		case c.col[name] != 0:
			problems = append(problems, Problem{Line: 1, Column: name, Detail: "column given twice"})
		default:
			c.col[name] = i + 1
		}
	}
	for _, name := range required {
		if c.col[name] == 0 && !(name == ColPrice && defaults.Price != nil) {
			problems = append(problems, Problem{Line: 1, Column: name, Detail: "required column missing"})
		}
	}
	return c, problems
}

// ReadRow checks one row on its own (line counts from 1, the heading).
// blank is a row without any value: skip it. The row holds no reference
// to cells, so a reader may reuse them.
func (c Columns) ReadRow(line int, cells []string) (row Row, problems []Problem, blank bool) {
	if isBlank(cells) {
		return Row{}, nil, true
	}
	get := func(name string) string {
		if i := c.col[name]; i > 0 && i <= len(cells) {
			return strings.TrimSpace(cells[i-1])
		}
		return ""
	}
	r := rowReader{line: line, get: get, problems: &problems}
	m := Meter{Line: line, MeterNo: get(ColMeterNo), Gateway: strings.Clone(get(ColGateway))}
	switch {
	case m.MeterNo == "":
		r.fail(ColMeterNo, "required")
	case identifier.MeterNo(m.MeterNo) != nil:
		r.fail(ColMeterNo, "at most 32 characters, without spaces, control characters or / ? # %")
		m.MeterNo = ""
	default:
		m.MeterNo = strings.Clone(m.MeterNo)
	}
	if m.Gateway == "" {
		r.fail(ColGateway, "required")
	}
	row.GatewayProtocol, row.GatewayAddress, row.MaxInFlight = r.gateway()
	if m.Unit = r.integer(ColUnitAddress, 0, 1, 247); r.get(ColUnitAddress) == "" {
		r.fail(ColUnitAddress, "required")
	}
	if m.Profile = strings.Clone(get(ColProfile)); !c.knownProfile(m.Profile) {
		r.fail(ColProfile, fmt.Sprintf("no meter profile %q", m.Profile))
	}
	m.Kind = r.oneOf(ColKind, "electricity", "electricity", "water", "gas")
	m.PrepaidMode = r.oneOf(ColPrepaidMode, "meter", "meter", "platform")
	m.Price = r.amountOr(ColPrice, c.defaults.Price, 4)
	m.CT = r.integer(ColCTRatio, 1, 1, 100000)
	m.PT = r.integer(ColPTRatio, 1, 1, 100000)
	m.Alarm1 = r.amountOr(ColAlarm1, &c.defaults.Alarm1, 2)
	m.Alarm2 = r.amountOr(ColAlarm2, &c.defaults.Alarm2, 2)
	row.Meter = m
	return row, problems, false
}

// DLTAddressRule is the problem of a meter behind a DL/T 645 gateway whose
// number is not a DL/T 645 address (DLTAddressPattern): that number is
// what the platform addresses it by. The writer checks it, as the gateway's
// protocol may come from another row or from stored data.
const (
	DLTAddressRule    = "a DL/T 645 meter's number is its address: 12 digits"
	DLTAddressPattern = `^[0-9]{12}$`
)

// ValidAddress reports whether s is a gateway address: host:port.
func ValidAddress(s string) bool {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	return err == nil && host != "" && perr == nil && n >= 1 && n <= 65535
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// rowReader reads one row's cells, noting problems.
type rowReader struct {
	line     int
	get      func(string) string
	problems *[]Problem
}

func (r rowReader) fail(column, detail string) {
	*r.problems = append(*r.problems, Problem{Line: r.line, Column: column, Detail: detail})
}

// gateway is what this row says of its gateway; an invalid value is "".
func (r rowReader) gateway() (protocol, address string, maxInFlight int) {
	protocol, address = r.get(ColProtocol), r.get(ColGatewayAddress)
	switch protocol {
	case "", ModbusTCP, ModbusRTUTCP, DLT645TCP:
	default:
		r.fail(ColProtocol, fmt.Sprintf("%q: want %s, %s or %s", protocol, ModbusTCP, ModbusRTUTCP, DLT645TCP))
		protocol = ""
	}
	if address != "" && !ValidAddress(address) {
		r.fail(ColGatewayAddress, fmt.Sprintf("%q: want host:port", address))
		address = ""
	}
	maxInFlight = r.integer(ColMaxInFlight, 0, 1, 256)
	if maxInFlight > 1 && protocol != "" && protocol != ModbusTCP {
		r.fail(ColMaxInFlight, "only a Modbus TCP gateway takes more than one request at a time")
	}
	return strings.Clone(protocol), strings.Clone(address), maxInFlight
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

// amountOr reads an amount; an empty cell is dflt, or a problem when dflt
// is nil.
func (r rowReader) amountOr(col string, dflt *decimal.Decimal, places int32) decimal.Decimal {
	s := r.get(col)
	if s == "" {
		if dflt == nil {
			r.fail(col, "required")
			return decimal.Zero
		}
		return *dflt
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
