// Package archive moves a project's old readings out of PostgreSQL's hot
// readings table into gzip-compressed monthly files, and back (S5).
//
// readings is partitioned by month only (0003_readings.sql): a partition
// holds every project's readings of its month, while retention is a
// project's setting. So a project's month leaves by its own rows: they are
// exported from the month's partition (COPY, in chunks of meters, ordered by
// meter and time), the file is written, fsynced and read back against its
// checksum, and only then are the rows deleted, chunk by chunk. A partition
// no project has rows in any more is then detached CONCURRENTLY and
// dropped. No step locks the parent table beyond SHARE UPDATE EXCLUSIVE (the
// detach), and none touches the partition the sweeps write: they write the
// current month, an archived month is older than the retention.
//
// The status in reading_archives makes every step resumable: rows are
// deleted only from status written (the file is on disk and verified), and
// a file is written only from exporting (no row deleted yet), so a run
// killed anywhere and run again loses no reading and writes none twice.
package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store"
)

// Statuses of reading_archives.
const (
	StatusExporting = "exporting"
	StatusWritten   = "written"
	StatusArchived  = "archived"
	StatusRestoring = "restoring"
	StatusRestored  = "restored"
)

// Error types a retry cannot fix (the workflow does not retry them).
const (
	ErrTypeCorrupt = "ArchiveCorrupt" // the file does not match its checksum
	ErrTypeBusy    = "ArchiveBusy"    // another step of the month is under way
)

var (
	// ErrCorrupt is a file that does not hold what was recorded.
	ErrCorrupt = errors.New("archive file does not match its checksum")
	// ErrBusy is an archive asked of a month being restored, or a
	// restore of a month not archived.
	ErrBusy = errors.New("archive month is in another state")
)

// columns is the order of the file's fields: readings' columns.
const columns = `meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh, valley_kwh, voltage_v,
	current_a, power_kw, remaining, purchase_count, relay, mode, status_flags`

// Options pace the work so that sweeps keep their speed.
type Options struct {
	// ChunkMeters is how many meters' readings one statement copies or
	// deletes (default 500: about 720,000 rows in a month read every
	// 30 minutes, a few seconds).
	ChunkMeters int
	// Yield is the pause after each chunk, as a share of the chunk's time
	// (0.5: the archive works at most two thirds of the time).
	Yield float64
	// Heartbeat is told of progress (rows so far); nil is fine.
	Heartbeat func(rows int64)
}

func (o Options) chunk() int {
	if o.ChunkMeters <= 0 {
		return 500
	}
	return o.ChunkMeters
}

func (o Options) beat(n int64) {
	if o.Heartbeat != nil {
		o.Heartbeat(n)
	}
}

// pause yields after a chunk that took d.
func (o Options) pause(ctx context.Context, d time.Duration) error {
	if o.Yield <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(float64(d) * o.Yield))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MonthOf is the first instant (UTC) of t's month.
func MonthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Partition is the name of the month's partition (readings_partition's).
func Partition(month time.Time) string { return "readings_" + MonthOf(month).Format("2006_01") }

// FileName is where a project's month is kept, relative to the archive
// directory.
func FileName(projectID string, month time.Time) string {
	return filepath.Join(projectID, "readings-"+MonthOf(month).Format("2006-01")+".tsv.gz")
}

// MonthInput names one project's month.
type MonthInput struct {
	ProjectID string    `json:"projectId"`
	Month     time.Time `json:"month"`
}

// Archive is one row of reading_archives.
type Archive struct {
	Month      time.Time  `json:"month"`
	Status     string     `json:"status"`
	File       string     `json:"file"`
	Rows       int64      `json:"rows"`
	SHA256     string     `json:"sha256"`
	FileSHA256 string     `json:"fileSha256"`
	Bytes      int64      `json:"bytes"`
	ArchivedAt *time.Time `json:"archivedAt"`
	RestoredAt *time.Time `json:"restoredAt"`
}

