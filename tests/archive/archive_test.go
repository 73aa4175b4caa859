// Package archive tests the reading archive (S5) on the real platform:
// PostgreSQL, Temporal, the worker process and simulated meters. A month of
// readings generated with SQL is archived through the API by the
// reading-archive workflow, with the worker killed while it deletes, and
// restored by reading-restore: every reading comes back (count and
// SHA-256). A second month is archived while sweeps of 10,000 simulated
// meters run back to back, and their time is compared with sweeps before
// and after.
package archive

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
	archivewf "github.com/voltflow/voltflow/workflows/archive"
	"github.com/voltflow/voltflow/workflows/names"
	sweepwf "github.com/voltflow/voltflow/workflows/sweep"
)

var (
	stack *harness.Stack
	dir   string
)

// gateways × 32 simulated meters: 10,016.
const gateways = 313

func TestMain(m *testing.M) {
	var err error
	if dir, err = os.MkdirTemp("", "voltflow-archive-"); err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		// The worker reads both at start. The Schedule's sweeps stay out of
		// the way: the test runs its own.
		"VOLTFLOW_SWEEP_INTERVAL": "24h",
		"VOLTFLOW_ARCHIVE_DIR":    dir,
	} {
		_ = os.Setenv(k, v)
	}
	harness.Main(m, "archive", harness.Options{Gateways: gateways, MetersPerGW: 32}, &stack)
}

