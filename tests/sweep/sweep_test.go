// Package sweep tests scheduled reading end to end: the worker process
// creates the project's Schedule at start, the Schedule starts sweeps on a
// real Temporal server, and the sweeps fill readings and meter_state from
// simulators on real sockets. It also reads one meter on demand via the API.
package sweep

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

var stack *harness.Stack

const interval = 2 * time.Second

func TestMain(m *testing.M) {
	// The worker process reads it at start and sets the Schedule's interval.
	if err := os.Setenv("VOLTFLOW_SWEEP_INTERVAL", interval.String()); err != nil {
		panic(err)
	}
	harness.Main(m, "sweep", harness.Options{UpdateTimeout: 3 * time.Second}, &stack)
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestScheduledSweepFillsReadingsAndState(t *testing.T) {
	ctx := context.Background()
	h := stack.Temporal.ScheduleClient().GetHandle(ctx, sweepwf.ScheduleID("demo"))
	var desc *client.ScheduleDescription
	eventually.True(t, 30*time.Second, "schedule created by the worker", func() (bool, string) {
		var err error
		desc, err = h.Describe(ctx)
		return err == nil, fmt.Sprint(err)
	})
	if got := desc.Schedule.Spec.Intervals; len(got) != 1 || got[0].Every != interval {
		t.Fatalf("schedule intervals %+v, want every %v", got, interval)
	}

	// Two sweeps complete: every meter has a reading of each, and its state.
	var slots int
	eventually.True(t, 60*time.Second, "two complete sweeps", func() (bool, string) {
		slots = count(t, `select count(*) from (select read_at from readings group by read_at having count(*) = 128) s`)
		return slots >= 2, fmt.Sprintf("%d complete slots", slots)
	})
	if n := count(t, `select count(*) from meter_state`); n != 128 {
		t.Fatalf("%d meter states, want 128", n)
	}
	if n := count(t, `select count(*) from (select meter_id, read_at from readings group by 1, 2 having count(*) > 1) d`); n != 0 {
		t.Fatalf("%d duplicated readings", n)
	}
	if n := count(t, `select count(*) from meter_state where read_at > now() - interval '1 minute' and remaining = 50.00`); n != 128 {
		t.Fatalf("%d fresh meter states with 50.00 remaining, want 128", n)
	}

	// The sweeps are the Schedule's workflows, completed, with the Voltflow search attributes.
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Info.RecentActions) == 0 {
		t.Fatal("schedule reports no actions")
	}
	first := desc.Info.RecentActions[0].StartWorkflowResult
	if !strings.HasPrefix(first.WorkflowID, "sweep/demo-") {
		t.Fatalf("sweep workflow id %q, want sweep/demo-<time>", first.WorkflowID)
	}
	var res sweepwf.Result
	if err := stack.Temporal.GetWorkflow(ctx, first.WorkflowID, first.FirstExecutionRunID).Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Read != 128 || res.Failed != 0 || res.Gateways != 4 {
		t.Fatalf("sweep result %+v", res)
	}
	d, err := stack.Temporal.DescribeWorkflowExecution(ctx, first.WorkflowID, first.FirstExecutionRunID)
	if err != nil {
		t.Fatal(err)
	}
	if sa := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields(); sa["VoltflowKind"] == nil || sa["VoltflowStatus"] == nil {
		t.Fatalf("search attributes %v", sa)
	}
}

