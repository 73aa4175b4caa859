package centralsystem_test

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/devices/ykc"
	"github.com/voltflow/voltflow/interconnect/registry"
)

// TestMergeBMS: each YKC BMS frame fills its part of table 20, in the
// standard's units.
func TestMergeBMS(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 30, 0, 0, time.Local)
	var vin [17]byte
	copy(vin[:], "LSVAU2180N2183294")
	for _, tc := range []struct {
		name  string
		frame ykc.Body
		kwh   float64
		want  registry.BmsInfo
	}{
		{"handshake", &ykc.Handshake{Gun: "01", BMSVersion: 0x000101, RatedCapacity: 1500, RatedVoltage: 3800,
			Manufacturer: [4]byte{'C', 'A', 'T', 'L'}, PackSerial: 1, VIN: vin}, 57,
			registry.BmsInfo{VINCode: "LSVAU2180N2183294", BMSVer: "V1.1.0", BMSCode: "CATL1", RatedCapacity: 57}},
		{"demand", &ykc.BMSDemand{Gun: "01", DemandVoltage: 4100, DemandCurrent: ykc.CurrentOffset + 1200,
			MeasuredVoltage: 3950, MeasuredCurrent: ykc.CurrentOffset + 1190, MaxCell: 1<<12 | 395, SOC: 55,
			ChargedMinutes: 12}, 0,
			registry.BmsInfo{Soc: 55, MaxChargeCurrent: 120, TatalVoltage: 395, TotalCurrent: 119, VoltageH: 3.95,
				StartChargingTime: registry.FormatTime(at.Add(-12 * time.Minute))}},
		{"status", &ykc.BMSStatus{Gun: "01", MaxCellNo: 17, MaxTemp: 80, MaxTempPoint: 3, MinTemp: 72, MinTempPoint: 9}, 0,
			registry.BmsInfo{VoltageHNumIndex: 18, TemptureH: 30, TemptureHNumIndex: 4, TemptureL: 22,
				TemptureLNumIndex: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got registry.BmsInfo
			if kwh := centralsystem.MergeBMS(&got, at, tc.frame); kwh != tc.kwh || got != tc.want {
				t.Fatalf("got %+v (%v kWh)\nwant %+v (%v kWh)", got, kwh, tc.want, tc.kwh)
			}
		})
	}
}
