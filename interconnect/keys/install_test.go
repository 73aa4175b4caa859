package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/internal/clock"
)

func TestReadSecrets(t *testing.T) {
	want := "Secrets{OperatorID: 987654321"
	for _, tt := range []struct {
		name, in string
		ok       bool
	}{
		{"json", `{"operatorSecret":"os-1","dataSecret":"0123456789abcdef","dataSecretIV":"fedcba9876543210","sigSecret":"sig"}`, true},
		{"json in the standard's case", `{"OperatorSecret":"os-1","DataSecret":"0123456789abcdef","DataSecretIV":"fedcba9876543210","SigSecret":"sig"}`, true},
		{"lines", "os-1\n0123456789abcdef\nfedcba9876543210\nsig\n", true},
		{"named lines", "OperatorSecret=os-1\r\nDataSecret=0123456789abcdef\r\nDataSecretIV=fedcba9876543210\r\nSigSecret=sig=x\r\n", true},
		{"three lines", "os-1\n0123456789abcdef\nfedcba9876543210\n", false},
		{"five lines", "os-1\n0123456789abcdef\nfedcba9876543210\nsig\nmore\n", false},
		{"short data secret", "os-1\nshort\nfedcba9876543210\nsig\n", false},
		{"no operator secret", `{"dataSecret":"0123456789abcdef","dataSecretIV":"fedcba9876543210","sigSecret":"sig"}`, false},
		{"bad json", `{"operatorSecret":`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := keys.ReadSecrets(strings.NewReader(tt.in), "987654321")
			if tt.ok != (err == nil) {
				t.Fatalf("ReadSecrets: %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				if !errors.Is(err, keys.ErrInvalid) {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				return
			}
			if sec.OperatorSecret != "os-1" || sec.DataSecret != "0123456789abcdef" || sec.DataSecretIV != "fedcba9876543210" ||
				!strings.HasPrefix(sec.SigSecret, "sig") || !strings.HasPrefix(sec.String(), want) {
				t.Errorf("read %#v", sec)
			}
		})
	}
}

// TestInstallRotatesWithOverlap: an installed set is current at once; the
// older set (even of another OperatorID) opens requests until the overlap
// ends; List shows fingerprints, never a secret.
func TestInstallRotatesWithOverlap(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	mk, _ := keys.NewMasterKey(testKey)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	st := &keys.Store{DB: db, Key: mk, Clock: clock.Func(func() time.Time { return now })}
	if err := st.Install(ctx, "shenzhen", keys.DevSecrets(), time.Hour); err != nil {
		t.Fatal(err)
	}
	issued := secrets("987654321", "0f1e2d3c4b5a6978")
	now = now.Add(time.Minute)
	if err := st.Install(ctx, "shenzhen", issued, time.Hour); err != nil {
		t.Fatal(err)
	}
	if cur, err := st.Current(ctx, "shenzhen"); err != nil || cur.OperatorID != "987654321" {
		t.Fatalf("current %v %v", cur, err)
	}
	if old, err := st.Valid(ctx, "123456789"); err != nil || len(old) != 1 {
		t.Fatalf("old set within the overlap: %v %v", old, err)
	}
	list, err := st.List(ctx, "shenzhen")
	if err != nil || len(list) != 2 || list[0].OperatorID != "987654321" || list[0].ValidUntil != nil ||
		list[1].ValidUntil == nil || !list[1].ValidUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("list %+v %v", list, err)
	}
	for _, in := range list {
		for name, fp := range in.Fingerprints {
			if len(fp) != 16 || strings.Contains(fp, "0f1e2d3c") || strings.Contains(fp, "1234567890") {
				t.Errorf("%s fingerprint %q", name, fp)
			}
		}
		if len(in.Fingerprints) != 4 {
			t.Errorf("fingerprints %v", in.Fingerprints)
		}
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := st.Valid(ctx, "123456789"); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("old set after the overlap: %v", err)
	}
	if list, _ := st.List(ctx, "shenzhen"); len(list) != 1 {
		t.Fatalf("after the overlap %+v", list)
	}
	if err := st.Install(ctx, "shenzhen", secrets("987654321", "short"), 0); !errors.Is(err, keys.ErrInvalid) {
		t.Fatalf("short secret installed: %v", err)
	}
}
