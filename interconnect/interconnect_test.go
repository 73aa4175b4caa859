package interconnect_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/interconnect"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func TestFromEnvDevAndProduction(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := pg.NewDB(t)
	t.Setenv(keys.EnvMasterKey, "")
	t.Setenv(keys.EnvMasterKeyFile, "")
	t.Setenv(interconnect.EnvRegulatorURL, "")

	// Dev: the demo credentials are seeded and the push goes to the simulator.
	t.Setenv(interconnect.EnvProduction, "")
	w, err := interconnect.FromEnv(ctx, db, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := w.Keys.Current(ctx, push.DefaultRegulator)
	if err != nil || !keys.IsDev(sec) || w.Client.BaseURL != "http://127.0.0.1:9400/shevcs/v1" {
		t.Fatalf("dev wiring: %v, %s", err, w.Client.BaseURL)
	}

	// Production refuses the dev master key …
	t.Setenv(interconnect.EnvProduction, "1")
	if _, err := interconnect.FromEnv(ctx, db, nil, log); err == nil || !strings.Contains(err.Error(), "dev master key") {
		t.Fatalf("production with dev master key: %v", err)
	}
	// … and the demo credentials, even under a real master key.
	real := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	t.Setenv(keys.EnvMasterKey, real)
	mk, _ := keys.NewMasterKey(real)
	st := &keys.Store{DB: db, Key: mk}
	if err := st.Put(ctx, push.DefaultRegulator, keys.DevSecrets(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := interconnect.FromEnv(ctx, db, nil, log); err == nil || !strings.Contains(err.Error(), "demo regulator credentials") {
		t.Fatalf("production with demo credentials: %v", err)
	}
	prod := keys.DevSecrets()
	prod.OperatorSecret, prod.DataSecret, prod.DataSecretIV, prod.SigSecret =
		"9f8e7d6c5b4a3921", "0f1e2d3c4b5a6978", "8796a5b4c3d2e1f0", "00112233445566778899aabbccddeeff"
	if err := st.Put(ctx, push.DefaultRegulator, prod, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := interconnect.FromEnv(ctx, db, nil, log); err != nil {
		t.Fatalf("production with real credentials: %v", err)
	}
}