func count(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := stack.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := stack.DB.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// generate gives the first n meters of the project (by meter number) a
// reading every step through the month, as sweeps would have written them.
func generate(t *testing.T, month time.Time, n int, step time.Duration) int64 {
	t.Helper()
	exec(t, `select readings_partition($1)`, month)
	exec(t, `insert into readings (meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh,
			voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		select m.id, s, s + interval '0.8 seconds', 1000 + k * 0.25 + m.unit_address, k * 0.05, k * 0.07, k * 0.09, k * 0.04,
			220 + k % 9 * 0.1, 1.1, 0.242, 800 - k * 0.2, 2, 0, 0, 0
		from (select id, unit_address from meters where project_id=$1 order by meter_no limit $2) m
		cross join lateral (select s, row_number() over (order by s) k
			from generate_series($3::timestamptz, $3::timestamptz + interval '1 month' - interval '1 second', $4::interval) s) g`,
		stack.ProjectID, n, month, step.String())
	exec(t, `analyze readings`)
	return count(t, `select count(*) from readings where read_at >= $1 and read_at < $2`, month, month.AddDate(0, 1, 0))
}

// monthSum is the month's readings of the project as the archive hashes
// them, computed in PostgreSQL.
func monthSum(t *testing.T, month time.Time) string {
	t.Helper()
	var sum string
	if err := stack.DB.QueryRow(context.Background(), `select coalesce(md5(string_agg(r::text, ',' order by r.meter_id, r.read_at)), '')
		from readings r join meters m on m.id=r.meter_id where m.project_id=$1 and r.read_at >= $2 and r.read_at < $3`,
		stack.ProjectID, month, month.AddDate(0, 1, 0)).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

type archives struct {
	RetentionMonths *int `json:"retentionMonths"`
	Archives        []struct {
		Month, Status, File, SHA256, FileSHA256 string
		Rows, Bytes                             int64
	} `json:"archives"`
}

func TestArchiveKilledMidDropThenRestoreRoundTrips(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	admin := stack.Login(t, "admin", "admin")
	month := monthOf(time.Now()).AddDate(0, -3, 0)
	m := month.Format("2006-01")
	// 2,000 meters every 4 hours: about 360,000 readings, 10 chunks of 200
	// meters (the activity's default), so the kill lands between chunks.
	total := generate(t, month, 2000, 4*time.Hour)
	sum := monthSum(t, month)
	t.Logf("generated %d readings of %s", total, m)

	// Without a retention, an archive needs a month by name.
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/archives", map[string]any{}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("archive without retention or month: %d, want 422", code)
	}
	var settings map[string]any
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/settings", nil, &settings); code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	delete(settings, "quietHours")
	settings["readingRetentionMonths"] = 2
	if code := admin.Do(t, http.MethodPut, "/api/v1/projects/demo/settings", settings, &settings); code != http.StatusOK ||
		settings["readingRetentionMonths"] != float64(2) {
		t.Fatalf("set retention: %d %v", code, settings)
	}
	// A retention schedules the nightly archive of every month past it.
	if _, err := stack.Temporal.ScheduleClient().GetHandle(ctx, archivewf.ScheduleID("demo")).Describe(ctx); err != nil {
		t.Fatalf("archive schedule after setting a retention: %v", err)
	}
	cashier := stack.Login(t, "cashier", "cashier")
	if code := cashier.Do(t, http.MethodPost, "/api/v1/projects/demo/archives", map[string]any{"month": m}, nil); code != http.StatusForbidden &&
		code != http.StatusNotFound {
		t.Fatalf("a cashier's archive: %d, want 403/404", code)
	}
	var started struct{ WorkflowID string }
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/archives", map[string]any{"month": m}, &started); code != http.StatusAccepted ||
		started.WorkflowID != "reading-archive/demo/"+m {
		t.Fatalf("archive %s: %d %+v", m, code, started)
	}

	// Kill the worker once the file is written and some readings, not all,
	// are deleted.
	eventually.True(t, 3*time.Minute, "the archive deleting", func() (bool, string) {
		left := count(t, `select count(*) from readings where read_at >= $1 and read_at < $2`, month, month.AddDate(0, 1, 0))
		return left > 0 && left < total, fmt.Sprintf("%d of %d left", left, total)
	})
	stack.KillWorker()
	left := count(t, `select count(*) from readings where read_at >= $1 and read_at < $2`, month, month.AddDate(0, 1, 0))
	t.Logf("killed the worker with %d of %d readings left in PostgreSQL", left, total)
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	var res archivewf.Result
	if err := stack.Temporal.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &res); err != nil {
		t.Fatalf("archive after the kill: %v", err)
	}
	if len(res.Months) != 1 || res.Months[0].Archive.Rows != total || !res.Months[0].Drop.Dropped {
		t.Fatalf("archive result %+v, want %d rows and the emptied partition dropped", res, total)
	}
	if n := count(t, `select count(*) from pg_class where relname=$1`, "readings_"+month.Format("2006_01")); n != 0 {
		t.Fatal("the month's partition is still there")
	}
	var list archives
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/archives", nil, &list); code != http.StatusOK ||
		len(list.Archives) != 1 || list.Archives[0].Month != m || list.Archives[0].Status != "archived" ||
		list.Archives[0].Rows != total || *list.RetentionMonths != 2 {
		t.Fatalf("archives: %d %+v", code, list)
	}
	a := list.Archives[0]
	if fi, err := os.Stat(dir + "/" + a.File); err != nil || fi.Size() != a.Bytes {
		t.Fatalf("file %s: %v, want %d bytes", a.File, err, a.Bytes)
	}
	t.Logf("archived %d readings into %s: %d bytes", a.Rows, a.File, a.Bytes)

	// The archive is a visible workflow with the search attributes.
	d, err := stack.Temporal.DescribeWorkflowExecution(ctx, started.WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if sa := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields(); sa["VoltflowKind"] == nil || sa["VoltflowStatus"] == nil {
		t.Fatalf("search attributes %v", sa)
	}

	// Restore: every reading back, the same checksum.
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/archives/2001-01/restore", nil, nil); code != http.StatusNotFound {
		t.Fatalf("restore of a month never archived: %d, want 404", code)
	}
	if code := admin.Do(t, http.MethodPost, "/api/v1/projects/demo/archives/"+m+"/restore", nil, &started); code != http.StatusAccepted ||
		started.WorkflowID != "reading-restore/demo/"+m {
		t.Fatalf("restore: %d %+v", code, started)
	}
	var rr struct {
		Rows   int64
		SHA256 string
	}
	if err := stack.Temporal.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &rr); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if rr.Rows != total || rr.SHA256 != a.SHA256 {
		t.Fatalf("restored %+v, want %d rows of %s", rr, total, a.SHA256)
	}
	if n := count(t, `select count(*) from readings where read_at >= $1 and read_at < $2`, month, month.AddDate(0, 1, 0)); n != total {
		t.Fatalf("%d readings after the restore, want %d", n, total)
	}
	if got := monthSum(t, month); got != sum {
		t.Fatalf("restored readings hash to %s, generated %s", got, sum)
	}
	if n := count(t, `select count(*) from (select meter_id, read_at from readings group by 1, 2 having count(*) > 1) d`); n != 0 {
		t.Fatalf("%d duplicated readings", n)
	}
	if code := admin.Do(t, http.MethodGet, "/api/v1/projects/demo/archives", nil, &list); code != http.StatusOK || list.Archives[0].Status != "restored" {
		t.Fatalf("archives after the restore: %d %+v", code, list)
	}
}

