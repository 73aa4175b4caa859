package regsim_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voltflow/voltflow/interconnect/envelope"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/interconnect/regclient"
	"github.com/voltflow/voltflow/interconnect/regsim"
	"github.com/voltflow/voltflow/internal/clock"
	"github.com/voltflow/voltflow/internal/eventually"
)

func start(t *testing.T, ttl time.Duration) *regsim.Sim {
	t.Helper()
	s, err := regsim.Start(regsim.Config{Addr: "127.0.0.1:0", Secrets: keys.DevSecrets(), TokenTTL: ttl,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func client(s *regsim.Sim, sec envelope.Secrets) *regclient.Client {
	return &regclient.Client{BaseURL: s.URL(), HTTP: &http.Client{Timeout: 2 * time.Second},
		Secrets: func(context.Context) (envelope.Secrets, error) { return sec, nil }}
}

type status struct{ Status int }

func TestPushModes(t *testing.T) {
	s := start(t, time.Hour)
	c := client(s, keys.DevSecrets())
	ctx := context.Background()
	payload := map[string]any{"ConnectorStatusInfo": map[string]any{"ConnectorID": "x", "Status": 1}}

	var ans status
	if err := c.Call(ctx, "notification_stationStatus", payload, &ans); err != nil || ans.Status != 0 {
		t.Fatalf("ok mode: %v %+v", err, ans)
	}
	got := s.Received("notification_stationStatus")
	if len(got) != 1 || !strings.Contains(string(got[0].Data), `"ConnectorID":"x"`) {
		t.Fatalf("recorded %+v", got)
	}

	for _, m := range []regsim.Mode{regsim.ModeBusy, regsim.ModeError, regsim.ModeRefuse} {
		if err := s.SetMode(m, 0); err != nil {
			t.Fatal(err)
		}
		err := c.Call(ctx, "notification_stationStatus", payload, &ans)
		if !errors.Is(err, regclient.ErrRetryable) {
			t.Fatalf("%s: err %v, want retryable", m, err)
		}
	}
	// Back on the same port after refusing.
	if err := s.SetMode(regsim.ModeDrop, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "notification_stationStatus", payload, &ans); err != nil || ans.Status != 1 {
		t.Fatalf("drop mode: %v %+v", err, ans)
	}
	// A timed outage ends by itself.
	if err := s.SetMode(regsim.ModeBusy, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, "the timed outage ends", func() (bool, string) {
		m := s.Mode()
		return m == regsim.ModeOK, "mode " + string(m)
	})
	if n := len(s.Received("")); n != 2 {
		t.Fatalf("%d pushes recorded, want 2", n)
	}
}

func TestWrongSecretsAreFinal(t *testing.T) {
	s := start(t, time.Hour)
	bad := keys.DevSecrets()
	bad.SigSecret = "fedcba0987654321"
	err := client(s, bad).Call(context.Background(), "notification_stationStatus", map[string]int{"x": 1}, nil)
	if !errors.Is(err, regclient.ErrRejected) || envelope.RetOf(err) != envelope.RetSignature {
		t.Fatalf("bad SigSecret: %v", err)
	}
	wrong := keys.DevSecrets()
	wrong.OperatorSecret = "0000000000000000"
	err = client(s, wrong).Call(context.Background(), "notification_stationStatus", map[string]int{"x": 1}, nil)
	if !errors.Is(err, regclient.ErrRetryable) || !strings.Contains(err.Error(), "FailReason 2") {
		t.Fatalf("bad OperatorSecret: %v", err)
	}
}

// TestTokenRefresh: the client renews before expiry, and a token the
// regulator forgot (4002) is replaced on the next attempt.
func TestTokenRefresh(t *testing.T) {
	s := start(t, 4*time.Second)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	c := client(s, keys.DevSecrets())
	c.Clock = clock.Func(func() time.Time { return time.Unix(0, now.Load()) })
	c.RefreshBefore = time.Second
	ctx := context.Background()
	codec, _ := envelope.NewCodec(keys.DevSecrets())
	t1, err := c.Token(ctx, codec, keys.DevSecrets())
	if err != nil {
		t.Fatal(err)
	}
	if t2, _ := c.Token(ctx, codec, keys.DevSecrets()); t2 != t1 {
		t.Fatal("token not reused")
	}
	// 3.1 s later the 4 s token is within its last second: renewed.
	now.Add(int64(3100 * time.Millisecond))
	t3, err := c.Token(ctx, codec, keys.DevSecrets())
	if err != nil || t3 == t1 {
		t.Fatalf("token not refreshed before expiry: %v", err)
	}
	s.ExpireTokens()
	err = c.Call(ctx, "notification_stationStatus", map[string]int{"x": 1}, nil)
	if !errors.Is(err, regclient.ErrRetryable) || envelope.RetOf(err) != envelope.RetToken {
		t.Fatalf("forgotten token: %v", err)
	}
	if err := c.Call(ctx, "notification_stationStatus", map[string]int{"x": 1}, nil); err != nil {
		t.Fatalf("after 4002 the next call should fetch a new token: %v", err)
	}
	if s.Rejected(envelope.RetToken) != 1 {
		t.Fatalf("4002 answered %d times", s.Rejected(envelope.RetToken))
	}
}