func TestReadMeterOnDemand(t *testing.T) {
	c := stack.Login(t, "admin", "admin")
	before := time.Now()
	var m struct {
		MeterNo    string     `json:"meterNo"`
		Remaining  string     `json:"remaining"`
		LastReadAt *time.Time `json:"lastReadAt"`
	}
	// A meter whose state the test sets, so the answer must be the meter's own.
	stack.Fleet.Gateway(0).Meter(9).ClearRemaining()
	if code := c.Do(t, "POST", "/api/v1/meters/M0009/read", nil, &m); code != http.StatusOK {
		t.Fatalf("read M0009: status %d", code)
	}
	if m.MeterNo != "M0009" || m.Remaining != "0.00" || m.LastReadAt == nil || m.LastReadAt.Before(before.Add(-time.Second)) {
		t.Fatalf("read M0009: %+v", m)
	}
	if n := count(t, `select count(*) from readings r join meters m on m.id=r.meter_id
		where m.meter_no='M0009' and r.remaining = 0 and r.read_at >= $1`, before.Add(-time.Second)); n < 1 {
		t.Fatal("the on-demand read wrote no reading")
	}

	var p struct{ Code string }
	if code := c.Do(t, "POST", "/api/v1/meters/NOPE/read", nil, &p); code != http.StatusNotFound || p.Code != "not_found" {
		t.Fatalf("unknown meter: %d %q", code, p.Code)
	}
	// A meter behind a stopped gateway: the caller hears so, with a stable code.
	if err := stack.Fleet.Gateway(3).Stop(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stack.Fleet.Gateway(3).Start(context.Background()) }()
	if code := c.Do(t, "POST", "/api/v1/meters/M0100/read", nil, &p); code != http.StatusBadGateway || p.Code != "meter_unreachable" {
		t.Fatalf("meter behind a dead gateway: %d %q", code, p.Code)
	}
	// The scheduled sweeps see the dead gateway too, and raise its event.
	eventually.True(t, 30*time.Second, "gateway GW-04 lost-contact event", func() (bool, string) {
		n := count(t, `select count(*) from device_events where kind='gateway_lost_contact' and subject_no='GW-04' and cleared_at is null`)
		return n == 1, fmt.Sprintf("%d open events", n)
	})
}

// A project added while the workers run has no sweep Schedule (workers
// create them at start): importing its first meters creates one, and its
// sweeps read them.
func TestImportStartsTheProjectsSweeps(t *testing.T) {
	ctx := context.Background()
	var pid string
	if err := stack.DB.QueryRow(ctx, `insert into projects(id, organisation_id, code, name)
		select gen_random_uuid(), organisation_id, 'imported', 'Imported later' from projects where code='demo'
		returning id::text`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.DB.Exec(ctx, `insert into operator_roles(operator_id, project_id, role)
		select id, $1, 'admin' from operators where username='admin'`, pid); err != nil {
		t.Fatal(err)
	}
	h := stack.Temporal.ScheduleClient().GetHandle(ctx, sweepwf.ScheduleID("imported"))
	if _, err := h.Describe(ctx); err == nil {
		t.Fatal("the new project has a sweep schedule before any import")
	}
	fleet, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Gateways: 1, Meters: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Stop() })
	csv := "meter_no,gateway,gateway_address,protocol,unit_address,profile,price\n" +
		"IMP-1,IMP-GW," + fleet.Gateway(0).Addr() + ",modbus-tcp,1,ref-prepaid-v1,1.2\n" +
		"IMP-2,IMP-GW,,,2,ref-prepaid-v1,1.2\nIMP-3,IMP-GW,,,3,ref-prepaid-v1,1.2\n"
	c := stack.Login(t, "admin", "admin")
	code, _, _ := c.DoHeaders(t, "POST", "/api/v1/projects/imported/meter-imports", csv, map[string]string{"Content-Type": "text/csv"})
	if code != http.StatusCreated {
		t.Fatalf("import: status %d", code)
	}
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatalf("no sweep schedule after the import: %v", err)
	}
	if got := desc.Schedule.Spec.Intervals; len(got) != 1 || got[0].Every != sweepwf.DefaultInterval {
		t.Fatalf("schedule intervals %+v, want the default %v", got, sweepwf.DefaultInterval)
	}
	// Its next sweep, now rather than in 30 minutes, reads the new meters.
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 60*time.Second, "the imported meters read", func() (bool, string) {
		n := count(t, `select count(*) from meter_state s join meters m on m.id = s.meter_id where m.project_id = $1`, pid)
		return n == 3, fmt.Sprintf("%d of 3 meters read", n)
	})
	_ = h.Delete(ctx)
}

