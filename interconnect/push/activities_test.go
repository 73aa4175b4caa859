package push_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// TestPeriodicReport: one periodic tick pushes every connector's status,
// the newest BMS sample of a charging connector, and — on the first tick
// and after a registry change only — the station info, paged.
func TestPeriodicReport(t *testing.T) {
	ctx := context.Background()
	db, sim, acts := pumpFixture(t)

	conn := "4403000000000000000002005"
	t0 := time.Now().Truncate(time.Second)
	if _, err := push.RecordStatusChange(ctx, db, push.DefaultRegulator, registry.ConnectorStatusInfo{ConnectorID: conn,
		Status: registry.StatusCharging}, t0); err != nil {
		t.Fatal(err)
	}
	for i, soc := range []int{30, 31} {
		if _, err := push.RecordBMS(ctx, db, push.DefaultRegulator, conn, registry.BmsInfo{Soc: soc,
			StartChargingTime: registry.FormatTime(t0)}, t0.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	tick := func(at time.Time) push.PeriodicResult {
		t.Helper()
		res, err := acts.PushStationStatus(ctx, push.PeriodicInput{StationID: registry.DemoStationID, At: at})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	lanes := func(res push.PeriodicResult) map[string]int {
		m := map[string]int{}
		for _, p := range res.Orphans {
			m[p.ConnectorID]++
		}
		return m
	}
	res := tick(t0.Add(5 * time.Second))
	if res.Sent != 25 || res.Failed != 0 {
		t.Fatalf("first tick sent %d (failed %d), want 24 statuses and 1 bms", res.Sent, res.Failed)
	}
	if l := lanes(res); l[push.LaneStationInfo] != 1 {
		t.Fatalf("first tick queued %v, want the station info", l)
	}
	bms := sim.Received(push.NotificationBmsInfo)
	if len(bms) != 1 {
		t.Fatalf("%d bms pushes", len(bms))
	}
	var b registry.ConnectorBms
	if err := json.Unmarshal(bms[0].Data, &b); err != nil || b.ConnectorID != conn || b.Status != registry.StatusCharging ||
		b.BmsInfo == nil || b.BmsInfo.Soc != 31 {
		t.Fatalf("periodic bms %s (%v)", bms[0].Data, err)
	}
	// Nothing changed in the registry: no station info again.
	if l := lanes(tick(t0.Add(10 * time.Second))); l[push.LaneStationInfo] != 0 {
		t.Fatalf("second tick queued %v", l)
	}
	if _, err := db.Exec(ctx, `update charging_connectors set park_no='P9-99', updated_at=$2 where connector_id=$1`,
		conn, t0.Add(12*time.Second)); err != nil {
		t.Fatal(err)
	}
	if l := lanes(tick(t0.Add(15 * time.Second))); l[push.LaneStationInfo] != 1 {
		t.Fatalf("tick after a registry change queued %v, want the station info", l)
	}
}
