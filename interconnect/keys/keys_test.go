package keys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestMasterKeyFromEnv(t *testing.T) {
	t.Setenv(keys.EnvMasterKey, "")
	t.Setenv(keys.EnvMasterKeyFile, "")
	mk, err := keys.MasterKeyFromEnv()
	if err != nil || !mk.Dev {
		t.Fatalf("default key: %v, dev %v", err, mk != nil && mk.Dev)
	}
	t.Setenv(keys.EnvMasterKey, testKey)
	if mk, err = keys.MasterKeyFromEnv(); err != nil || mk.Dev {
		t.Fatalf("env key: %v, dev %v", err, mk.Dev)
	}
	if strings.Contains(fmt.Sprint(mk), "0102") {
		t.Fatalf("key printed: %v", mk)
	}
	t.Setenv(keys.EnvMasterKey, "short")
	if _, err := keys.MasterKeyFromEnv(); err == nil {
		t.Fatal("short key accepted")
	}
}

func secrets(op, s string) envelope.Secrets {
	return envelope.Secrets{OperatorID: op, OperatorSecret: s, DataSecret: s, DataSecretIV: s, SigSecret: s}
}

func TestSealedAtRestAndRotation(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	mk, err := keys.NewMasterKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := &keys.Store{DB: db, Key: mk, Clock: clock.Func(func() time.Time { return now })}
	old := secrets("123456789", "aaaaaaaaaaaaaaaa")
	if err := st.Put(ctx, "shenzhen", old, 0); err != nil {
		t.Fatal(err)
	}
	// At rest only ciphertext: no secret appears in the row.
	var box []byte
	if err := db.QueryRow(ctx, `select sealed from regulator_credentials`).Scan(&box); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, []byte("aaaaaaaaaaaaaaaa")) {
		t.Fatal("secret stored in clear")
	}
	// Another master key cannot open it.
	other, _ := keys.NewMasterKey(strings.Repeat("ff", 32))
	if _, err := (&keys.Store{DB: db, Key: other, Clock: st.Clock}).Current(ctx, "shenzhen"); err == nil {
		t.Fatal("opened with the wrong master key")
	}

	// Rotation with a one-hour overlap: both open, the new one seals.
	now = now.Add(time.Minute)
	fresh := secrets("123456789", "bbbbbbbbbbbbbbbb")
	if err := st.Put(ctx, "shenzhen", fresh, time.Hour); err != nil {
		t.Fatal(err)
	}
	cur, err := st.Current(ctx, "shenzhen")
	if err != nil || cur.SigSecret != fresh.SigSecret {
		t.Fatalf("current after rotation: %v", err)
	}
	valid, err := st.Valid(ctx, "123456789")
	if err != nil || len(valid) != 2 {
		t.Fatalf("valid during overlap: %d, %v", len(valid), err)
	}
	now = now.Add(61 * time.Minute)
	if valid, err = st.Valid(ctx, "123456789"); err != nil || len(valid) != 1 || valid[0].SigSecret != fresh.SigSecret {
		t.Fatalf("valid after overlap: %d, %v", len(valid), err)
	}
	if _, err := st.Valid(ctx, "999999999"); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("unknown operator: %v", err)
	}
	if !keys.IsDev(keys.DevSecrets()) || keys.IsDev(fresh) {
		t.Fatal("IsDev")
	}
}