// List is a project's archives, newest month first.
func List(ctx context.Context, db *store.DB, projectID string) ([]Archive, error) {
	rows, err := db.Query(ctx, `select month::timestamp at time zone 'UTC', status, file, row_count, sha256, file_sha256, bytes,
		archived_at, restored_at from reading_archives where project_id=$1 order by month desc`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list archives: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Archive, error) {
		var a Archive
		err := r.Scan(&a.Month, &a.Status, &a.File, &a.Rows, &a.SHA256, &a.FileSHA256, &a.Bytes, &a.ArchivedAt, &a.RestoredAt)
		a.Month = a.Month.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list archives: %w", err)
	}
	return out, nil
}

// Get is one project's month; ok is false if it was never archived.
func Get(ctx context.Context, db *store.DB, in MonthInput) (Archive, bool, error) {
	all, err := List(ctx, db, in.ProjectID)
	if err != nil {
		return Archive{}, false, err
	}
	for _, a := range all {
		if a.Month.Equal(MonthOf(in.Month)) {
			return a, true, nil
		}
	}
	return Archive{}, false, nil
}

// Retention is the project's retention in months (nil: keep everything).
func Retention(ctx context.Context, db *store.DB, projectID string) (*int, error) {
	var m *int
	if err := db.QueryRow(ctx, `select reading_retention_months from projects where id=$1`, projectID).Scan(&m); err != nil {
		return nil, fmt.Errorf("retention of project %s: %w", projectID, err)
	}
	return m, nil
}

// DueInput asks which months of a project are past its retention.
type DueInput struct {
	ProjectID string    `json:"projectId"`
	Now       time.Time `json:"now"`
}

// DueResult lists them, oldest first.
type DueResult struct {
	Months []time.Time `json:"months"`
}

// Due lists the months, older than the project's retention, that still
// have readings of the project in PostgreSQL and were not restored on
// purpose (a restored month stays until it is archived again by name).
func Due(ctx context.Context, db *store.DB, in DueInput) (DueResult, error) {
	var out DueResult
	keep, err := Retention(ctx, db, in.ProjectID)
	if err != nil || keep == nil {
		return out, err
	}
	cutoff := MonthOf(in.Now).AddDate(0, -*keep, 0)
	months, err := partitionMonths(ctx, db)
	if err != nil {
		return out, err
	}
	for _, m := range months {
		if !m.Before(cutoff) {
			continue
		}
		var skip bool
		if err := db.QueryRow(ctx, `select exists(select 1 from reading_archives where project_id=$1 and month=$2
				and status in ('archived', 'restored'))
			or not exists(select 1 from `+pgx.Identifier{Partition(m)}.Sanitize()+` r join meters mt on mt.id=r.meter_id
				where mt.project_id=$1)`, in.ProjectID, m).Scan(&skip); err != nil {
			return out, fmt.Errorf("is %s due: %w", Partition(m), err)
		}
		if !skip {
			out.Months = append(out.Months, m)
		}
	}
	return out, nil
}