// TestGatewayThatCannotPipelineIsFoundAndReadOneAtATime adds to the demo
// project a gateway written here that, like many serial servers, does one
// read per request and drops what else that read brought. The scheduled
// sweep finds it: its first sweep reads every meter behind it (after the
// automatic fallback), the gateway shows it is read one at a time, and the
// demo's gateways keep pipelining. It runs last: it adds meters.
func TestGatewayThatCannotPipelineIsFoundAndReadOneAtATime(t *testing.T) {
	ctx := context.Background()
	addr := oneReadServer(t, stack.Fleet.Gateway(0).Addr())
	gw := "00000000-0000-4000-8000-00000000a1a1"
	if _, err := stack.DB.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address) values($1, $2, 'NOPIPE', 'modbus-tcp', $3)`,
		gw, stack.ProjectID, addr); err != nil {
		t.Fatal(err)
	}
	for u := 1; u <= 4; u++ {
		if _, err := stack.DB.Exec(ctx, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
			values(gen_random_uuid(), $1, $2, $3, $4, 'ref-prepaid-v1', 1.2)`, stack.ProjectID, fmt.Sprintf("NP-%d", u), gw, u); err != nil {
			t.Fatal(err)
		}
	}
	eventually.True(t, 60*time.Second, "a sweep of the new gateway", func() (bool, string) {
		n := count(t, `select count(*) from gateway_contact where gateway_id = $1`, gw)
		return n == 1, fmt.Sprintf("%d contacts", n)
	})
	// Its first sweep read every meter; no read of any failed (a failure
	// leaves a meter_contact row).
	if n := count(t, `select count(*) from readings r join meters m on m.id = r.meter_id
		where m.gateway_id = $1 and r.read_at = (select min(r2.read_at) from readings r2 join meters m2 on m2.id = r2.meter_id
			where m2.gateway_id = $1)`, gw); n != 4 {
		t.Fatalf("first sweep of the gateway read %d of 4 meters", n)
	}
	if n := count(t, `select count(*) from meter_contact c join meters m on m.id = c.meter_id where m.gateway_id = $1 and c.failures > 0`, gw); n != 0 {
		t.Fatalf("%d meters behind the gateway failed a read", n)
	}
	c := stack.Login(t, "admin", "admin")
	var g struct {
		Pipelining           string
		PipeliningDetectedAt *time.Time
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/projects/demo/gateways/NOPIPE", nil, &g); code != http.StatusOK ||
		g.Pipelining != "unsupported" || g.PipeliningDetectedAt == nil {
		t.Fatalf("gateway NOPIPE: %d %+v", code, g)
	}
	if code := c.Do(t, http.MethodGet, "/api/v1/projects/demo/gateways/GW-01", nil, &g); code != http.StatusOK ||
		g.Pipelining != "pipelined" || g.PipeliningDetectedAt != nil {
		t.Fatalf("gateway GW-01: %d %+v", code, g)
	}
}

// oneReadServer is a Modbus TCP gateway as cheap serial servers are: each
// TCP read is one request, forwarded to the meters at upstream and
// answered; any further frames that read brought are dropped.
func oneReadServer(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveOneRead(c, upstream)
		}
	}()
	return ln.Addr().String()
}

func serveOneRead(c net.Conn, upstream string) {
	defer func() { _ = c.Close() }()
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil || n < 7 {
			return
		}
		size := 6 + int(binary.BigEndian.Uint16(buf[4:]))
		if size > n {
			return
		}
		if _, err := up.Write(buf[:size]); err != nil {
			return
		}
		var head [7]byte
		if _, err := io.ReadFull(up, head[:]); err != nil {
			return
		}
		body := make([]byte, int(binary.BigEndian.Uint16(head[4:]))-1)
		if _, err := io.ReadFull(up, body); err != nil {
			return
		}
		if _, err := c.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}
