package interactive

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

// silentGateway accepts connections and reads requests without ever
// answering, as a gateway whose bus hangs: a sweep reading its meters holds
// its batch's activity slot for the meters' timeouts (2 s each).
type silentGateway struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newSilentGateway(t *testing.T) *silentGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &silentGateway{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.conns = append(g.conns, c)
			g.mu.Unlock()
			go func() { _, _ = c.Read(make([]byte, 1<<16)) }() // and never a word back
		}
	}()
	return g
}

// close ends the listener and every connection: the sweep then finds the
// gateway down at once and its batch ends.
func (g *silentGateway) close() {
	_ = g.ln.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// holdProject creates a project whose one gateway is silent, with 247 meters
// behind it (a sweep batch of about eight minutes), and returns its id.
func holdProject(t *testing.T, ctx context.Context, addr string) string {
	t.Helper()
	projectID, gatewayID := uuid.NewString(), uuid.NewString()
	if _, err := stack.DB.Exec(ctx, `insert into projects(id, organisation_id, code, name)
		select $1, organisation_id, 'hold', 'a gateway that never answers' from projects where code='demo'`, projectID); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address)
		values($1, $2, 'HOLD-1', 'modbus-tcp', $3)`, gatewayID, projectID, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
		select gen_random_uuid(), $1, 'H' || lpad(u::text, 4, '0'), $2, u, $3, 1.2 from generate_series(1, 247) u`,
		projectID, gatewayID, profile.RefPrepaidV1); err != nil {
		t.Fatal(err)
	}
	return projectID
}

// pendingActivity is the state of a workflow's pending activity of type
// name ("" when it has none).
func pendingActivity(t *testing.T, ctx context.Context, workflowID, name string) enumspb.PendingActivityState {
	t.Helper()
	d, err := stack.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range d.GetPendingActivities() {
		if a.GetActivityType().GetName() == name {
			return a.GetState()
		}
	}
	return enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED
}

// bulkLaneFull checks the structure the test relies on: the sweep's batch
// holds the devices queue's one slot, and the batch command's send waits
// for it.
func bulkLaneFull(t *testing.T, ctx context.Context, sweepID, batchID string) (bool, string) {
	t.Helper()
	sweep := pendingActivity(t, ctx, sweepID, "SweepBatch")
	send := pendingActivity(t, ctx, batchID, "SendMeterCommand")
	return sweep == enumspb.PENDING_ACTIVITY_STATE_STARTED && send == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED,
		fmt.Sprintf("sweep batch %s, batch command send %s", sweep, send)
}