// partitionMonths lists the months readings has a partition for, oldest
// first (partitions whose detach is pending included: they still hold rows).
func partitionMonths(ctx context.Context, db *store.DB) ([]time.Time, error) {
	rows, err := db.Query(ctx, `select c.relname from pg_inherits i join pg_class c on c.oid=i.inhrelid
		where i.inhparent = 'readings'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("readings partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("readings partitions: %w", err)
	}
	var out []time.Time
	for _, n := range names {
		if m, err := time.Parse("readings_2006_01", n); err == nil {
			out = append(out, m.UTC())
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out, nil
}

func partitionExists(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, month time.Time) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `select to_regclass($1) is not null`, Partition(month)).Scan(&ok)
	return ok, err
}

// projectMeters are the project's meter ids, sorted (the file's order).
func projectMeters(ctx context.Context, db *store.DB, projectID string) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `select id from meters where project_id=$1 order by id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("meters of project %s: %w", projectID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("meters of project %s: %w", projectID, err)
	}
	return ids, nil
}

// counter counts the rows of COPY text (one line each: a newline inside a
// value is escaped as \n).
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// dump writes the project's readings of the month to w as COPY text (UTC,
// ISO dates, ordered by meter and time), a chunk of meters per statement,
// and returns their SHA-256 and count. It is the one definition of the
// file's content: the export writes it, the restore recomputes it.
func dump(ctx context.Context, db *store.DB, in MonthInput, w io.Writer, o Options) (string, int64, error) {
	h, c := sha256.New(), &counter{}
	out := io.MultiWriter(w, h, c)
	ok, err := partitionExists(ctx, db, in.Month)
	if err != nil {
		return "", 0, fmt.Errorf("partition of %s: %w", in.Month.Format("2006-01"), err)
	}
	if !ok {
		return hex.EncodeToString(h.Sum(nil)), 0, nil
	}
	ids, err := projectMeters(ctx, db, in.ProjectID)
	if err != nil {
		return "", 0, err
	}
	table := pgx.Identifier{Partition(in.Month)}.Sanitize()
	for len(ids) > 0 {
		n := min(o.chunk(), len(ids))
		chunk := ids[:n]
		ids = ids[n:]
		// COPY takes no parameters: the ids are uuid.UUIDs, printed.
		list := make([]string, len(chunk))
		for i, id := range chunk {
			list[i] = "'" + id.String() + "'"
		}
		sql := fmt.Sprintf(`copy (select %s from %s where meter_id >= %s and meter_id <= %s and meter_id in (%s)
			order by meter_id, read_at) to stdout`, columns, table, list[0], list[len(list)-1], strings.Join(list, ","))
		t := time.Now()
		err := store.InTx(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'`); err != nil {
				return err
			}
			_, err := tx.Conn().PgConn().CopyTo(ctx, out, sql)
			return err
		})
		if err != nil {
			return "", 0, fmt.Errorf("copy readings of %s: %w", Partition(in.Month), err)
		}
		o.beat(c.n)
		if err := o.pause(ctx, time.Since(t)); err != nil {
			return "", 0, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), c.n, nil
}

