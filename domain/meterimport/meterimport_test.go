package meterimport

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// read checks "a,b,c" lines as a reader does: the heading, then each row
// on its own. It returns every problem and the rows read.
func read(lines ...string) ([]Problem, []Row) {
	cols, problems := ReadHeading(strings.Split(lines[0], ","), knownProfile)
	if len(problems) > 0 {
		return problems, nil
	}
	var out []Row
	for i, l := range lines[1:] {
		row, p, blank := cols.ReadRow(i+2, strings.Split(l, ","))
		problems = append(problems, p...)
		if !blank {
			out = append(out, row)
		}
	}
	return problems, out
}

func knownProfile(name string) bool { return name == "ref-prepaid-v1" || name == "ref-water-valve-v1" }

const heading = "meter_no,gateway,gateway_address,protocol,unit_address,profile,price"

// The checks of one row on its own; those across rows are the store's
// (store/meterimport).
func TestRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		want  []string // problems, as "row N, column: detail" prefixes
	}{
		{"good rows", []string{heading,
			"A1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2",
			"A2,GW-A,,,2,ref-prepaid-v1,1.2",
			",,,,,,", // blank: skipped
			"000000000007,GW-D,10.0.0.2:8899,dlt645-tcp,1,ref-prepaid-v1,0.95"}, nil},
		{"chinese headings", []string{"表号,网关编号,网关地址,协议,通讯地址,型号,单价,类型",
			"W1,GW-W,10.0.0.3:502,modbus-rtu-tcp,4,ref-water-valve-v1,3.5,water"}, nil},
		{"unknown and missing columns", []string{"meter_no,gateway,colour", "A1,GW-A,red"},
			[]string{"row 1, colour: unknown column", "row 1, unit_address: required column missing",
				"row 1, profile: required column missing", "row 1, price: required column missing"}},
		{"bad cells", []string{heading + ",kind,ct_ratio,alarm1",
			"A 1,GW-A,nohost,modbus,0,ref-x,-1,steam,0,1.234"},
			[]string{"row 2, meter_no:", "row 2, protocol:", "row 2, gateway_address:", "row 2, unit_address:",
				"row 2, profile:", "row 2, kind:", "row 2, price: -1 is negative", "row 2, ct_ratio:",
				"row 2, alarm1: 1.234 has more than 2 decimal places"}},
		{"pipelining only on Modbus TCP", []string{heading + ",max_in_flight",
			"R1,GW-R,10.0.0.4:502,modbus-rtu-tcp,1,ref-prepaid-v1,1,4"},
			[]string{"row 2, max_in_flight: only a Modbus TCP gateway"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			problems, _ := read(c.lines...)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(c.want), c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d is %q, want %q…", i, got[i], c.want[i])
				}
			}
		})
	}
}

// What a good sheet says, value by value: defaults filled in, a gateway
// given once for all its rows.
func TestReadValues(t *testing.T) {
	problems, rows := read(heading+",prepaid_mode,pt_ratio,alarm2",
		"A1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2,platform,10,20.50",
		"A2,GW-A,,,2,ref-prepaid-v1,0.8765,,,")
	if len(problems) > 0 || len(rows) != 2 {
		t.Fatalf("%v %d rows", problems, len(rows))
	}
	if g := rows[0]; g.GatewayProtocol != ModbusTCP || g.GatewayAddress != "10.0.0.1:502" || g.MaxInFlight != 0 {
		t.Fatalf("gateway of the first row %+v", g)
	}
	if g := rows[1]; g.GatewayProtocol != "" || g.GatewayAddress != "" {
		t.Fatalf("the second row says nothing of its gateway: %+v", g)
	}
	a, b := rows[0], rows[1]
	if a.MeterNo != "A1" || a.Unit != 1 || a.PrepaidMode != "platform" || a.PT != 10 || a.CT != 1 ||
		a.Alarm2.String() != "20.5" || a.Kind != "electricity" || a.Price.String() != "1.2" {
		t.Errorf("first meter %+v", a)
	}
	if b.PrepaidMode != "meter" || b.PT != 1 || b.Price.String() != "0.8765" || b.Gateway != "GW-A" || b.Line != 3 {
		t.Errorf("second meter %+v", b)
	}
}

// The project's defaults fill empty price and alarm cells, and a price
// column may be left out; a cell given wins.
func TestReadDefaults(t *testing.T) {
	price := decimal.RequireFromString("1.1")
	with := Defaults{Price: &price, Alarm1: decimal.RequireFromString("20"), Alarm2: decimal.RequireFromString("5")}
	const noPrice = "meter_no,gateway,unit_address,profile,alarm1,alarm2"
	for _, c := range []struct {
		name                  string
		defaults              Defaults
		lines                 []string
		problems              int
		price, alarm1, alarm2 string
	}{
		{"no defaults, empty cells", Defaults{}, []string{heading + ",alarm1,alarm2", "A1,GW-A,,,1,ref-prepaid-v1,,,"}, 1, "0", "0", "0"},
		{"no defaults, no price column", Defaults{}, []string{noPrice, "A1,GW-A,1,ref-prepaid-v1,,"}, 1, "", "", ""},
		{"defaults fill empty cells", with, []string{heading + ",alarm1,alarm2", "A1,GW-A,,,1,ref-prepaid-v1,,,"}, 0, "1.1", "20", "5"},
		{"defaults without a price column", with, []string{noPrice, "A1,GW-A,1,ref-prepaid-v1,,"}, 0, "1.1", "20", "5"},
		{"a cell given wins", with, []string{heading + ",alarm1,alarm2", "A1,GW-A,,,1,ref-prepaid-v1,0.9,30,0"}, 0, "0.9", "30", "0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cols, problems := ReadHeadingWith(strings.Split(c.lines[0], ","), knownProfile, c.defaults)
			if len(problems) > 0 {
				if len(problems) != c.problems {
					t.Fatalf("heading problems %v, want %d", problems, c.problems)
				}
				return
			}
			row, problems, _ := cols.ReadRow(2, strings.Split(c.lines[1], ","))
			if len(problems) != c.problems {
				t.Fatalf("problems %v, want %d", problems, c.problems)
			}
			if got := []string{row.Price.String(), row.Alarm1.String(), row.Alarm2.String()}; got[0] != c.price ||
				got[1] != c.alarm1 || got[2] != c.alarm2 {
				t.Errorf("price, alarm1, alarm2 = %v, want %s %s %s", got, c.price, c.alarm1, c.alarm2)
			}
		})
	}
}
