package chargefault

import (
	"strings"
	"testing"
)

func TestEventCode(t *testing.T) {
	tests := []struct {
		name     string
		kind     EventKind
		alarm    Alarm
		wantCode int
		wantNote string
	}{
		{"session start", SessionStarted, Alarm{}, 1003, "充电开始 C1"},
		{"session stop", SessionStopped, Alarm{}, 1003, "充电结束 C1"},
		{"charging fault", FaultRaised, ChargerOverTemp, 7002, "故障 17 充电桩过温故障 C1"},
		{"charging fault recovered", FaultRecovered, ChargerOverTemp, 7002, "故障恢复 17"},
		{"battery fault", FaultRaised, BatteryOverCurrent, 7003, "故障 122"},
		{"distribution fault", FaultRaised, SupplyOverVoltage, 7001, "故障 201"},
		{"paused", OperationPaused, Alarm{}, 7002, "暂停运营 C1"},
		{"resumed", OperationResumed, Alarm{}, 1003, "恢复运营 C1"},
		{"unknown", EventKind(99), Alarm{}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, note := EventCode(tt.kind, tt.alarm, "C1")
			if code != tt.wantCode || !strings.HasPrefix(note, tt.wantNote) {
				t.Fatalf("EventCode = %d %q; want %d %q…", code, note, tt.wantCode, tt.wantNote)
			}
		})
	}
}
