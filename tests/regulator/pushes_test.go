package regulator

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
)

// TestOtherPushes: station info (paged), events, BMS samples and alarms
// reach the regulator through the station's push workflow, with the
// tables' fields filled in.
func TestOtherPushes(t *testing.T) {
	e := setup(t, push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second})
	ctx := context.Background()
	conn := connectors()[1]
	now := time.Now()
	if _, err := e.starter.StationInfo(ctx, stack.DB, push.DefaultRegulator, registry.DemoStationID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.starter.Event(ctx, stack.DB, push.DefaultRegulator, registry.EventInfo{StationID: registry.DemoStationID, EventCode: 5001}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.starter.ChangeStatus(ctx, stack.DB, push.DefaultRegulator, registry.ConnectorStatusInfo{ConnectorID: conn,
		Status: registry.StatusCharging, SOC: 40}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.starter.BMS(ctx, stack.DB, push.DefaultRegulator, conn, registry.BmsInfo{VINCode: "LSVAU2180N2183294", Soc: 41,
		StartChargingTime: registry.FormatTime(now.Add(-time.Minute))}, now); err != nil {
		t.Fatal(err)
	}
	alarmAt := time.Now()
	if _, err := e.starter.Alarm(ctx, stack.DB, push.DefaultRegulator, registry.AlarmInfo{ConnectorID: conn,
		AlarmStatus: registry.AlarmRaised, AlarmCode: 18}, alarmAt); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 30*time.Second, "station info, event, bms and alarm arrive", func() (bool, string) {
		n := map[string]int{}
		for _, iface := range []string{push.NotificationStationInfo, push.NotificationEventInfo, push.NotificationBmsInfo, push.NotificationAlarmInfo} {
			n[iface] = len(e.sim.Received(iface))
		}
		return n[push.NotificationStationInfo] > 0 && n[push.NotificationEventInfo] > 0 && n[push.NotificationBmsInfo] > 0 &&
			n[push.NotificationAlarmInfo] > 0, fmt.Sprint(n)
	})
	var si push.StationInfoPayload
	if err := json.Unmarshal(e.sim.Received(push.NotificationStationInfo)[0].Data, &si); err != nil ||
		si.StationInfo.StationID != registry.DemoStationID || len(si.StationInfo.EquipmentInfos) != 2 {
		t.Fatalf("station info %+v (%v)", si.StationInfo.StationID, err)
	}
	var ev push.EventPayload
	if err := json.Unmarshal(e.sim.Received(push.NotificationEventInfo)[0].Data, &ev); err != nil || len(ev.EventInfo) != 1 ||
		ev.EventInfo[0].EventType != 5 || ev.EventInfo[0].StationName == "" {
		t.Fatalf("event %+v (%v)", ev, err)
	}
	var bms registry.ConnectorBms
	if err := json.Unmarshal(e.sim.Received(push.NotificationBmsInfo)[0].Data, &bms); err != nil || bms.ConnectorID != conn ||
		bms.Status != registry.StatusCharging || bms.BmsInfo == nil || bms.BmsInfo.Soc != 41 || bms.BmsInfo.ChargingSessionMin != 60 {
		t.Fatalf("bms %+v (%v)", bms, err)
	}
	r := e.sim.Received(push.NotificationAlarmInfo)[0]
	var al push.AlarmPayload
	if err := json.Unmarshal(r.Data, &al); err != nil || len(al.AlarmInfos) != 1 || al.AlarmInfos[0].AlarmType != 1 ||
		al.AlarmInfos[0].AlarmLevel != 2 || al.AlarmInfos[0].EquipmentID != registry.DemoEquipmentIDs[0] {
		t.Fatalf("alarm %+v (%v)", al, err)
	}
	// §8.7 allows 5–60 s; we aim at the low end.
	if d := r.At.Sub(alarmAt); d > 5*time.Second {
		t.Errorf("alarm arrived %s after it fired", d)
	}
}
