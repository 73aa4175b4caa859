package archive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voltflow/voltflow/store"
	archivestore "github.com/voltflow/voltflow/store/archive"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

type fixture struct {
	projectID, otherID string
	month              time.Time
}

// setUp loads the demo project (meters M…) and a second project, and gives
// every meter of both a reading every 6 hours of a month four months back.
func setUp(t *testing.T, ctx context.Context, db *store.DB, meters int) (fixture, func(string, ...any) int64) {
	t.Helper()
	d := demo.Defaults()
	d.BcryptCost, d.MetersPerGW, d.GatewayPorts = 4, 4, []int{1, 2}
	loaded, err := demo.Load(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{projectID: loaded.ProjectID, month: archivestore.MonthOf(time.Now()).AddDate(0, -4, 0)}
	exec := func(sql string, args ...any) int64 {
		t.Helper()
		tag, err := db.Exec(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return tag.RowsAffected()
	}
	if err := db.QueryRow(ctx, `insert into projects(id, organisation_id, code, name)
		select gen_random_uuid(), organisation_id, 'other', 'Other' from projects where id=$1 returning id::text`, f.projectID).Scan(&f.otherID); err != nil {
		t.Fatal(err)
	}
	// 200 meters a gateway (bus addresses 1–200), codes by project prefix.
	addMeters := func(project, prefix string, n int) {
		exec(`insert into gateways(id, project_id, code, address, protocol)
			select gen_random_uuid(), $1, $2 || g, '127.0.0.1:' || (1000 + g), 'modbus-tcp' from generate_series(0, ($3::int - 1) / 200) g`,
			project, prefix, n)
		exec(`insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price)
			select gen_random_uuid(), $1, $2 || lpad(i::text, 6, '0'), g.id, 1 + i % 200, 'ref-prepaid-v1', 1.2
			from generate_series(0, $3::int - 1) i join gateways g on g.project_id=$1 and g.code = $2 || (i / 200)`,
			project, prefix, n)
	}
	addMeters(f.projectID, "A", meters)
	addMeters(f.otherID, "B", 20)
	exec(`select readings_partition($1)`, f.month)
	exec(`insert into readings (meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh,
			voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
		select m.id, s, s + interval '1.5 seconds', 1000 + n * 0.37, n * 0.05, n * 0.11, n * 0.13, n * 0.08, 219.5 + n % 7,
			1.25, 0.275, 500 - n * 0.3, 3, n % 2, 0, n % 5
		from meters m cross join lateral (select s, row_number() over (order by s) n
			from generate_series($1::timestamptz, $1::timestamptz + interval '1 month' - interval '1 second', interval '6 hours') s) g`,
		f.month)
	count := func(sql string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	return f, count
}

// Archiving a month and restoring it round-trips every reading: the same
// count and SHA-256 from PostgreSQL before, in the file, and after. The
// other project's rows of the month stay; the partition goes only once
// both projects archived theirs.
func TestArchiveAndRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	f, count := setUp(t, ctx, db, 300)
	dir := t.TempDir()
	part := archivestore.Partition(f.month)
	projectRows := `select count(*) from ` + part + ` r join meters m on m.id=r.meter_id where m.project_id=$1`
	want := count(projectRows, f.projectID)
	others := count(projectRows, f.otherID)
	perMeter := int64(f.month.AddDate(0, 1, 0).Sub(f.month).Hours()) / 6
	if want != (300+8)*perMeter || others != 20*perMeter {
		t.Fatalf("generated %d and %d readings", want, others)
	}
	// A month inside the retention is not due; past it, it is.
	if _, err := db.Exec(ctx, `update projects set reading_retention_months=$2 where id=$1`, f.projectID, 5); err != nil {
		t.Fatal(err)
	}
	due, err := archivestore.Due(ctx, db, archivestore.DueInput{ProjectID: f.projectID, Now: time.Now()})
	if err != nil || len(due.Months) != 0 {
		t.Fatalf("due with 5 months kept = %v, %v", due.Months, err)
	}
	if _, err := db.Exec(ctx, `update projects set reading_retention_months=3 where id=$1`, f.projectID); err != nil {
		t.Fatal(err)
	}
	due, err = archivestore.Due(ctx, db, archivestore.DueInput{ProjectID: f.projectID, Now: time.Now()})
	if err != nil || len(due.Months) != 1 || !due.Months[0].Equal(f.month) {
		t.Fatalf("due with 3 months kept = %v, %v; want %v", due.Months, err, f.month)
	}

	in := archivestore.MonthInput{ProjectID: f.projectID, Month: f.month}
	o := archivestore.Options{ChunkMeters: 64}
	a, err := archivestore.Export(ctx, db, dir, in, o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rows != want || a.Status != archivestore.StatusWritten || a.Bytes == 0 {
		t.Fatalf("export = %+v, want %d rows written", a, want)
	}
	// Exporting again (a retried activity) changes nothing.
	if again, err := archivestore.Export(ctx, db, dir, in, o); err != nil || again != a {
		t.Fatalf("export again = %+v, %v", again, err)
	}
	if n := count(projectRows, f.projectID); n != want {
		t.Fatalf("%d rows after the export, want all %d still there", n, want)
	}
	dr, err := archivestore.Drop(ctx, db, dir, in, o)
	if err != nil || dr.Deleted != want || dr.Dropped {
		t.Fatalf("drop = %+v, %v; want %d deleted, the partition kept (the other project's rows)", dr, err, want)
	}
	if n := count(projectRows, f.projectID); n != 0 {
		t.Fatalf("%d rows left", n)
	}
	if n := count(projectRows, f.otherID); n != others {
		t.Fatalf("the other project has %d rows, want %d", n, others)
	}
	if due, err := archivestore.Due(ctx, db, archivestore.DueInput{ProjectID: f.projectID, Now: time.Now()}); err != nil || len(due.Months) != 0 {
		t.Fatalf("due after archiving = %v, %v", due.Months, err)
	}

	// The other project archives too: the partition is empty, detached and dropped.
	oin := archivestore.MonthInput{ProjectID: f.otherID, Month: f.month}
	if _, err := archivestore.Export(ctx, db, dir, oin, o); err != nil {
		t.Fatal(err)
	}
	dr, err = archivestore.Drop(ctx, db, dir, oin, o)
	if err != nil || !dr.Dropped {
		t.Fatalf("drop of the last rows = %+v, %v; want the partition dropped", dr, err)
	}
	if n := count(`select count(*) from pg_class where relname=$1`, part); n != 0 {
		t.Fatalf("partition %s still there", part)
	}

	// Restore: the partition comes back with every row, same checksum.
	r, err := archivestore.Restore(ctx, db, dir, in, archivestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows != want || r.Inserted != want || r.SHA256 != a.SHA256 {
		t.Fatalf("restore = %+v, want %d rows of %s", r, want, a.SHA256)
	}
	if n := count(`select count(*) from readings r join meters m on m.id=r.meter_id where m.project_id=$1`, f.projectID); n != want {
		t.Fatalf("%d readings after the restore, want %d", n, want)
	}
	got, _, err := archivestore.Get(ctx, db, in)
	if err != nil || got.Status != archivestore.StatusRestored || got.RestoredAt == nil {
		t.Fatalf("after restore: %+v, %v", got, err)
	}
	// A restored month is not due again by itself; archived again by name,
	// it gives the same file.
	if due, err := archivestore.Due(ctx, db, archivestore.DueInput{ProjectID: f.projectID, Now: time.Now()}); err != nil || len(due.Months) != 0 {
		t.Fatalf("due after restoring = %v, %v", due.Months, err)
	}
	again, err := archivestore.Export(ctx, db, dir, in, o)
	if err != nil || again.SHA256 != a.SHA256 || again.Rows != want || again.FileSHA256 != a.FileSHA256 {
		t.Fatalf("archived again = %+v, %v; want %+v", again, err, a)
	}
}

// A restore cut short (some chunks in) and run again inserts the rest and
// nothing twice; a drop cut short is finished by the next one.
func TestResumedStepsWriteNothingTwice(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	f, count := setUp(t, ctx, db, 500)
	dir := t.TempDir()
	part := archivestore.Partition(f.month)
	projectRows := `select count(*) from ` + part + ` r join meters m on m.id=r.meter_id where m.project_id=$1`
	want := count(projectRows, f.projectID)
	in := archivestore.MonthInput{ProjectID: f.projectID, Month: f.month}
	a, err := archivestore.Export(ctx, db, dir, in, archivestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The drop's context ends after its second chunk.
	cctx, cancel := context.WithCancel(ctx)
	chunks := 0
	_, err = archivestore.Drop(cctx, db, dir, in, archivestore.Options{ChunkMeters: 100, Heartbeat: func(int64) {
		if chunks++; chunks == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cut drop: %v", err)
	}
	if n := count(projectRows, f.projectID); n == 0 || n == want {
		t.Fatalf("%d of %d rows left after a cut drop: not part-way", n, want)
	}
	if _, err := archivestore.Drop(ctx, db, dir, in, archivestore.Options{ChunkMeters: 100}); err != nil {
		t.Fatal(err)
	}
	if n := count(projectRows, f.projectID); n != 0 {
		t.Fatalf("%d rows left", n)
	}
	cctx, cancel = context.WithCancel(ctx)
	_, err = archivestore.Restore(cctx, db, dir, in, archivestore.Options{Heartbeat: func(int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cut restore: %v", err)
	}
	if n := count(projectRows, f.projectID); n == 0 || n == want {
		t.Fatalf("%d of %d rows after a cut restore: not part-way", n, want)
	}
	r, err := archivestore.Restore(ctx, db, dir, in, archivestore.Options{})
	if err != nil || r.Rows != want || r.Inserted != want-archivestore.RestoreChunk || r.SHA256 != a.SHA256 {
		t.Fatalf("resumed restore = %+v, %v; want %d rows, %d inserted now", r, err, want, want-archivestore.RestoreChunk)
	}
	if n := count(projectRows, f.projectID); n != want {
		t.Fatalf("%d rows after the restore, want %d", n, want)
	}
}

// A file changed on disk is not trusted: neither deleted against nor restored.
func TestTamperedFileStopsTheDrop(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	f, count := setUp(t, ctx, db, 10)
	dir := t.TempDir()
	in := archivestore.MonthInput{ProjectID: f.projectID, Month: f.month}
	a, err := archivestore.Export(ctx, db, dir, in, archivestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, a.File), []byte{0x1f, 0x8b}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := archivestore.Drop(ctx, db, dir, in, archivestore.Options{}); !errors.Is(err, archivestore.ErrCorrupt) {
		t.Fatalf("drop against a broken file: %v, want ErrCorrupt", err)
	}
	if n := count(`select count(*) from readings r join meters m on m.id=r.meter_id where m.project_id=$1`, f.projectID); n != a.Rows {
		t.Fatalf("%d rows after a refused drop, want %d", n, a.Rows)
	}
}

func TestCorruptFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	a := archivestore.Archive{File: "x.tsv.gz", Rows: 1, SHA256: "00"}
	if err := os.WriteFile(filepath.Join(dir, a.File), []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := archivestore.Verify(dir, a); !errors.Is(err, archivestore.ErrCorrupt) {
		t.Fatalf("Verify of a broken file = %v, want ErrCorrupt", err)
	}
}