// sweep runs one sweep of every simulated meter and returns its time.
func sweep(t *testing.T, ctx context.Context, i int) time.Duration {
	t.Helper()
	id := fmt.Sprintf("sweep/demo-archive-%d-%d", time.Now().UnixNano(), i)
	start := time.Now()
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.MainQueue,
		TypedSearchAttributes: names.Attributes("demo", sweepwf.Kind, "demo", "started")},
		sweepwf.Kind, sweepwf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", At: start.UTC().Truncate(time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	var res sweepwf.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Read != gateways*32 {
		t.Fatalf("sweep read %d meters, want %d (%+v)", res.Read, gateways*32, res)
	}
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// A sweep while the archive runs stays within 20 % of its usual time (the
// issue's bar; see limit below). VOLTFLOW_ARCHIVE_BENCH_STEP sets how often the generated
// month was read (default 6h: 1.2 million readings; 30m is a real month,
// 14.4 million). A measurement, not a unit test (speed is measured in
// benchmarks): it runs with VOLTFLOW_BENCH_ARCHIVE=1, `make bench-archive`.
func TestSweepKeepsItsSpeedDuringArchive(t *testing.T) {
	if os.Getenv("VOLTFLOW_BENCH_ARCHIVE") == "" {
		t.Skip("a measurement: VOLTFLOW_BENCH_ARCHIVE=1 (make bench-archive)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	step := 6 * time.Hour
	if v := os.Getenv("VOLTFLOW_ARCHIVE_BENCH_STEP"); v != "" {
		var err error
		if step, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	month := monthOf(time.Now()).AddDate(0, -2, 0)
	t0 := time.Now()
	total := generate(t, month, gateways*32, step)
	t.Logf("generated %d readings of %s (every %v) in %v", total, month.Format("2006-01"), step, time.Since(t0).Round(time.Second))

	// Warm up, then the usual time.
	sweep(t, ctx, 0)
	var before []time.Duration
	for i := range 5 {
		before = append(before, sweep(t, ctx, 1+i))
	}
	id, err := archivewf.Start(ctx, stack.Temporal, archivewf.Kind, archivewf.Input{ProjectID: stack.ProjectID, ProjectCode: "demo", Month: month})
	if err != nil {
		t.Fatal(err)
	}
	run := stack.Temporal.GetWorkflow(ctx, id, "")
	archiveStart := time.Now()
	var during []time.Duration
	done := make(chan error, 1)
	go func() { done <- run.Get(ctx, nil) }()
	var archiveErr error
	for running := true; running; {
		d := sweep(t, ctx, 100+len(during))
		select {
		case archiveErr = <-done:
			running = false // this sweep ended after the archive: not counted
		default:
			during = append(during, d)
		}
	}
	archiveTime := time.Since(archiveStart)
	if archiveErr != nil {
		t.Fatal(archiveErr)
	}
	var after []time.Duration
	for i := range 3 {
		after = append(after, sweep(t, ctx, 200+i))
	}
	usual := median(append(slices.Clone(before), after...))
	if len(during) < 3 {
		t.Fatalf("only %d sweeps during the %v archive: generate more readings", len(during), archiveTime)
	}
	ratio := float64(median(during)) / float64(usual)
	line := fmt.Sprintf("archive meters=%d readings=%d archive_seconds=%.1f sweep_usual_ms=%d sweep_during_ms=%d (median of %d; max %d) ratio=%.2f",
		gateways*32, total, archiveTime.Seconds(), usual.Milliseconds(), median(during).Milliseconds(), len(during),
		slices.Max(during).Milliseconds(), ratio)
	t.Log(line)
	t.Logf("sweeps before %v, during %v, after %v", before, during, after)
	fmt.Println(line)
	// The bar (measured: 0.92–1.15); VOLTFLOW_ARCHIVE_SWEEP_LIMIT
	// loosens it on a machine shared with other work.
	limit := 1.2
	if v, err := strconv.ParseFloat(os.Getenv("VOLTFLOW_ARCHIVE_SWEEP_LIMIT"), 64); err == nil {
		limit = v
	}
	if ratio > limit {
		t.Errorf("sweeps during the archive take %.2f× their usual time, over %.2f", ratio, limit)
	}
	if n := count(t, `select count(*) from readings where read_at >= $1 and read_at < $2`, month, month.AddDate(0, 1, 0)); n != 0 {
		t.Fatalf("%d readings of the archived month left", n)
	}
}
