package regulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/interconnect/regsim"
	"github.com/voltflow/voltflow/interconnect/serve"
	"github.com/voltflow/voltflow/internal/eventually"
)

// platform serves the regulator's queries over stack.DB (what `voltflow
// serve` mounts at /shevcs) and returns its /shevcs/v1 base.
func platform(t *testing.T) string {
	t.Helper()
	mk, err := keys.MasterKeyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.New(serve.Config{DB: stack.DB, Keys: &keys.Store{DB: stack.DB, Key: mk},
		Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv.URL + "/shevcs/v1"
}

// alarmKey identifies an alarm report as the simulator does.
func alarmKey(a registry.AlarmInfo) string {
	return fmt.Sprint(a.ConnectorID, "|", a.AlarmCode, "|", a.AlarmStatus, "|", a.AlarmTime)
}

// TestOutageBackfill is the "10 minutes" outage, accelerated 50× to 12 s:
// the regulator refuses connections, then acknowledges and loses what it
// gets (so only supplement_collect can repair it), then answers Ret -1,
// while connector statuses change and alarms fire. Afterwards the
// simulator holds every status change and every alarm — from the retried
// pushes or from its own backfill — and the lost ones came by backfill.
func TestOutageBackfill(t *testing.T) {
	e := setupWith(t, push.Input{Cadence: 5 * time.Second, RetryMaxInterval: time.Second}, platform(t))
	ctx := context.Background()
	ids := connectors()
	var changes []change
	alarms := map[string]bool{}
	n := 0
	step := func() {
		c := ids[n%len(ids)]
		energy := 700000 + float64(n)
		at := time.Now()
		if _, err := e.starter.ChangeStatus(ctx, stack.DB, push.DefaultRegulator, registry.ConnectorStatusInfo{
			ConnectorID: c, Status: []int{registry.StatusCharging, registry.StatusChargeDone}[(n/len(ids))%2],
			ChargeElectricity: registry.KWh(energy)}, at); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, change{c, 0, energy, at})
		n++
	}
	alarm := func(i int) {
		at := time.Now().Truncate(time.Second)
		a := registry.AlarmInfo{ConnectorID: ids[(i*5)%len(ids)], AlarmStatus: registry.AlarmRaised,
			AlarmCode: []int{4, 17, 101, 13}[i%4], NoteString: fmt.Sprintf("outage alarm %d", i)}
		if _, err := e.starter.Alarm(ctx, stack.DB, push.DefaultRegulator, a, at); err != nil {
			t.Fatal(err)
		}
		a.AlarmTime = registry.FormatTime(at)
		alarms[alarmKey(a)] = true
	}
	// Healthy: every connector reports once, so the regulator knows it.
	for range ids {
		step()
	}
	eventually.True(t, 30*time.Second, "first reports arrive", func() (bool, string) {
		first, _ := received(e.sim)
		got := 0
		for _, c := range changes {
			if _, ok := first[c.energy]; ok {
				got++
			}
		}
		return got == len(changes), fmt.Sprintf("%d of %d", got, len(changes))
	})

	// The outage: 12 s (4 s per mode), a status change every 250 ms (each
	// connector every 6 s) and an alarm every second.
	alarmN := 0
	for _, m := range []regsim.Mode{regsim.ModeRefuse, regsim.ModeLose, regsim.ModeBusy} {
		if err := e.sim.SetMode(m, 0); err != nil {
			t.Fatal(err)
		}
		for i := range 16 {
			step()
			if i%4 == 0 {
				alarm(alarmN)
				alarmN++
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	if err := e.sim.SetMode(regsim.ModeOK, 0); err != nil {
		t.Fatal(err)
	}

	heldAlarms := func() (map[string]bool, int) {
		held := map[string]bool{}
		backfilled := 0
		for _, r := range e.sim.Received(push.NotificationAlarmInfo) {
			var p push.AlarmPayload
			if json.Unmarshal(r.Data, &p) != nil {
				continue
			}
			for _, a := range p.AlarmInfos {
				held[alarmKey(a)] = true
			}
			if r.Backfilled {
				backfilled++
			}
		}
		return held, backfilled
	}
	eventually.True(t, 120*time.Second, "every status change and alarm is held", func() (bool, string) {
		if len(e.sim.Backfills()) == 0 {
			return false, "no backfill yet"
		}
		first, _ := received(e.sim)
		missing := 0
		for _, c := range changes {
			if _, ok := first[c.energy]; !ok {
				missing++
			}
		}
		held, _ := heldAlarms()
		missingAlarms := 0
		for k := range alarms {
			if !held[k] {
				missingAlarms++
			}
		}
		return missing == 0 && missingAlarms == 0, fmt.Sprintf("%d of %d changes and %d of %d alarms missing; backfills %+v",
			missing, len(changes), missingAlarms, len(alarms), e.sim.Backfills())
	})
	bf := e.sim.Backfills()
	if bf[0].Err != "" {
		t.Fatalf("backfill failed: %s", bf[0].Err)
	}
	// What the regulator acknowledged and lost can only have come back by
	// backfill.
	statusBackfilled := 0
	for _, r := range e.sim.Received(push.NotificationStationStatus) {
		if r.Backfilled {
			statusBackfilled++
		}
	}
	_, alarmBackfilled := heldAlarms()
	if statusBackfilled == 0 || alarmBackfilled == 0 {
		t.Fatalf("backfilled %d statuses and %d alarms; the lost ones must come by backfill", statusBackfilled, alarmBackfilled)
	}
	t.Logf("outage: %d status changes, %d alarms; backfill %+v", len(changes)-len(ids), len(alarms), bf[0].Result)
}
