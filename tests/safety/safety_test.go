// Package safety drives a simulated meter over its maximum load on the real
// platform (PostgreSQL, the Temporal server, the worker process, meter
// simulators on real sockets): the sweep sees it, the meter's
// safety/<meterNo> workflow switches it off for 3 minutes of the
// accelerated clock (VOLTFLOW_SAFETY_SPEED=60: 3 s) and on again, and after
// the allowed trips leaves it off until a manager restores it.
package safety

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/approval"
	safetywf "github.com/voltflow/voltflow/workflows/safety"
)

var stack *harness.Stack

// speed is the accelerated clock: 3 minutes off last 3 s.
const speed = 60

func TestMain(m *testing.M) {
	for k, v := range map[string]string{"VOLTFLOW_SWEEP_INTERVAL": "1s", "VOLTFLOW_SAFETY_SPEED": fmt.Sprint(speed)} {
		if err := os.Setenv(k, v); err != nil {
			panic(err)
		}
	}
	harness.Main(m, "safety", harness.Options{Gateways: 1, MetersPerGW: 4, UpdateTimeout: 5 * time.Second}, &stack)
}

type meterSafety struct {
	MeterNo   string
	Source    string
	Effective *struct {
		MaxLoadKw    *string
		AllowedTrips *int
	}
	State struct {
		Status     string
		Trips      int
		LastReason string
		RestoredBy string
		WorkflowID string
	}
}

func TestOverMaxLoadTripsThenLocksOutUntilAManagerRestores(t *testing.T) {
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	const path = "/api/v1/meters/M0002/safety-limits"

	// The project's limits apply to every meter; M0002's own replace them.
	var proj struct{ Limits *struct{ MaxLoadKw *string } }
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/safety-limits", map[string]any{"maxLoadKw": "20"}, &proj); code != http.StatusOK ||
		proj.Limits == nil || *proj.Limits.MaxLoadKw != "20.000" {
		t.Fatalf("project limits: %d %+v", code, proj)
	}
	var ms meterSafety
	if code := admin.Do(t, http.MethodPut, path, map[string]any{"maxLoadKw": "8", "allowedTrips": 2,
		"touLimits": []map[string]string{{"from": "23:00", "to": "06:00", "kw": "12"}}}, &ms); code != http.StatusOK ||
		ms.Source != "meter" || *ms.Effective.MaxLoadKw != "8.000" || ms.State.Status != "normal" {
		t.Fatalf("meter limits: %d %+v", code, ms)
	}
	if code := cashier.Do(t, http.MethodPut, path, map[string]any{"maxLoadKw": "80"}, nil); code != http.StatusForbidden {
		t.Fatalf("a cashier set safety limits: %d", code)
	}

	meter := stack.Fleet.Gateway(0).Meter(2)
	state := func() meterSafety {
		var s meterSafety
		if code := admin.Do(t, http.MethodGet, path, nil, &s); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		return s
	}
	relay := func() uint16 { return meter.State().Relay }
	waitFor := func(what string, ok func(meterSafety) bool) meterSafety {
		var s meterSafety
		eventually.True(t, 30*time.Second, what, func() (bool, string) {
			s = state()
			return ok(s), fmt.Sprintf("%+v relay=%d", s.State, relay())
		})
		return s
	}

	meter.SetLoad(9000) // 9 kW, over the 8 kW maximum
	for trip := 1; trip <= 2; trip++ {
		waitFor(fmt.Sprintf("trip %d", trip), func(s meterSafety) bool {
			return s.State.Status == "tripped" && s.State.Trips == trip && s.State.LastReason == "max_load"
		})
		offAt := time.Now()
		if relay() != profile.RelayOpen {
			t.Fatalf("trip %d: relay %d, want open", trip, relay())
		}
		// Back on after 3 minutes of the accelerated clock.
		waitFor(fmt.Sprintf("back on after trip %d", trip), func(s meterSafety) bool { return s.State.Status == "normal" })
		if off := time.Since(offAt); off < 3*time.Minute/speed-500*time.Millisecond {
			t.Fatalf("trip %d: back on after %v, want 3 minutes / %d", trip, off, speed)
		}
		if relay() != profile.RelayClosed {
			t.Fatalf("after trip %d: relay %d, want closed", trip, relay())
		}
	}
	// The third trip is past the allowed two: off until a manager comes.
	s := waitFor("locked out", func(s meterSafety) bool { return s.State.Status == "locked_out" && s.State.Trips == 3 })
	lockedAt := time.Now()
	eventually.True(t, 30*time.Second, "still off well past 3 minutes", func() (bool, string) {
		return time.Since(lockedAt) > 3*(3*time.Minute/speed), ""
	})
	if s = state(); s.State.Status != "locked_out" || relay() != profile.RelayOpen {
		t.Fatalf("after 9 minutes locked out: %+v relay %d", s.State, relay())
	}

	// A cashier's restore: refused by the API, and by the Update's validator.
	var p struct{ Code string }
	if code := cashier.Do(t, http.MethodPost, "/api/v1/meters/M0002/safety/restore", map[string]any{"comment": "I checked"}, &p); code != http.StatusForbidden || p.Code != "forbidden" {
		t.Fatalf("cashier's restore: %d %q", code, p.Code)
	}
	h, err := stack.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: safetywf.WorkflowID("M0002"),
		UpdateName: safetywf.UpdateRestore, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{safetywf.Restore{Username: "cashier", Roles: []access.Role{access.Cashier}}}})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err == nil || !strings.Contains(err.Error(), approval.ErrNotYourRole.Error()) {
		t.Fatalf("cashier's restore through the Update: %v", err)
	}
	if s = state(); s.State.Status != "locked_out" || relay() != profile.RelayOpen {
		t.Fatalf("after the cashier's restore: %+v relay %d", s.State, relay())
	}

	// The manager found the heater and took it away; the restore switches on.
	meter.SetLoad(1500)
	if code := admin.Do(t, http.MethodPost, "/api/v1/meters/M0002/safety/restore", map[string]any{"comment": "heater removed"}, &s); code != http.StatusOK ||
		s.State.Status != "normal" || s.State.Trips != 0 || s.State.RestoredBy != "admin" {
		t.Fatalf("manager's restore: %d %+v", code, s)
	}
	if relay() != profile.RelayClosed {
		t.Fatalf("after the restore: relay %d", relay())
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/meters/M0002/safety/restore", map[string]any{}, &p); code != http.StatusConflict || p.Code != "not_locked_out" {
		t.Fatalf("restore of a meter not locked out: %d %q", code, p.Code)
	}

	// The workflow is in the Temporal UI under the Voltflow search attributes.
	d, err := stack.Temporal.DescribeWorkflowExecution(ctx, s.State.WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for _, k := range []string{"VoltflowProject", "VoltflowKind", "VoltflowSubject", "VoltflowStatus"} {
		if sa[k] == nil {
			t.Errorf("search attribute %s missing: %v", k, sa)
		}
	}
	// Other meters (project limit 20 kW) never tripped.
	var n int
	if err := stack.DB.QueryRow(ctx, `select count(*) from safety_state`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d meters with a safety state (%v), want 1", n, err)
	}
}
