// Package sweepkill kills the worker in the middle of a sweep and checks
// what the sweep promises: readings already written survive untouched, none
// is written twice for a meter and slot, and once a new worker takes over
// every meter has its reading for the slot.
package sweepkill

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

var stack *harness.Stack

const (
	gateways   = 16
	perGateway = 32
	// 12 ms per request, two requests per meter: about 0.8 s per gateway,
	// and with one gateway per batch and two batches at once the sweep
	// takes some 6 s — time enough to kill the worker in the middle.
	latency = 12 * time.Millisecond
)

func TestMain(m *testing.M) {
	// Keep the Schedule's own sweeps out of the way: this test starts its own.
	if err := os.Setenv("VOLTFLOW_SWEEP_INTERVAL", "24h"); err != nil {
		panic(err)
	}
	harness.Main(m, "sweepkill", harness.Options{Gateways: gateways, MetersPerGW: perGateway, Latency: latency}, &stack)
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// takenAt is every reading of the slot: meter id → when it was taken.
func takenAt(t *testing.T, at time.Time) map[string]time.Time {
	t.Helper()
	rows, err := stack.DB.Query(context.Background(),
		`select meter_id::text, taken_at from readings where read_at = $1`, at)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var ts time.Time
		if err := rows.Scan(&id, &ts); err != nil {
			t.Fatal(err)
		}
		out[id] = ts
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKillWorkerMidSweep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	total := count(t, `select count(*) from meters m join gateways g on g.id = m.gateway_id where g.project_id = $1`, stack.ProjectID)
	if total != gateways*perGateway {
		t.Fatalf("project has %d meters, want %d", total, gateways*perGateway)
	}

	at := time.Now().UTC().Truncate(time.Second)
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: sweepwf.WorkflowID("demo", at), TaskQueue: names.MainQueue,
	}, sweepwf.Kind, sweepwf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", At: at, BatchSize: 1, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()

	// Kill once a few gateways are written, well before the last.
	eventually.True(t, 30*time.Second, "some readings of the slot written", func() (bool, string) {
		n := count(t, `select count(*) from readings where read_at = $1`, at)
		return n >= 2*perGateway, fmt.Sprintf("%d readings", n)
	})
	stack.KillWorker()
	// A reading the worker sent just before it died may still be committing
	// in its PostgreSQL session; counted after the snapshot, it would be
	// skipped on resume and break read ≥ total − before. Wait until no other
	// session of the database is busy: then the snapshot holds every row the
	// killed worker wrote.
	eventually.True(t, 30*time.Second, "the killed worker's sessions settled", func() (bool, string) {
		n := count(t, `select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
			and coalesce(state, 'idle') <> 'idle'`)
		return n == 0, fmt.Sprintf("%d busy sessions", n)
	})
	before := takenAt(t, at)
	t.Logf("killed the worker %v into the sweep with %d of %d readings written",
		time.Since(started).Round(time.Millisecond), len(before), total)
	if len(before) == 0 || len(before) >= total {
		t.Fatalf("%d of %d readings written at the kill: not mid-sweep", len(before), total)
	}

	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	var res sweepwf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("sweep after the kill: %v", err)
	}
	t.Logf("sweep finished %v after start: %+v", time.Since(started).Round(time.Millisecond), res)

	after := takenAt(t, at)
	// None lost, none rewritten: the retry of a killed batch skips what an
	// earlier attempt wrote, and the write never replaces a row.
	for id, ts := range before {
		got, ok := after[id]
		switch {
		case !ok:
			t.Errorf("meter %s: reading written before the kill is gone", id)
		case !got.Equal(ts):
			t.Errorf("meter %s: reading taken at %v before the kill, %v after", id, ts, got)
		}
	}
	if n := count(t, `select count(*) from (select meter_id, read_at from readings group by 1, 2 having count(*) > 1) d`); n != 0 {
		t.Errorf("%d duplicated readings (meter, slot)", n)
	}
	// Every meter of the project has its reading of the slot.
	if n := count(t, `select count(*) from meters m join gateways g on g.id = m.gateway_id
		where g.project_id = $1 and not exists (select 1 from readings r where r.meter_id = m.id and r.read_at = $2)`,
		stack.ProjectID, at); n != 0 {
		t.Errorf("%d meters without a reading for the slot", n)
	}
	if len(after) != total {
		t.Errorf("%d readings for the slot, want %d", len(after), total)
	}
	if res.Failed != 0 || res.Read+res.Skipped != total || res.Read < total-len(before) {
		t.Errorf("sweep result %+v: want read+skipped = %d, read ≥ %d, no failures", res, total, total-len(before))
	}
}
