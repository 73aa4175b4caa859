package ocpp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
)

// idle is a Handler no charge point ever reaches in this test.
type idle struct{ Handler }

// Ctrl-C of `make run` ends the server's context and then runs its owner's
// cleanup: both close the server, and the second close must not panic
// (it did, leaving Temporal and PostgreSQL running).
func TestCloseAfterContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Listen(ctx, Options{Addr: "127.0.0.1:0", Handler: idle{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// At once: ocpp-go's own dispatcher panicked on a Stop before its
	// asynchronous start; ours (dispatcher.go) does not.
	cancel()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("server still running after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// slowGone is memHandler whose Disconnected takes a while, as a database
// write does under load.
type slowGone struct {
	memHandler
	recorded atomic.Int64
}

func (h *slowGone) Disconnected(ctx context.Context, id string) {
	time.Sleep(300 * time.Millisecond)
	h.recorded.Add(1)
}

// Closing the server drops every charge point; their Disconnected calls
// (connectors offline, the Offline fault) must finish before Close
// returns, or the owner closes the database under them ("closed pool" at
// every Ctrl-C of make run).
func TestCloseWaitsForDisconnects(t *testing.T) {
	const n = 6
	h := &slowGone{}
	s, err := Listen(context.Background(), Options{Addr: "127.0.0.1:0", Handler: h,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	within(t, 30*time.Second, "connect", func() error {
		for i := range n {
			if _, err := dialCP(ctx, s.URL(), fmt.Sprintf("CP%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	eventually.True(t, 30*time.Second, "every charger connected", func() (bool, string) {
		c := h.connected.Load()
		return c == n, fmt.Sprint(c, " connected")
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := h.recorded.Load(); got != n {
		t.Fatalf("Close returned with %d of %d disconnects recorded", got, n)
	}
}
