package chargefault

import "testing"

func TestFromOCPP(t *testing.T) {
	tests := []struct {
		code      string
		wantOK    bool
		wantCode  int
		wantType  int
		wantLevel int
	}{
		{"NoError", false, 0, 0, 0},
		{"", false, 0, 0, 0},
		{"GroundFailure", true, 4, TypeCharging, LevelPersonalSafety},
		{"HighTemperature", true, 17, TypeCharging, LevelEquipmentSafety},
		{"OverVoltage", true, 201, TypeDistribution, LevelEquipmentSafety},
		{"OverCurrentFailure", true, 122, TypeBattery, LevelEquipmentSafety},
		{"ConnectorLockFailure", true, 13, TypeCharging, LevelEquipmentSafety},
		{"WeakSignal", true, 27, TypeCharging, LevelNotice},
		{"OtherError", true, 31, TypeCharging, LevelEquipmentSafety},
		{"SomethingNew", true, 31, TypeCharging, LevelEquipmentSafety},
	}
	for _, tt := range tests {
		a, ok := FromOCPP(tt.code)
		if ok != tt.wantOK || a.Code != tt.wantCode || a.Type != tt.wantType || a.Level != tt.wantLevel {
			t.Errorf("FromOCPP(%q) = %+v, %v; want code %d type %d level %d ok %v",
				tt.code, a, ok, tt.wantCode, tt.wantType, tt.wantLevel, tt.wantOK)
		}
	}
}
