package meterimport

import (
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary sheets (lines of comma-separated cells) to the row checks:
// it must never panic, and a sheet it passes must hold what it promises.
func FuzzRead(f *testing.F) {
	f.Add(heading + "\nA1,GW-A,10.0.0.1:502,modbus-tcp,1,ref-prepaid-v1,1.2\nA2,GW-A,,,2,ref-prepaid-v1,1.2")
	f.Add("表号,网关编号,通讯地址,型号,单价\n000000000001,GW,1,ref-prepaid-v1,0.5")
	f.Add(heading + ",max_in_flight,alarm1\nA1,GW-A,[::1]:502,modbus-tcp,247,ref-prepaid-v1,0.0001,256,99999999999999")
	f.Fuzz(func(t *testing.T, text string) {
		problems, rows := read(strings.Split(text, "\n")...)
		if len(problems) > 0 {
			return
		}
		for _, m := range rows {
			if m.MeterNo == "" || m.Gateway == "" || m.Unit < 1 || m.Unit > 247 || !knownProfile(m.Profile) ||
				m.Price.IsNegative() || m.CT < 1 || m.PT < 1 {
				t.Fatalf("passed a bad meter %+v", m)
			}
		}
	})
}