// Export writes the project's month to its file under dir and records it
// (status written). A month already written or archived is left alone, so
// a rerun after a crash continues with the deletion; a restored month is
// exported anew (every row is back). A month being restored is ErrBusy.
func Export(ctx context.Context, db *store.DB, dir string, in MonthInput, o Options) (Archive, error) {
	in.Month = MonthOf(in.Month)
	var status string
	err := db.QueryRow(ctx, `insert into reading_archives(project_id, month, status) values($1, $2, 'exporting')
		on conflict (project_id, month) do update set
			status = case when reading_archives.status = 'restored' then 'exporting' else reading_archives.status end,
			updated_at = now()
		returning status`, in.ProjectID, in.Month).Scan(&status)
	if err != nil {
		return Archive{}, fmt.Errorf("start archive of %s: %w", in.Month.Format("2006-01"), err)
	}
	switch status {
	case StatusWritten, StatusArchived:
		a, _, err := Get(ctx, db, in)
		return a, err
	case StatusRestoring:
		return Archive{}, fmt.Errorf("%w: %s is being restored", ErrBusy, in.Month.Format("2006-01"))
	}
	name := FileName(in.ProjectID, in.Month)
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Archive{}, fmt.Errorf("archive directory: %w", err)
	}
	// Written beside its place under a name of its own and renamed once
	// complete and synced: a crash leaves a .tmp, never a file that looks
	// finished, and two attempts running at once (a zombie activity)
	// never write into the same file.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return Archive{}, fmt.Errorf("create archive file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		_ = f.Close()
		_ = os.Remove(tmp) // gone once renamed
	}()
	fileHash := sha256.New()
	size := &counterBytes{}
	bw := bufio.NewWriterSize(io.MultiWriter(f, fileHash, size), 1<<20)
	// BestSpeed: readings compress well at level 1 already (about 5:1),
	// and CPU is what the sweeps share with the archive.
	gz, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return Archive{}, err
	}
	sum, n, err := dump(ctx, db, in, gz, o)
	if err != nil {
		return Archive{}, err
	}
	if err := gz.Close(); err != nil {
		return Archive{}, fmt.Errorf("compress archive: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Archive{}, fmt.Errorf("write archive: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Archive{}, fmt.Errorf("sync archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return Archive{}, fmt.Errorf("close archive: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Archive{}, fmt.Errorf("place archive: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return Archive{}, err
	}
	a := Archive{Month: in.Month, Status: StatusWritten, File: name, Rows: n, SHA256: sum,
		FileSHA256: hex.EncodeToString(fileHash.Sum(nil)), Bytes: size.n}
	// Read back from disk before it counts as written: rows are deleted
	// only against a file known to hold them.
	if err := Verify(dir, a); err != nil {
		return Archive{}, err
	}
	tag, err := db.Exec(ctx, `update reading_archives set status='written', file=$3, row_count=$4, sha256=$5, file_sha256=$6,
		bytes=$7, updated_at=now() where project_id=$1 and month=$2 and status='exporting'`,
		in.ProjectID, in.Month, a.File, a.Rows, a.SHA256, a.FileSHA256, a.Bytes)
	if err != nil {
		return Archive{}, fmt.Errorf("record archive: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return Archive{}, fmt.Errorf("%w: %s changed while it was exported", ErrBusy, in.Month.Format("2006-01"))
	}
	return a, nil
}

type counterBytes struct{ n int64 }

func (c *counterBytes) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync archive directory: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync archive directory: %w", err)
	}
	return nil
}

// Verify reads the archive's file and checks its size, its own SHA-256,
// and the SHA-256 and row count of what it holds uncompressed.
func Verify(dir string, a Archive) error {
	_, err := read(dir, a, io.Discard)
	return err
}

// read streams the file's rows (uncompressed) to w and checks them against
// a as it goes; the error comes at the end, after w had every row.
func read(dir string, a Archive, w io.Writer) (int64, error) {
	f, err := os.Open(filepath.Join(dir, a.File))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer func() { _ = f.Close() }()
	fileHash, size := sha256.New(), &counterBytes{}
	gz, err := gzip.NewReader(io.TeeReader(bufio.NewReaderSize(f, 1<<20), io.MultiWriter(fileHash, size)))
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrCorrupt, a.File, err)
	}
	h, c := sha256.New(), &counter{}
	if _, err := io.Copy(io.MultiWriter(w, h, c), gz); err != nil {
		return c.n, fmt.Errorf("%w: %s: %v", ErrCorrupt, a.File, err)
	}
	if err := gz.Close(); err != nil {
		return c.n, fmt.Errorf("%w: %s: %v", ErrCorrupt, a.File, err)
	}
	return c.n, check(a, h, c.n, fileHash, size.n)
}

func check(a Archive, h hash.Hash, rows int64, fileHash hash.Hash, size int64) error {
	switch {
	case hex.EncodeToString(h.Sum(nil)) != a.SHA256 || rows != a.Rows:
		return fmt.Errorf("%w: %s holds %d rows of SHA-256 %x, recorded %d of %s", ErrCorrupt, a.File, rows, h.Sum(nil), a.Rows, a.SHA256)
	case hex.EncodeToString(fileHash.Sum(nil)) != a.FileSHA256 || size != a.Bytes:
		return fmt.Errorf("%w: %s is %d bytes of SHA-256 %x, recorded %d of %s", ErrCorrupt, a.File, size, fileHash.Sum(nil), a.Bytes, a.FileSHA256)
	}
	return nil
}

