package main

import (
	"testing"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/registry"
)

// Every alarm a charger fault can map to is one the regulator exchange
// accepts (appendix B), with the same type and level; a recovery clears it.
func TestRegulatorAlarmFromFault(t *testing.T) {
	codes := []string{"ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
		"InternalError", "LocalListConflict", "OtherError", "OverCurrentFailure", "OverVoltage", "PowerMeterFailure",
		"PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal"}
	for _, code := range codes {
		al, ok := chargefault.FromOCPP(code)
		if !ok {
			t.Fatalf("%s maps to no alarm", code)
		}
		typ, level, known := registry.AlarmClass(al.Code)
		if !known || typ != al.Type || level != al.Level {
			t.Errorf("%s → code %d type %d level %d; appendix B table says known=%v type %d level %d",
				code, al.Code, al.Type, al.Level, known, typ, level)
		}
	}
	ev := centralsystem.FaultEvent{ChargePointID: "4403000000000000000001", Connector: 2, OCPPCode: "HighTemperature",
		Alarm: chargefault.ChargerOverTemp}
	if a := regulatorAlarm(ev); a.ConnectorID != "4403000000000000000001002" || a.AlarmStatus != 1 || a.AlarmCode != 17 {
		t.Fatalf("raised = %+v", a)
	}
	ev.Recovered, ev.Connector = true, 0
	if a := regulatorAlarm(ev); a.ConnectorID != "" || a.EquipmentID != ev.ChargePointID || a.AlarmStatus != 0 {
		t.Fatalf("cleared = %+v", a)
	}
}
