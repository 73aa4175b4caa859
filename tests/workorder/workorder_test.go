// Package workorder drives a simulated charger's fault through the real
// platform (PostgreSQL, the Temporal server, the worker process, the OCPP
// central system on a real socket, the API over HTTP): repeated fault
// reports open one work order, nobody acknowledging it sends the escalation
// SMS to the outbox, the charger recovers, maintenance resolves it, and the
// failure-records view reports the fault's duration.
package workorder

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	// Accelerated escalation: read by the hook in this process (the central
	// system runs here) and carried in each work order's input.
	_ = os.Setenv("VOLTFLOW_WORKORDER_ACK_WITHIN", "3s")
	_ = os.Setenv("VOLTFLOW_WORKORDER_RESOLVE_WITHIN", "1h")
	harness.Main(m, "workorder", harness.Options{OCPP: true, UpdateTimeout: 10 * time.Second}, &stack)
}

const (
	chargerID = "4403000000000000000001"
	onDuty    = "13700000009"
)

type workOrder struct {
	ID, Status, ChargePointID, FaultKey, Resolution, WorkflowID string
	Connector                                                   int
	FaultActive                                                 bool
	Escalations                                                 []string
	AssigneeID                                                  *string
	Faults                                                      []struct {
		FaultID         int64
		StartedAt       time.Time
		RecoveredAt     *time.Time
		DurationSeconds int64
	}
}

type problem struct{ Code string }

func active(t *testing.T, c *harness.Client) []workOrder {
	var out struct{ Items []workOrder }
	if code := c.Do(t, http.MethodGet, "/api/v1/work-orders?status=active&chargePointId="+chargerID, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /work-orders: %d", code)
	}
	return out.Items
}

