package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/operator"
)

const realMasterKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// readyDatabase is a migrated database a production start accepts: one
// operator with a strong password and the regulator's real credentials.
// mutate, when set, brings in one problem.
func readyDatabase(t *testing.T, mutate func(ctx context.Context, db *store.DB)) string {
	t.Helper()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, _ := bcrypt.GenerateFromPassword([]byte("Strong-Pass-2026"), bcrypt.MinCost)
	if _, err := operator.Create(ctx, db, operator.New{Username: "root", DisplayName: "root", PasswordHash: string(hash), PlatformAdmin: true}); err != nil {
		t.Fatal(err)
	}
	mk, _ := keys.NewMasterKey(realMasterKey)
	sec := keys.DevSecrets()
	sec.OperatorSecret, sec.DataSecret, sec.DataSecretIV, sec.SigSecret =
		"9f8e7d6c5b4a3921", "0f1e2d3c4b5a6978", "8796a5b4c3d2e1f0", "00112233445566778899aabbccddeeff"
	if err := (&keys.Store{DB: db, Key: mk}).Put(ctx, push.DefaultRegulator, sec, 0); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(ctx, db)
	}
	return url
}

// TestServeRefusesEachReadinessProblem starts `voltflow serve` in
// production mode with one readiness problem at a time: it must refuse
// before touching Temporal, with that problem's line.
func TestServeRefusesEachReadinessProblem(t *testing.T) {
	ready := map[string]string{
		"VOLTFLOW_ENV": "production", keys.EnvMasterKey: realMasterKey,
		"VOLTFLOW_SMS_PROVIDERS": "aliyun", "VOLTFLOW_SMTP_ADDR": "smtp.example.invalid:25",
		// Unreachable: a start that passed the check would fail here instead.
		"TEMPORAL_ADDRESS": "127.0.0.1:1",
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name   string
		env    map[string]string
		mutate func(ctx context.Context, db *store.DB)
		line   string
	}{
		{name: "default password (its username)", mutate: func(ctx context.Context, db *store.DB) {
			hash, _ := bcrypt.GenerateFromPassword([]byte("cashier1"), bcrypt.MinCost)
			if _, err := operator.Create(ctx, db, operator.New{Username: "cashier1", DisplayName: "c", PasswordHash: string(hash)}); err != nil {
				t.Fatal(err)
			}
		}, line: "operators cashier1 still have a default password"},
		{name: "demo default password", mutate: func(ctx context.Context, db *store.DB) {
			hash, _ := bcrypt.GenerateFromPassword([]byte("admin"), bcrypt.MinCost)
			if _, err := operator.Create(ctx, db, operator.New{Username: "boss", DisplayName: "b", PasswordHash: string(hash)}); err != nil {
				t.Fatal(err)
			}
		}, line: "operators boss still have a default password"},
		{name: "demo regulator credentials", mutate: func(ctx context.Context, db *store.DB) {
			mk, _ := keys.NewMasterKey(realMasterKey)
			if err := (&keys.Store{DB: db, Key: mk}).Put(ctx, push.DefaultRegulator, keys.DevSecrets(), 0); err != nil {
				t.Fatal(err)
			}
		}, line: "regulator exchange uses the demo regulator credentials"},
		{name: "dev master key", env: map[string]string{keys.EnvMasterKey: ""},
			line: "regulator exchange uses the dev master key"},
		{name: "SMS outbox", env: map[string]string{"VOLTFLOW_SMS_PROVIDERS": ""},
			line: "SMS goes to the local outbox"},
		{name: "SMS outbox named", env: map[string]string{"VOLTFLOW_SMS_PROVIDERS": "aliyun,outbox"},
			line: "SMS goes to the local outbox"},
		{name: "mail outbox", env: map[string]string{"VOLTFLOW_SMTP_ADDR": ""},
			line: "mail goes to the local outbox"},
		{name: "deprecated switch", env: map[string]string{"VOLTFLOW_ENV": "", "VOLTFLOW_PRODUCTION": "1", "VOLTFLOW_SMTP_ADDR": ""},
			line: "mail goes to the local outbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": readyDatabase(t, tt.mutate)}
			for k, v := range ready {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			for k, v := range env {
				t.Setenv(k, v)
			}
			err := runServe(context.Background(), log, nil, true, true)
			if err == nil || !strings.Contains(err.Error(), "production start refused") || !strings.Contains(err.Error(), tt.line) {
				t.Fatalf("serve: %v\nwant the line %q", err, tt.line)
			}
			if n := strings.Count(err.Error(), "\n"); n != 1 {
				t.Errorf("want exactly this one problem, got %d lines: %v", n, err)
			}
		})
	}

	// The same start with nothing wrong passes the check (and then fails
	// only on the unreachable Temporal); VOLTFLOW_ALLOW_OUTBOX=1 lets the
	// outboxes through on purpose.
	for _, env := range []map[string]string{{}, {"VOLTFLOW_SMS_PROVIDERS": "", "VOLTFLOW_SMTP_ADDR": "", envAllowOutbox: "1"}} {
		getenv := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return ready[k]
		}
		for k, v := range ready {
			t.Setenv(k, v)
		}
		db, err := store.Open(context.Background(), readyDatabase(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := readiness(context.Background(), db, getenv)
		db.Close()
		if err != nil || len(lines) != 0 {
			t.Errorf("ready start %v refused: %v %v", env, lines, err)
		}
	}
}

func TestAdminCreate(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// An empty database (no tables): admin create migrates it first.
	dbURL := pg.URL(pg.CreateDatabase(ctx, "admin_create_empty"))
	t.Setenv("DATABASE_URL", dbURL)
	for _, c := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no username", "Strong-Pass-2026\n", []string{"create"}, "--username is required"},
		{"weak password", "root\n", []string{"create", "--username", "root"}, "password"},
		{"no password", "", []string{"create", "--username", "root"}, "no password"},
	} {
		if err := runAdmin(ctx, log, c.args, strings.NewReader(c.stdin)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := runAdmin(ctx, log, []string{"create", "--username", "root"}, strings.NewReader("Strong-Pass-2026\n")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("Other-Pass-2026\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runAdmin(ctx, log, []string{"create", "--username", "ops", "--password-file", file}, strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if err := runAdmin(ctx, log, []string{"create", "--username", "root"}, strings.NewReader("Strong-Pass-2026\n")); err == nil {
		t.Error("a second root was created")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for user, pw := range map[string]string{"root": "Strong-Pass-2026", "ops": "Other-Pass-2026"} {
		o, err := operator.ByUsername(ctx, db, user)
		if err != nil || !o.PlatformAdmin || bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte(pw)) != nil {
			t.Errorf("%s: %+v %v", user, o.PlatformAdmin, err)
		}
	}
}
