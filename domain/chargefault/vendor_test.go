package chargefault

import "testing"

// TestFromOCPPEveryCode: every OCPP 1.6 ChargePointErrorCode has its
// appendix B code.
func TestFromOCPPEveryCode(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{"ConnectorLockFailure", 13},
		{"EVCommunicationError", 16},
		{"GroundFailure", 4},
		{"HighTemperature", 17},
		{"InternalError", 31},
		{"LocalListConflict", 31},
		{"NoError", 0},
		{"OtherError", 31},
		{"OverCurrentFailure", 122},
		{"OverVoltage", 201},
		{"PowerMeterFailure", 3},
		{"PowerSwitchFailure", 1},
		{"ReaderFailure", 31},
		{"ResetFailure", 31},
		{"UnderVoltage", 8},
		{"WeakSignal", 27},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			a, ok := FromOCPP(tt.code)
			if ok != (tt.want != 0) || a.Code != tt.want {
				t.Fatalf("FromOCPP(%q) = %+v, %v; want code %d", tt.code, a, ok, tt.want)
			}
			if ok {
				checkAppendix(t, a)
			}
		})
	}
}

// checkAppendix: the alarm's type and level are table B.3's for its code.
func checkAppendix(t *testing.T, a Alarm) {
	t.Helper()
	want, ok := b3[a.Code]
	if !ok {
		t.Fatalf("code %d is not in table B.3", a.Code)
	}
	typ := TypeCharging
	switch {
	case a.Code > 200:
		typ = TypeDistribution
	case a.Code > 100:
		typ = TypeBattery
	}
	if a.Level != want || a.Type != typ {
		t.Fatalf("code %d: type %d level %d, table B.3 says type %d level %d", a.Code, a.Type, a.Level, typ, want)
	}
}

// b3 is table B.3's level of the codes used (seed 001, appendix B).
var b3 = map[int]int{1: 3, 2: 3, 3: 3, 4: 1, 6: 2, 8: 3, 9: 1, 10: 3, 13: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 3,
	26: 1, 27: 3, 31: 2, 122: 2, 201: 2, 203: 2, 204: 2, 205: 2}

// TestFromStatusVendorCodes: each cabinet protection's vendor code, in
// any spelling, maps to its appendix B code whatever the errorCode.
func TestFromStatusVendorCodes(t *testing.T) {
	tests := []struct {
		errorCode, vendor string
		want              int
	}{
		{"OtherError", VendorSurge, 15},
		{"OtherError", VendorWaterImmersion, 4},
		{"HighTemperature", VendorOverTemp, 17},
		{"OtherError", VendorDoorOpen, 26},
		{"OtherError", VendorRemoteCutOff, 2},
		{"HighTemperature", VendorGunOverTemp, 18},
		{"OtherError", VendorSmoke, 9},
		{"OtherError", VendorBreakerTrip, 10},
		{"NoError", "door_open", 26},
		{"OtherError", "water-immersion", 4},
		{"OtherError", " REMOTE CUT OFF ", 2},
		{"OtherError", "X-123", 31},   // unknown vendor code: the errorCode decides
		{"GroundFailure", "", 4},      // no vendor code
		{"NoError", "", 0},            // nothing wrong
		{"NoError", "UnknownCode", 0}, // an unknown vendor code alone is no fault
	}
	for _, tt := range tests {
		t.Run(tt.errorCode+"/"+tt.vendor, func(t *testing.T) {
			a, ok := FromStatus(tt.errorCode, tt.vendor)
			if ok != (tt.want != 0) || a.Code != tt.want {
				t.Fatalf("FromStatus(%q, %q) = %+v, %v; want %d", tt.errorCode, tt.vendor, a, ok, tt.want)
			}
			if ok {
				checkAppendix(t, a)
			}
		})
	}
}
