package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/store"
)

// TestRegulatorCredentialsSetSatisfiesReadiness: a database with only the
// demo regulator credentials is refused with its line; the credentials the
// regulator issued, installed through `voltflow regulator credentials set`
// with the secrets on standard input, make the production start ready, and
// nothing the command prints carries a secret.
func TestRegulatorCredentialsSetSatisfiesReadiness(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	url := readyDatabase(t, func(ctx context.Context, db *store.DB) {
		mk, _ := keys.NewMasterKey(realMasterKey)
		if err := (&keys.Store{DB: db, Key: mk}).Put(ctx, push.DefaultRegulator, keys.DevSecrets(), 0); err != nil {
			t.Fatal(err)
		}
	})
	env := map[string]string{"DATABASE_URL": url, keys.EnvMasterKey: realMasterKey, "VOLTFLOW_ENV": "production",
		envAllowOutbox: "1"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	getenv := func(k string) string { return env[k] }
	check := func() []string {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		lines, err := readiness(ctx, db, getenv)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	if lines := check(); len(lines) != 1 || !strings.Contains(lines[0], "regulator exchange uses the demo regulator credentials") {
		t.Fatalf("demo credentials: %v", lines)
	}

	for _, bad := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"credentials", "set"}, "", "--operator-id is required"},
		{[]string{"credentials", "set", "--operator-id", "MA59J8YL8"}, "only\ntwo\n", "want 4 lines"},
		{[]string{"credentials"}, "", "usage"},
	} {
		if err := runRegulator(ctx, log, bad.args, strings.NewReader(bad.stdin), io.Discard); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	secrets := `{"operatorSecret":"Op3r4t0rS3cr3t!!","dataSecret":"D4t4S3cr3tK3y!!!","dataSecretIV":"D4t4S3cr3tIV!!!!","sigSecret":"S1gS3cr3tK3y!!!!"}`
	var out bytes.Buffer
	if err := runRegulator(ctx, log, []string{"credentials", "set", "--operator-id", "MA59J8YL8", "--overlap", "1h"},
		strings.NewReader(secrets), &out); err != nil {
		t.Fatal(err)
	}
	if lines := check(); len(lines) != 0 {
		t.Fatalf("installed credentials refused: %v", lines)
	}
	for _, s := range []string{"Op3r4t0r", "D4t4S3cr3t", "S1gS3cr3t"} {
		if strings.Contains(out.String(), s) {
			t.Fatalf("a secret was printed: %s", out.String())
		}
	}
	if !strings.Contains(out.String(), `"operatorId": "MA59J8YL8"`) || !strings.Contains(out.String(), `"validUntil": "`) {
		t.Errorf("listing: %s", out.String())
	}
	// The start itself now passes the gate and fails only on Temporal,
	// which is unreachable here.
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	if err := runServe(ctx, log, nil, true, true); err == nil || strings.Contains(err.Error(), "production start refused") {
		t.Fatalf("serve: %v", err)
	}
}