// DropResult says what left PostgreSQL.
type DropResult struct {
	Deleted int64 `json:"deleted"` // rows deleted by this call (earlier attempts' not counted)
	// Dropped is the month's partition, detached and dropped because no
	// project had rows in it any more.
	Dropped bool `json:"dropped"`
}

// Drop deletes the project's readings of an archived month from
// PostgreSQL, after checking the file once more, a chunk of meters per
// statement (each its own short transaction on the old month's partition,
// which no sweep writes). It then marks the month archived and, if the
// partition is empty, detaches it concurrently and drops it.
func Drop(ctx context.Context, db *store.DB, dir string, in MonthInput, o Options) (DropResult, error) {
	in.Month = MonthOf(in.Month)
	var out DropResult
	a, ok, err := Get(ctx, db, in)
	if err != nil {
		return out, err
	}
	if !ok || (a.Status != StatusWritten && a.Status != StatusArchived) {
		return out, fmt.Errorf("%w: %s is %q, not written", ErrBusy, in.Month.Format("2006-01"), a.Status)
	}
	if a.Status == StatusWritten {
		if err := Verify(dir, a); err != nil {
			return out, err
		}
		if out.Deleted, err = deleteRows(ctx, db, in, o); err != nil {
			return out, err
		}
		if _, err := db.Exec(ctx, `update reading_archives set status='archived', archived_at=now(), updated_at=now()
			where project_id=$1 and month=$2 and status='written'`, in.ProjectID, in.Month); err != nil {
			return out, fmt.Errorf("record archive: %w", err)
		}
	}
	out.Dropped, err = dropIfEmpty(ctx, db, in.Month)
	return out, err
}

func deleteRows(ctx context.Context, db *store.DB, in MonthInput, o Options) (int64, error) {
	ok, err := partitionExists(ctx, db, in.Month)
	if err != nil || !ok {
		return 0, err
	}
	ids, err := projectMeters(ctx, db, in.ProjectID)
	if err != nil {
		return 0, err
	}
	table := pgx.Identifier{Partition(in.Month)}.Sanitize()
	var deleted int64
	for len(ids) > 0 {
		n := min(o.chunk(), len(ids))
		t := time.Now()
		tag, err := db.Exec(ctx, `delete from `+table+` where meter_id = any($1)`, ids[:n])
		if err != nil {
			return deleted, fmt.Errorf("delete archived readings of %s: %w", Partition(in.Month), err)
		}
		ids = ids[n:]
		deleted += tag.RowsAffected()
		o.beat(deleted)
		if err := o.pause(ctx, time.Since(t)); err != nil {
			return deleted, err
		}
	}
	var left int64
	if err := db.QueryRow(ctx, `select count(*) from `+table+` r join meters m on m.id=r.meter_id where m.project_id=$1`,
		in.ProjectID).Scan(&left); err != nil {
		return deleted, fmt.Errorf("count archived readings left: %w", err)
	}
	if left != 0 {
		// Kept in PostgreSQL, and the run stops for someone to look:
		// the file lacks them (nothing writes a month past retention).
		return deleted, fmt.Errorf("%w: %d readings of %s appeared after the export and are kept", ErrBusy, left, Partition(in.Month))
	}
	return deleted, nil
}