func TestFaultOpensOneWorkOrderEscalatesAndCloses(t *testing.T) {
	ctx := context.Background()
	if _, err := stack.DB.Exec(ctx, `insert into work_order_contacts(project_id, phone, name, level) values($1,$2,'on duty',1)`,
		stack.ProjectID, onDuty); err != nil {
		t.Fatal(err)
	}
	cp, err := chargersim.Connect(ctx, chargersim.Config{URL: stack.OCPP.URL(), Password: charger.DemoPassword}, chargerID)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	admin := stack.Login(t, "admin", "admin")

	// The charger repeats its fault: one work order.
	for range 5 {
		if err := cp.Fault(1, core.HighTemperature); err != nil {
			t.Fatal(err)
		}
	}
	var orders []workOrder
	eventually.True(t, 30*time.Second, "one work order", func() (bool, string) {
		orders = active(t, admin)
		return len(orders) == 1, "orders: " + strconv.Itoa(len(orders))
	})
	o := orders[0]
	if o.Connector != 1 || o.FaultKey != "alarm-17" || o.Status != "open" || o.AssigneeID == nil {
		t.Fatalf("work order %+v", o)
	}
	if err := cp.Fault(1, core.HighTemperature); err != nil {
		t.Fatal(err)
	}

	// Nobody acknowledges within 3 s: the escalation SMS is in the outbox.
	eventually.True(t, 60*time.Second, "escalation SMS", func() (bool, string) {
		var out struct {
			Items []struct{ Recipient, Kind, Stage, Status, Text string }
		}
		if code := admin.Do(t, http.MethodGet, "/api/v1/sms?limit=50&meterNo="+chargerID, nil, &out); code != http.StatusOK {
			t.Fatalf("GET /sms: %d", code)
		}
		for _, m := range out.Items {
			if m.Kind == "work_order" && m.Stage == "unacknowledged" && m.Recipient == onDuty && m.Status == "sent" {
				return true, ""
			}
		}
		return false, "no escalation yet"
	})
	if n := len(active(t, admin)); n != 1 {
		t.Fatalf("%d work orders after the repeats", n)
	}

	// Fixed: the charger reports NoError; the order keeps the recovery.
	if err := cp.Status(1, core.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 30*time.Second, "recovery recorded", func() (bool, string) {
		var got workOrder
		admin.Do(t, http.MethodGet, "/api/v1/work-orders/"+o.ID, nil, &got)
		o = got
		return !got.FaultActive, "fault active"
	})
	if o.Status != "open" || len(o.Escalations) != 1 || o.Escalations[0] != "unacknowledged" {
		t.Fatalf("after recovery %+v", o)
	}

	// Acknowledge and resolve through the API, with the refusals first.
	cashier := stack.Login(t, "cashier", "cashier")
	for _, tc := range []struct {
		name   string
		c      *harness.Client
		path   string
		body   any
		status int
		code   string
	}{
		{"cashier may not", cashier, "/ack", nil, http.StatusForbidden, "forbidden"},
		{"ack", admin, "/ack", map[string]string{"note": "on my way"}, http.StatusOK, ""},
		{"ack twice", admin, "/ack", nil, http.StatusConflict, "work_order_acknowledged"},
		{"no resolution", admin, "/resolve", map[string]string{}, http.StatusUnprocessableEntity, "invalid_field"},
		{"unknown field", admin, "/resolve", map[string]string{"why": "x"}, http.StatusBadRequest, "malformed_request"},
		{"resolve", admin, "/resolve", map[string]string{"resolution": "cooling fan replaced"}, http.StatusOK, ""},
		{"resolve twice", admin, "/resolve", map[string]string{"resolution": "again"}, http.StatusConflict, "work_order_closed"},
	} {
		var p problem
		if code := tc.c.Do(t, http.MethodPost, "/api/v1/work-orders/"+o.ID+tc.path, tc.body, &p); code != tc.status || p.Code != tc.code {
			t.Fatalf("%s: %d %q, want %d %q", tc.name, code, p.Code, tc.status, tc.code)
		}
	}
	var closed workOrder
	admin.Do(t, http.MethodGet, "/api/v1/work-orders/"+o.ID, nil, &closed)
	if closed.Status != "closed" || closed.Resolution != "cooling fan replaced" || len(closed.Faults) != 1 ||
		closed.Faults[0].RecoveredAt == nil {
		t.Fatalf("closed %+v", closed)
	}
	ep := closed.Faults[0]
	// The fault outlasted the 3 s escalation, but the recovery carries the
	// charger's whole-second timestamp while the start is the server's clock:
	// up to a second of the span can fall off.
	if want := int64(ep.RecoveredAt.Sub(ep.StartedAt).Round(time.Second) / time.Second); ep.DurationSeconds != want || want < 2 {
		t.Fatalf("episode %+v, want %d s", ep, want)
	}

	// The failure-records view reports the fault's duration and its order.
	var recs struct {
		Items []struct {
			FaultID         int64
			WorkOrderID     *string
			Recovered       bool
			DurationSeconds int64
		}
	}
	if code := admin.Do(t, http.MethodGet, "/api/v1/om/failure-records?chargePointId="+chargerID, nil, &recs); code != http.StatusOK {
		t.Fatalf("GET failure-records: %d", code)
	}
	found := false
	for _, r := range recs.Items {
		if r.FaultID == ep.FaultID {
			found = r.Recovered && r.DurationSeconds == ep.DurationSeconds && r.WorkOrderID != nil && *r.WorkOrderID == o.ID
		}
	}
	if !found {
		t.Fatalf("failure records %+v, want fault %d of %s lasting %d s", recs.Items, ep.FaultID, o.ID, ep.DurationSeconds)
	}
	if code, _, ctype := admin.DoRaw(t, http.MethodGet, "/api/v1/om/failure-records?format=xlsx", nil); code != http.StatusOK ||
		ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx export: %d %s", code, ctype)
	}
	var p problem
	if code := admin.Do(t, http.MethodGet, "/api/v1/om/station-failure-rate", nil, &p); code != http.StatusUnprocessableEntity || p.Code != "invalid_field" {
		t.Fatalf("failure rate without a period: %d %q", code, p.Code)
	}

	// The same fault again after the order closed is a new work order.
	if err := cp.Fault(1, core.HighTemperature); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 30*time.Second, "a second work order", func() (bool, string) {
		orders = active(t, admin)
		return len(orders) == 1 && orders[0].ID != o.ID, "orders: " + strconv.Itoa(len(orders))
	})
	stack.CheckLedger(t)
}
