package ocpp

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
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