// dropIfEmpty detaches and drops the month's partition once no project has
// readings in it. DETACH … CONCURRENTLY takes only SHARE UPDATE EXCLUSIVE
// on readings, so sweeps writing the current month go on meanwhile; a
// detach interrupted half-way (its partition "detach pending") is
// finalized. Never the current month or a later one.
func dropIfEmpty(ctx context.Context, db *store.DB, month time.Time) (bool, error) {
	if !month.Before(MonthOf(time.Now()).AddDate(0, -1, 0)) {
		return false, nil
	}
	name := Partition(month)
	var attached, pending bool
	var present bool
	err := db.QueryRow(ctx, `select to_regclass($1) is not null,
		exists(select 1 from pg_inherits where inhrelid = to_regclass($1) and inhparent = 'readings'::regclass),
		coalesce((select inhdetachpending from pg_inherits where inhrelid = to_regclass($1)), false)`, name).Scan(&present, &attached, &pending)
	if err != nil || !present {
		return false, err
	}
	table := pgx.Identifier{name}.Sanitize()
	var empty bool
	if err := db.QueryRow(ctx, `select not exists(select 1 from `+table+`)`).Scan(&empty); err != nil || !empty {
		return false, err
	}
	switch {
	case pending:
		_, err = db.Exec(ctx, `alter table readings detach partition `+table+` finalize`)
	case attached:
		// No arguments: pgx sends it by the simple protocol, outside a
		// transaction block, as CONCURRENTLY requires.
		_, err = db.Exec(ctx, `alter table readings detach partition `+table+` concurrently`)
	}
	if err != nil {
		return false, fmt.Errorf("detach %s: %w", name, err)
	}
	// Checked again once detached: a restore may have put rows back.
	if err := db.QueryRow(ctx, `select not exists(select 1 from `+table+`)`).Scan(&empty); err != nil {
		return false, err
	}
	if !empty {
		_, err := db.Exec(ctx, `alter table readings attach partition `+table+fmt.Sprintf(` for values from ('%s') to ('%s')`,
			month.Format(time.RFC3339), month.AddDate(0, 1, 0).Format(time.RFC3339)))
		return false, err
	}
	if _, err := db.Exec(ctx, `drop table `+table); err != nil {
		return false, fmt.Errorf("drop %s: %w", name, err)
	}
	return true, nil
}

// RestoreResult says what came back.
type RestoreResult struct {
	Rows     int64  `json:"rows"`     // in the file, all now in PostgreSQL
	Inserted int64  `json:"inserted"` // by this call (a resumed restore finds some there)
	SHA256   string `json:"sha256"`   // recomputed from PostgreSQL
}

// RestoreChunk is rows per transaction of a restore.
const RestoreChunk = 50_000

// Restore brings an archived month back into the hot readings table (its
// partition, created again if it was dropped), so every report reads it as
// before: the file is checked against its checksum first, its rows are
// copied back in chunks (INSERT … ON CONFLICT DO NOTHING: a resumed restore
// writes nothing twice), and the month is then dumped from PostgreSQL again
// and must give the recorded SHA-256 and count. The month stays restored
// until it is archived again by name.
func Restore(ctx context.Context, db *store.DB, dir string, in MonthInput, o Options) (RestoreResult, error) {
	in.Month = MonthOf(in.Month)
	var out RestoreResult
	a, ok, err := Get(ctx, db, in)
	if err != nil {
		return out, err
	}
	switch {
	case !ok || (a.Status != StatusArchived && a.Status != StatusRestoring && a.Status != StatusRestored):
		return out, fmt.Errorf("%w: %s is not archived", ErrBusy, in.Month.Format("2006-01"))
	case a.Status == StatusRestored:
		return RestoreResult{Rows: a.Rows, SHA256: a.SHA256}, nil
	}
	if err := Verify(dir, a); err != nil {
		return out, err
	}
	if _, err := db.Exec(ctx, `update reading_archives set status='restoring', updated_at=now()
		where project_id=$1 and month=$2 and status='archived'`, in.ProjectID, in.Month); err != nil {
		return out, fmt.Errorf("start restore: %w", err)
	}
	if err := ensurePartition(ctx, db, in.Month); err != nil {
		return out, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := read(dir, a, pw)
		_ = pw.CloseWithError(err) // always nil
	}()
	defer func() { _ = pr.Close() }()
	lines := bufio.NewReaderSize(pr, 1<<20)
	var chunk bytes.Buffer
	for done := false; !done; {
		chunk.Reset()
		for n := 0; n < RestoreChunk; n++ {
			line, err := lines.ReadBytes('\n')
			chunk.Write(line)
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				return out, err
			}
		}
		if chunk.Len() == 0 {
			break
		}
		t := time.Now()
		n, err := insertChunk(ctx, db, in.Month, chunk.Bytes())
		if err != nil {
			return out, err
		}
		out.Inserted += n
		o.beat(out.Inserted)
		if err := o.pause(ctx, time.Since(t)); err != nil {
			return out, err
		}
	}
	sum, n, err := dump(ctx, db, in, io.Discard, o)
	if err != nil {
		return out, err
	}
	if sum != a.SHA256 || n != a.Rows {
		return out, fmt.Errorf("%w: restored %s gives %d rows of SHA-256 %s, archived %d of %s",
			ErrCorrupt, in.Month.Format("2006-01"), n, sum, a.Rows, a.SHA256)
	}
	if _, err := db.Exec(ctx, `update reading_archives set status='restored', restored_at=now(), updated_at=now()
		where project_id=$1 and month=$2 and status='restoring'`, in.ProjectID, in.Month); err != nil {
		return out, fmt.Errorf("record restore: %w", err)
	}
	return RestoreResult{Rows: n, Inserted: out.Inserted, SHA256: sum}, nil
}