func TestCommandsAndSalesPassABulkLaneHeldBySweepAndBatch(t *testing.T) {
	ctx := context.Background()
	silent := newSilentGateway(t)
	defer silent.close()
	projectID := holdProject(t, ctx, silent.ln.Addr().String())
	admin := stack.Login(t, "admin", "admin")

	// The sweep of the silent gateway takes the devices queue's one slot...
	at := time.Now().UTC().Truncate(time.Second)
	sweepID := sweepwf.WorkflowID("hold", at)
	if _, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: sweepID, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("hold", sweepwf.Kind, "hold", "reading")},
		sweepwf.Kind, sweepwf.Input{ProjectID: projectID, ProjectCode: "hold", At: at}); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "the sweep batch holds the devices slot", func() (bool, string) {
		s := pendingActivity(t, ctx, sweepID, "SweepBatch")
		return s == enumspb.PENDING_ACTIVITY_STATE_STARTED, s.String()
	})
	// ...and a batch command queues behind it.
	var b struct {
		WorkflowID string `json:"workflowId"`
	}
	if code := admin.Do(t, "POST", "/api/v1/meter-batches", map[string]any{"command": "switch_off",
		"meterNos": []string{"M0030", "M0031"}}, &b); code != http.StatusAccepted {
		t.Fatalf("batch: status %d", code)
	}
	eventually.True(t, time.Minute, "the batch command waits for the devices slot", func() (bool, string) {
		return bulkLaneFull(t, ctx, sweepID, b.WorkflowID)
	})

	// Single commands, each to a meter of its own, and a sale go through.
	meters := []string{"M0002", "M0040", "M0070", "M0100"}
	ids := make([]string, len(meters))
	for i, m := range meters {
		var a struct {
			ID string `json:"id"`
		}
		if code := admin.Do(t, "POST", "/api/v1/meters/"+m+"/commands", map[string]string{"command": "switch_off"}, &a); code != http.StatusAccepted {
			t.Fatalf("switch_off %s: status %d", m, code)
		}
		ids[i] = a.ID
	}
	cashier := stack.Login(t, "cashier", "cashier")
	before, counter := stack.MeterRegisters(t, "M0003")
	var sale struct {
		ID string `json:"id"`
	}
	body := fmt.Sprintf(`{"meterNo":"M0003","amount":"20.00","transactionNo":%q}`, "interactive-"+uuid.NewString())
	if code := cashier.Do(t, "POST", "/api/v1/recharges", body, &sale); code != http.StatusAccepted {
		t.Fatalf("recharge: status %d", code)
	}
	for i, id := range ids {
		eventually.True(t, 2*time.Minute, "command to "+meters[i]+" done", func() (bool, string) {
			var c struct {
				Status  string `json:"status"`
				Failure string `json:"failure"`
			}
			admin.Do(t, "GET", "/api/v1/meter-commands/"+id, nil, &c)
			return c.Status == "done", c.Status + " " + c.Failure
		})
	}
	eventually.True(t, 2*time.Minute, "sale completed", func() (bool, string) {
		var r struct {
			Status  string `json:"status"`
			Failure string `json:"failure"`
		}
		cashier.Do(t, "GET", "/api/v1/recharges/"+sale.ID, nil, &r)
		return r.Status == "completed", r.Status + " " + r.Failure
	})
	// An on-demand read answers too (the API waits for it).
	if code := admin.Do(t, "POST", "/api/v1/meters/M0010/read", nil, nil); code != http.StatusOK {
		t.Fatalf("read M0010: status %d", code)
	}
	// All of it while the bulk lane stayed full: nothing of theirs waited for its slot.
	if ok, why := bulkLaneFull(t, ctx, sweepID, b.WorkflowID); !ok {
		t.Fatalf("the bulk lane was freed before the commands and the sale were done (%s): they may have waited for it", why)
	}
	for _, m := range meters {
		if s := relayOpen(t, m); !s {
			t.Errorf("meter %s: relay not open after switch_off", m)
		}
	}
	if after, counterAfter := stack.MeterRegisters(t, "M0003"); after-before != 2000 || counterAfter != counter+1 {
		t.Errorf("M0003: remaining %d→%d, counter %d→%d; want +2000 cents and +1", before, after, counter, counterAfter)
	}
	for _, id := range ids {
		for _, e := range history(t, ctx, "meter-command/"+id) {
			if q := e.GetActivityTaskScheduledEventAttributes().GetTaskQueue().GetName(); q != "" &&
				e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "SendMeterCommand" &&
				q != names.InteractiveDevicesQueue {
				t.Errorf("command %s sent on %s, want %s", id, q, names.InteractiveDevicesQueue)
			}
		}
	}

	// Freed, the bulk lane drains: the sweep ends and the batch runs.
	silent.close()
	eventually.True(t, 2*time.Minute, "the batch command done once the sweep let go", func() (bool, string) {
		var p struct {
			Status string `json:"status"`
		}
		admin.Do(t, "GET", "/api/v1/meter-batches/"+strings.TrimPrefix(b.WorkflowID, "meter-batch/"), nil, &p)
		return p.Status == "completed", p.Status
	})
}

// relayOpen reports whether the demo meter's relay is open (cut off).
func relayOpen(t *testing.T, meterNo string) bool {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	return stack.Fleet.Gateway((n-1)/32).Meter(uint8((n-1)%32+1)).State().Relay == profile.RelayOpen
}

func history(t *testing.T, ctx context.Context, workflowID string) []*historypb.HistoryEvent {
	t.Helper()
	var out []*historypb.HistoryEvent
	it := stack.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}
