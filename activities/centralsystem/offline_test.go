package centralsystem_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/voltflow/voltflow/activities/centralsystem"
	"github.com/voltflow/voltflow/domain/chargefault"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/clock"
)

// offlinePush is a connector's newest status push and status row.
type offlinePush struct {
	pushes  int // status pushes of the connector after the disconnect
	payload string
	status  int
	history string
}

// TestDisconnectMarksEverythingOffline: a dropped charge point's every
// connector not already offline gets status 0 (currents zeroed, the rest of
// its row kept) with one regulator push, after its earlier pushes; an
// offline one gets none; then the charge point is offline with one Offline
// fault, told to the hooks. Recording the connectors together (the outbox
// alone, or group commit) leaves exactly what one change at a time does.
func TestDisconnectMarksEverythingOffline(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	charging1 := centralsystem.ConnectorID(cp1, 1)
	offline2 := centralsystem.ConnectorID(cp1, 2)
	modes := map[string]func(*env) (centralsystem.StatusRecorder, centralsystem.StatusesRecorder){
		"one at a time": func(e *env) (centralsystem.StatusRecorder, centralsystem.StatusesRecorder) {
			return func(ctx context.Context, info registry.ConnectorStatusInfo, at time.Time) error {
				_, err := push.RecordStatusChange(ctx, e.db, push.DefaultRegulator, info, at)
				return err
			}, nil
		},
		"outbox": func(*env) (centralsystem.StatusRecorder, centralsystem.StatusesRecorder) { return nil, nil },
		"group commit": func(e *env) (centralsystem.StatusRecorder, centralsystem.StatusesRecorder) {
			b := &push.Batcher{DB: e.db, Regulator: push.DefaultRegulator, Max: 5}
			return nil, func(ctx context.Context, changes []push.StatusChange) error {
				_, err := b.RecordAll(ctx, changes)
				return err
			}
		},
	}
	results := map[string]map[string]offlinePush{}
	for _, name := range []string{"one at a time", "outbox", "group commit"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := setupDB(t)
			rec := &recorder{}
			svc := &centralsystem.Service{DB: e.db, Hooks: rec.hooks(), Clock: clock.Fixed(at)}
			svc.Status, svc.Statuses = modes[name](e)
			svc.Connected(ctx, cp1)
			for _, info := range []registry.ConnectorStatusInfo{
				{ConnectorID: charging1, Status: registry.StatusCharging, CurrentA: 32, CurrentB: 31, CurrentC: 30,
					VoltageA: 230, SOC: 55, ChargeElectricity: 12.5},
				{ConnectorID: offline2, Status: registry.StatusOffline},
			} {
				if _, err := push.RecordStatusChange(ctx, e.db, push.DefaultRegulator, info, at.Add(-time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			var before int64
			if err := e.db.QueryRow(ctx, `select coalesce(max(id),0) from regulator_pushes`).Scan(&before); err != nil {
				t.Fatal(err)
			}

			svc.Disconnected(ctx, cp1)

			rows, err := e.db.Query(ctx, `select c.connector_id, st.status, (select count(*) from regulator_pushes p
					where p.connector_id=c.connector_id and p.interface=$3 and p.id > $2),
				coalesce((select p.payload::text from regulator_pushes p where p.connector_id=c.connector_id
					and p.interface=$3 and p.id > $2 order by p.id desc limit 1), ''),
				coalesce((select h.info::text || '@' || h.changed_at::text from connector_status_history h
					where h.connector_id=c.connector_id order by h.id desc limit 1), '')
				from charging_connectors c join connector_status st using (connector_id)
				where c.equipment_id=$1 order by c.connector_id`, cp1, before, push.NotificationStationStatus)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]offlinePush{}
			for rows.Next() {
				var id string
				var p offlinePush
				if err := rows.Scan(&id, &p.status, &p.pushes, &p.payload, &p.history); err != nil {
					t.Fatal(err)
				}
				got[id] = p
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != registry.DemoConnectorsPerEquipment {
				t.Fatalf("%d connectors with a status, want %d", len(got), registry.DemoConnectorsPerEquipment)
			}
			for id, p := range got {
				want := 1
				if id == offline2 {
					want = 0 // already offline: nothing to tell the regulator
				}
				if p.status != registry.StatusOffline || p.pushes != want {
					t.Errorf("%s: status %d with %d new pushes, want 0 with %d", id, p.status, p.pushes, want)
				}
			}
			var sent push.StatusPayload
			if err := json.Unmarshal([]byte(got[charging1].payload), &sent); err != nil {
				t.Fatal(err)
			}
			if s := sent.ConnectorStatusInfo; s.Status != registry.StatusOffline || s.CurrentA+s.CurrentB+s.CurrentC != 0 ||
				s.VoltageA != 230 || s.SOC != 55 || s.ChargeElectricity != 12.5 {
				t.Errorf("offline push of the charging connector = %+v", s)
			}

			var online bool
			var disconnected time.Time
			if err := e.db.QueryRow(ctx, `select online, disconnected_at from ocpp_charge_points where equipment_id=$1`,
				cp1).Scan(&online, &disconnected); err != nil || online || !disconnected.Equal(at) {
				t.Fatalf("charge point online %v disconnected at %v, %v; want offline at %v", online, disconnected, err, at)
			}
			if open, all := openFaults(t, e, cp1); open != 1 || all != 1 {
				t.Fatalf("faults: open %d, all %d; want the one Offline", open, all)
			}
			faults, _ := rec.snapshot()
			if len(faults) != 1 || faults[0].Alarm != chargefault.Offline || faults[0].Recovered || !faults[0].At.Equal(at) {
				t.Fatalf("fault events = %+v", faults)
			}

			// Handled again (a repeated drop): nothing more to record.
			svc.Disconnected(ctx, cp1)
			var after int
			if err := e.db.QueryRow(ctx, `select count(*) from regulator_pushes where id > $1 and interface=$2`,
				before, push.NotificationStationStatus).Scan(&after); err != nil || after != len(got)-1 {
				t.Fatalf("%d status pushes after a second disconnect, %v; want %d", after, err, len(got)-1)
			}
			results[name] = got
		})
	}
	for name, got := range results {
		if want := results["one at a time"]; !maps.Equal(got, want) {
			t.Errorf("%s left\n%v\none at a time left\n%v", name, got, want)
		}
	}
}