// ensurePartition makes the month's partition exist and be attached.
func ensurePartition(ctx context.Context, db *store.DB, month time.Time) error {
	name := Partition(month)
	var present, pending bool
	if err := db.QueryRow(ctx, `select to_regclass($1) is not null,
		coalesce((select inhdetachpending from pg_inherits where inhrelid = to_regclass($1)), false)`, name).Scan(&present, &pending); err != nil {
		return err
	}
	if pending {
		if _, err := db.Exec(ctx, `alter table readings detach partition `+pgx.Identifier{name}.Sanitize()+` finalize`); err != nil {
			return fmt.Errorf("finalize detach of %s: %w", name, err)
		}
	}
	if present {
		var attached bool
		if err := db.QueryRow(ctx, `select exists(select 1 from pg_inherits where inhrelid = to_regclass($1))`, name).Scan(&attached); err != nil {
			return err
		}
		if !attached {
			_, err := db.Exec(ctx, `alter table readings attach partition `+pgx.Identifier{name}.Sanitize()+
				fmt.Sprintf(` for values from ('%s') to ('%s')`, month.Format(time.RFC3339), month.AddDate(0, 1, 0).Format(time.RFC3339)))
			if err != nil {
				return fmt.Errorf("attach %s: %w", name, err)
			}
			return nil
		}
	}
	if _, err := db.Exec(ctx, `select readings_partition($1)`, month); err != nil {
		return fmt.Errorf("partition %s: %w", name, err)
	}
	return nil
}

// insertChunk puts COPY text rows back into the month's partition.
func insertChunk(ctx context.Context, db *store.DB, month time.Time, rows []byte) (int64, error) {
	var n int64
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local timezone = 'UTC'; set local datestyle = 'ISO, YMD';
			create temp table if not exists archive_restore (like readings) on commit delete rows`); err != nil {
			return err
		}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(rows), `copy archive_restore (`+columns+`) from stdin`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `insert into `+pgx.Identifier{Partition(month)}.Sanitize()+` (`+columns+`)
			select `+columns+` from archive_restore on conflict do nothing`)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("restore readings into %s: %w", Partition(month), err)
	}
	return n, nil
}

// Project is a project that keeps readings for a limited time.
type Project struct{ ID, Code string }

// ProjectsWithRetention lists the projects with a retention set.
func ProjectsWithRetention(ctx context.Context, db *store.DB) ([]Project, error) {
	rows, err := db.Query(ctx, `select id::text, code from projects where reading_retention_months is not null order by code`)
	if err != nil {
		return nil, fmt.Errorf("projects with a retention: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) {
		var p Project
		err := r.Scan(&p.ID, &p.Code)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("projects with a retention: %w", err)
	}
	return out, nil
}
