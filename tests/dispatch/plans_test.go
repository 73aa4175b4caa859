package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

type planView struct {
	ID, StationID, PlanID, Kind, WorkflowID, Status string
	CancelledAt                                     *time.Time
	Input                                           struct{ TOU []json.RawMessage }
	Outcomes                                        []struct {
		Target                   struct{ Connector int }
		Command, Status, Failure string
	}
	State *struct {
		Replans  int
		LimitsKW map[string]float64
	}
}

type problemBody struct{ Code, Field string }

// postKey is POST with an Idempotency-Key header (the harness client's Do sends none).
func postKey(t *testing.T, c *harness.Client, path, key string, body, out any) int {
	t.Helper()
	code, b, _ := c.DoHeaders(t, http.MethodPost, path, body, map[string]string{"Idempotency-Key": key})
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("POST %s: %d %q: %v", path, code, b, err)
	}
	return code
}

// TestPlansAPI creates, reads and cancels timed and smart plans through the
// API: bad plans are refused with their field and change nothing, only the
// roles that control devices may create them, a retry with the same key
// answers the same plan, the timed plan drives the right connectors at its
// times, and a cancelled smart plan releases its limits on the charger.
func TestPlansAPI(t *testing.T) {
	ctx := context.Background()
	cpID := registry.DemoEquipmentIDs[1]
	station := registry.DemoStationID
	conn := func(c int) string { return fmt.Sprintf("%s%03d", cpID, c) }
	cp := connect(t, cpID, time.Time{}, time.Time{}, 1)
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	card := fleetCard(t)
	plans := func() int {
		var n int
		if err := stack.DB.QueryRow(ctx, `select count(*) from dispatch_plans`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := plans()

	// The plan's clock starts at 22:59 and runs 120× (a plan-minute in 0.5 s).
	epoch := time.Date(2026, 11, 23, 22, 59, 0, 0, cst)
	timed := func(planID string, stopAt time.Time) map[string]any {
		return map[string]any{"stationId": station, "planId": planID, "kind": "timed",
			"clock": map[string]any{"epoch": epoch, "factor": 120},
			"actions": []map[string]any{
				{"at": epoch.Add(time.Minute), "command": "start", "connectorIds": []string{conn(4), conn(6)}, "idTag": card},
				{"at": stopAt, "command": "stop", "connectorIds": []string{conn(4), conn(6)}},
			}}
	}
	action := func(a map[string]any) map[string]any {
		return map[string]any{"stationId": station, "kind": "timed", "actions": []map[string]any{a}}
	}
	soon := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name      string
		body      map[string]any
		status    int
		code, fld string
	}{
		{"kind", map[string]any{"stationId": station, "kind": "weekly"}, 422, "invalid_field", "kind"},
		{"no actions", map[string]any{"stationId": station, "kind": "timed"}, 422, "invalid_field", "actions"},
		{"command", action(map[string]any{"at": soon, "command": "explode", "connectorIds": []string{conn(1)}}), 422, "unknown_command", "actions[0].command"},
		{"limit without power", action(map[string]any{"at": soon, "command": "limit", "connectorIds": []string{conn(1)}}), 422, "invalid_field", "actions[0].powerKw"},
		{"past", action(map[string]any{"at": time.Now().Add(-time.Hour), "command": "stop", "connectorIds": []string{conn(1)}}), 422, "invalid_field", "actions[0].at"},
		{"foreign connector", action(map[string]any{"at": soon, "command": "stop", "connectorIds": []string{"4403000000000000000009001"}}), 422, "invalid_field", "actions[0].connectorIds"},
		{"smart without limit", map[string]any{"stationId": station, "kind": "smart"}, 422, "invalid_field", "siteLimitKw"},
		{"smart bad period", map[string]any{"stationId": station, "kind": "smart", "siteLimitKw": 100,
			"tou": []map[string]any{{"start": "23:00", "end": "07:00", "period": "cheap"}}}, 422, "invalid_field", "tou[0].period"},
		{"smart fleet elsewhere", map[string]any{"stationId": station, "kind": "smart", "siteLimitKw": 100, "connectorIds": []string{conn(1)},
			"fleet": []map[string]any{{"connectorId": conn(2), "capacityKwh": 300, "maxKw": 120}}}, 422, "invalid_field", "fleet[0].connectorId"},
		{"unknown station", map[string]any{"stationId": "44030000000000000999", "kind": "smart", "siteLimitKw": 100}, 404, "not_found", "stationId"},
	} {
		var p problemBody
		if code := admin.Do(t, http.MethodPost, "/api/v1/dispatch/plans", tc.body, &p); code != tc.status || p.Code != tc.code || p.Field != tc.fld {
			t.Errorf("%s: %d %+v, want %d %s on %s", tc.name, code, p, tc.status, tc.code, tc.fld)
		}
	}
	var p problemBody
	if code := cashier.Do(t, http.MethodPost, "/api/v1/dispatch/plans", timed("by-cashier", epoch.Add(11*time.Minute)), &p); code != 403 || p.Code != "forbidden" {
		t.Errorf("cashier creates a plan: %d %+v, want 403 forbidden", code, p)
	}
	if n := plans(); n != before {
		t.Fatalf("refused plans recorded: %d → %d", before, n)
	}

	// A timed plan: start connectors 4 and 6 at 23:00, stop them at 23:10;
	// vehicles wait on 4, 6 and 9.
	for _, c := range []int{4, 6, 9} {
		if err := cp.Plug(c, chargersim.Vehicle{SOC: 30, CapacityKWh: capacity, MaxKW: busKW}); err != nil {
			t.Fatal(err)
		}
	}
	body := timed("evening", epoch.Add(21*time.Minute))
	var first, again planView
	if code := postKey(t, admin, "/api/v1/dispatch/plans", "plan-evening-1", body, &first); code != 202 || first.Status != "running" ||
		first.WorkflowID != "dispatch/"+station+"/evening" {
		t.Fatalf("create timed plan: %d %+v", code, first)
	}
	if code := postKey(t, admin, "/api/v1/dispatch/plans", "plan-evening-1", body, &again); code != 202 || again.ID != first.ID {
		t.Errorf("retry with the same key: %d %+v, want plan %s", code, again, first.ID)
	}
	other := timed("evening", epoch.Add(30*time.Minute))
	if code := postKey(t, admin, "/api/v1/dispatch/plans", "plan-evening-1", other, &p); code != 409 || p.Code != "idempotency_key_reused" {
		t.Errorf("same key, other body: %d %+v", code, p)
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/dispatch/plans", other, &p); code != 409 || p.Code != "plan_exists" || p.Field != "planId" {
		t.Errorf("same plan id, other body: %d %+v", code, p)
	}
	if n := plans(); n != before+1 {
		t.Errorf("%d plans recorded, want one", n-before)
	}
	eventually.True(t, 15*time.Second, "sessions on 4 and 6 only", func() (bool, string) {
		var on []int
		for c := 1; c <= 12; c++ {
			if cp.Session(c) != nil {
				on = append(on, c)
			}
		}
		return fmt.Sprint(on) == "[4 6]", fmt.Sprint(on)
	})
	var done planView
	eventually.True(t, 20*time.Second, "timed plan completed", func() (bool, string) {
		done = planView{}
		admin.Do(t, http.MethodGet, "/api/v1/dispatch/plans/"+station+"/evening", nil, &done)
		return done.Status == "completed", done.Status
	})
	var sent []string
	for _, o := range done.Outcomes {
		if o.Status != "Accepted" {
			t.Errorf("%s on %d: %s %s", o.Command, o.Target.Connector, o.Status, o.Failure)
		}
		sent = append(sent, fmt.Sprintf("%s %d", o.Command, o.Target.Connector))
	}
	sort.Strings(sent)
	if fmt.Sprint(sent) != "[start 4 start 6 stop 4 stop 6]" {
		t.Errorf("timed plan sent %v", sent)
	}
	eventually.True(t, 10*time.Second, "sessions stopped", func() (bool, string) {
		return cp.Session(4) == nil && cp.Session(6) == nil, ""
	})
	if code := admin.Do(t, http.MethodDelete, "/api/v1/dispatch/plans/"+station+"/evening", nil, &p); code != 409 || p.Code != "plan_not_running" {
		t.Errorf("cancel a completed plan: %d %+v", code, p)
	}

	// A smart plan over connectors 1 and 2 with the station's own TOU
	// periods: idle connectors are held at 0 kW until it is cancelled.
	var smart planView
	if code := admin.Do(t, http.MethodPost, "/api/v1/dispatch/plans", map[string]any{"stationId": station, "planId": "hold",
		"kind": "smart", "siteLimitKw": 100, "connectorIds": []string{conn(1), conn(2)}}, &smart); code != 202 {
		t.Fatalf("create smart plan: %d %+v", code, smart)
	}
	if len(smart.Input.TOU) != 7 {
		t.Errorf("smart plan TOU periods %d, want the demo strategy's 7", len(smart.Input.TOU))
	}
	eventually.True(t, 20*time.Second, "limits installed", func() (bool, string) {
		w1, ok1 := cp.LimitW(1)
		w2, ok2 := cp.LimitW(2)
		return ok1 && ok2 && w1 == 0 && w2 == 0, fmt.Sprint(w1, ok1, w2, ok2)
	})
	var live planView
	if code := admin.Do(t, http.MethodGet, "/api/v1/dispatch/plans/"+station+"/hold", nil, &live); code != 200 || live.Status != "running" ||
		live.State == nil || live.State.Replans < 1 || len(live.State.LimitsKW) != 2 {
		t.Errorf("smart plan: %d %+v", code, live)
	}
	if code := cashier.Do(t, http.MethodDelete, "/api/v1/dispatch/plans/"+station+"/hold", nil, &p); code != 403 {
		t.Errorf("cashier cancels: %d %+v", code, p)
	}
	var cancelled planView
	if code := admin.Do(t, http.MethodDelete, "/api/v1/dispatch/plans/"+station+"/hold", nil, &cancelled); code != 202 ||
		cancelled.Status != "cancelling" || cancelled.CancelledAt == nil {
		t.Errorf("cancel: %d %+v", code, cancelled)
	}
	eventually.True(t, 20*time.Second, "limits released", func() (bool, string) {
		_, ok1 := cp.LimitW(1)
		_, ok2 := cp.LimitW(2)
		return !ok1 && !ok2, ""
	})
	eventually.True(t, 10*time.Second, "smart plan cancelled", func() (bool, string) {
		live = planView{}
		admin.Do(t, http.MethodGet, "/api/v1/dispatch/plans/"+station+"/hold", nil, &live)
		return live.Status == "cancelled", live.Status
	})
	if code := admin.Do(t, http.MethodDelete, "/api/v1/dispatch/plans/"+station+"/hold", nil, &cancelled); code != 202 || cancelled.Status != "cancelled" {
		t.Errorf("cancel again: %d %+v", code, cancelled)
	}

	var list struct{ Items []planView }
	if code := cashier.Do(t, http.MethodGet, "/api/v1/dispatch/plans?stationId="+station, nil, &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	got := map[string]string{}
	for _, v := range list.Items {
		got[v.PlanID] = v.Kind + " " + v.Status
	}
	if got["evening"] != "timed completed" || got["hold"] != "smart cancelled" {
		t.Errorf("plans listed %v", got)
	}
}
