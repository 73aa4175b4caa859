package openapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/apikey"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/openapi"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// setup loads a small demo and makes two keys of its project.
func setup(t *testing.T) (db *store.DB, projectID string, keys [2][2]string) {
	t.Helper()
	ctx := context.Background()
	db = pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 3, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	var org string
	if err := db.QueryRow(ctx, `select organisation_id::text from projects where id=$1`, l.ProjectID).Scan(&org); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		id, key, err := apikey.Create(ctx, db, l.ProjectID, org, "erp", []string{"viewer"}, "")
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = [2]string{id, key}
	}
	return db, l.ProjectID, keys
}

// The gate counts each key's calls in its own window, takes the key's
// settings, and knows no revoked key.
func TestGateCountsPerKey(t *testing.T) {
	ctx := context.Background()
	db, pid, keys := setup(t)
	if _, err := openapi.SetSettings(ctx, db, pid, keys[0][0], openapi.Settings{RequireSignature: true, RateLimit: 2, RateWindowSeconds: 3600}); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		k, err := openapi.Gate(ctx, db, keys[0][1])
		if err != nil {
			t.Fatal(err)
		}
		if k.Count != want || k.RateLimit != 2 || !k.RequireSignature || k.ProjectID != pid || k.RateWindow != time.Hour ||
			!k.WindowEnd.After(time.Now()) || k.WindowEnd.After(time.Now().Add(time.Hour)) {
			t.Fatalf("call %d: %+v", want, k)
		}
	}
	k, err := openapi.Gate(ctx, db, keys[1][1])
	if err != nil || k.Count != 1 || k.RateLimit != 600 || k.RequireSignature {
		t.Fatalf("the other key: %+v %v", k, err)
	}
	// A window that ended starts again at one.
	if _, err := db.Exec(ctx, `update api_key_windows set window_start = window_start - interval '2 hours' where key_id=$1`, keys[0][0]); err != nil {
		t.Fatal(err)
	}
	if k, err := openapi.Gate(ctx, db, keys[0][1]); err != nil || k.Count != 1 {
		t.Fatalf("after the window: %+v %v", k, err)
	}
	if err := apikey.Revoke(ctx, db, pid, keys[1][0]); err != nil {
		t.Fatal(err)
	}
	if _, err := openapi.Gate(ctx, db, keys[1][1]); !errors.Is(err, openapi.ErrNotFound) {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := openapi.SetSettings(ctx, db, pid, keys[1][0], openapi.Settings{RateLimit: 1, RateWindowSeconds: 1}); !errors.Is(err, openapi.ErrNotFound) {
		t.Fatalf("settings of a revoked key: %v", err)
	}
}

// A nonce is taken once per key; another key may use the same one; an
// expired nonce is pruned.
func TestNonceOncePerKey(t *testing.T) {
	ctx := context.Background()
	db, _, keys := setup(t)
	later := time.Now().Add(10 * time.Minute)
	tests := []struct {
		name, key, nonce string
		expires          time.Time
		want             bool
	}{
		{"first use", keys[0][0], "n-1", later, true},
		{"replay", keys[0][0], "n-1", later, false},
		{"another key", keys[1][0], "n-1", later, true},
		{"another nonce", keys[0][0], "n-2", time.Now().Add(-time.Minute), true},
		{"expired, pruned", keys[0][0], "n-2", later, true},
	}
	for _, tt := range tests {
		got, err := openapi.UseNonce(ctx, db, tt.key, tt.nonce, tt.expires)
		if err != nil || got != tt.want {
			t.Fatalf("%s: %v %v, want %v", tt.name, got, err, tt.want)
		}
	}
	var n int
	if err := db.QueryRow(ctx, `select count(*) from api_key_nonces`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d nonces kept (%v), want 3", n, err)
	}
}
