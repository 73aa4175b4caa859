// Package deploy checks the files in deploy/ against the real programs
// that read them.
package deploy

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/store/localpg"
	"github.com/voltflow/voltflow/store/storetest"
)

// A PostgreSQL 15 server starts with deploy/postgresql/voltflow.conf
// included, and every setting in the file is in effect from it: a typo in
// a name or a value the server refuses would stop a production server
// from starting.
func TestPostgreSQLConfigLoads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conf, err := os.ReadFile("../../deploy/postgresql/voltflow.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := settings(t, string(conf))
	if len(want) < 3 {
		t.Fatalf("only %d settings read from the file: %v", len(want), want)
	}

	dir := filepath.Join(t.TempDir(), "data")
	port, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c, err := localpg.StartThrowaway(ctx, dir, port) // initdb, then start
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "voltflow.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("\ninclude 'voltflow.conf'\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err = localpg.StartThrowaway(ctx, dir, port)
	if err != nil {
		t.Fatalf("the server does not start with the file included: %v", err)
	}
	defer func() { _ = c.Stop(context.Background()) }()

	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for name, value := range want {
		var got, file string
		if err := conn.QueryRow(ctx, `select setting || coalesce(unit, ''), coalesce(sourcefile, '')
			from pg_settings where name = $1`, name).Scan(&got, &file); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if filepath.Base(file) != "voltflow.conf" {
			t.Errorf("%s = %s comes from %q, not from the file", name, got, file)
		}
		var shown string
		if err := conn.QueryRow(ctx, `select current_setting($1)`, name).Scan(&shown); err != nil {
			t.Fatal(err)
		}
		if shown != value {
			t.Errorf("%s is %s, the file says %s", name, shown, value)
		}
	}
}

// settings reads the file's name = value lines.
func settings(t *testing.T, conf string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(name)] = strings.Trim(strings.TrimSpace(value), "'")
	}
	return out
}
