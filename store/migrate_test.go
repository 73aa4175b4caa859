package store_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// emptyDB is a database with no migrations applied, dropped when the test ends.
func emptyDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := pg.CreateDatabase(ctx, "m_"+hex.EncodeToString(b))
	db, err := store.Open(ctx, pg.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if c, err := pgx.Connect(ctx, pg.URL("postgres")); err == nil {
			_, _ = c.Exec(ctx, `drop database if exists `+name+` with (force)`)
			_ = c.Close(ctx)
		}
	})
	return db
}

func TestMigrateRefusesAChangedMigration(t *testing.T) {
	applied := fstest.MapFS{
		"0001_a.sql": {Data: []byte("create table a (x int);")},
		"0002_b.sql": {Data: []byte("create table b (y int);")},
	}
	with := func(changes map[string]string) fstest.MapFS {
		out := fstest.MapFS{}
		for name, f := range applied {
			out[name] = f
		}
		for name, sql := range changes {
			out[name] = &fstest.MapFile{Data: []byte(sql)}
		}
		return out
	}
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr string // "" for none
		wantC   bool   // table c exists afterwards
	}{
		{name: "unchanged", files: applied},
		{name: "a new migration is applied", files: with(map[string]string{"0003_c.sql": "create table c (z int);"}), wantC: true},
		{name: "an applied file changed", files: with(map[string]string{"0001_a.sql": "create table a (x bigint);"}),
			wantErr: "migration 0001_a.sql changed after it was applied"},
		{name: "a comment added is a change", files: with(map[string]string{"0002_b.sql": "-- b\ncreate table b (y int);"}),
			wantErr: "migration 0002_b.sql changed after it was applied"},
		{name: "nothing new is applied beside a changed file",
			files:   with(map[string]string{"0002_b.sql": "create table b (y text);", "0003_c.sql": "create table c (z int);"}),
			wantErr: "migration 0002_b.sql changed after it was applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := emptyDB(t)
			if err := store.MigrateFrom(ctx, db, quiet, applied); err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			err := store.MigrateFrom(ctx, db, quiet, tt.files)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("migrate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("migrate: got error %v, want one containing %q", err, tt.wantErr)
			}
			var hasC bool
			if err := db.QueryRow(ctx, `select to_regclass('c') is not null`).Scan(&hasC); err != nil {
				t.Fatal(err)
			}
			if hasC != tt.wantC {
				t.Fatalf("table c exists: %v, want %v", hasC, tt.wantC)
			}
		})
	}
}

// migrationFiles reads store/migrations, optionally only the files up to
// last and with some replaced by other files of the same name.
func migrationFiles(t *testing.T, last string, replaced fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	dir := os.DirFS("migrations")
	names, err := fs.Glob(dir, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if last != "" && name > last {
			continue
		}
		b, err := fs.ReadFile(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if replaced != nil {
			if r, err := fs.ReadFile(replaced, name); err == nil {
				b = r
			}
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}

// applyWithoutChecksums migrates the way Voltflow did before checksums:
// schema_migrations without the column, each file applied once by name.
func applyWithoutChecksums(ctx context.Context, t *testing.T, db *store.DB, files fs.FS) {
	t.Helper()
	if _, err := db.Exec(ctx, `create table schema_migrations (
		name text primary key, applied_at timestamptz not null default now())`); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names { // Glob sorts
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		err = store.InTx(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(b)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `insert into schema_migrations(name) values($1)`, name)
			return err
		})
		if err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
	}
}

// schema describes the database's tables, columns, constraints, indexes,
// storage options, views, functions and triggers, one sorted line each.
func schema(ctx context.Context, t *testing.T, db *store.DB) string {
	t.Helper()
	var s string
	err := db.QueryRow(ctx, `select coalesce(string_agg(line, E'\n' order by line), '') from (
		select format('column %s.%s #%s %s nullable=%s default=%s generated=%s', table_name, column_name,
			ordinal_position, data_type, is_nullable, column_default, generation_expression) as line
		from information_schema.columns where table_schema = current_schema()
		union all
		select format('index %s', indexdef) from pg_indexes where schemaname = current_schema()
		union all
		select format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		from pg_constraint where connamespace = current_schema()::regnamespace
		union all
		select format('options %s %s', relname, reloptions) from pg_class
		where relnamespace = current_schema()::regnamespace and reloptions is not null
		union all
		select format('view %s %s', viewname, definition) from pg_views where schemaname = current_schema()
		union all
		select format('function %s', pg_get_functiondef(oid)) from pg_proc
		where pronamespace = current_schema()::regnamespace and prokind in ('f', 'p')
		union all
		select format('trigger %s', pg_get_triggerdef(oid)) from pg_trigger where not tgisinternal
	) lines`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checksums(ctx context.Context, t *testing.T, db *store.DB) map[string]*string {
	t.Helper()
	rows, err := db.Query(ctx, `select name, checksum from schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*string{}
	for rows.Next() {
		var name string
		var sum *string
		if err := rows.Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		out[name] = sum
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantChecksums checks that every current migration is recorded as applied
// with the sha256 of its file.
func wantChecksums(ctx context.Context, t *testing.T, db *store.DB) {
	t.Helper()
	got := checksums(ctx, t, db)
	files := migrationFiles(t, "", nil)
	if len(got) != len(files) {
		t.Errorf("%d migrations recorded, want %d", len(got), len(files))
	}
	for name, f := range files {
		sum := sha256.Sum256(f.Data)
		want := hex.EncodeToString(sum[:])
		if got[name] == nil || *got[name] != want {
			t.Errorf("%s: checksum %v, want %s", name, got[name], want)
		}
	}
}

func TestMigrateFreshDatabase(t *testing.T) {
	ctx := context.Background()
	db := emptyDB(t)
	if err := store.Migrate(ctx, db, quiet); err != nil {
		t.Fatal(err)
	}
	wantChecksums(ctx, t, db)
	if err := store.Migrate(ctx, db, quiet); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// A database migrated before checksums existed, from the files as first
// committed or from 0003, 0012, 0014 and 0026 as they were edited later
// (testdata/before-checksums: their content up to the change that added
// checksums), gets its checksums recorded and ends with the schema of a
// fresh database.
func TestMigrateUpgradesADatabaseWithoutChecksums(t *testing.T) {
	const last = "0026_regulator_push_lane.sql" // the last migration before checksums
	ctx := context.Background()
	fresh := emptyDB(t)
	if err := store.Migrate(ctx, fresh, quiet); err != nil {
		t.Fatal(err)
	}
	want := schema(ctx, t, fresh)
	tests := []struct {
		name  string
		files fs.FS
	}{
		{"files as first committed", migrationFiles(t, last, nil)},
		{"files as edited", migrationFiles(t, last, os.DirFS("testdata/before-checksums"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := emptyDB(t)
			applyWithoutChecksums(ctx, t, db, tt.files)
			if err := store.Migrate(ctx, db, quiet); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			wantChecksums(ctx, t, db)
			if got := schema(ctx, t, db); got != want {
				t.Fatalf("schema differs from a fresh database's:\n%s", diff(got, want))
			}
		})
	}
}

// diff lists the lines only one of two schemas has.
func diff(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for l := range g {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for l := range w {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}
