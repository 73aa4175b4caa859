package modbus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
)

// queued waits until the lane has n interactive and m bulk waiters.
func queued(t *testing.T, l *lane, n, m int) {
	t.Helper()
	eventually.True(t, 5*time.Second, fmt.Sprintf("%d interactive and %d bulk waiting", n, m), func() (bool, string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.urgent) == n && len(l.bulk) == m, fmt.Sprintf("%d and %d", len(l.urgent), len(l.bulk))
	})
}

func TestLaneServesInteractiveWaitersFirst(t *testing.T) {
	var l lane
	if err := l.acquire(t.Context(), false, nil); err != nil { // a sweep's window on the wire
		t.Fatal(err)
	}
	order := make(chan string, 4)
	wait := func(name string, interactive bool) {
		go func() {
			if err := l.acquire(context.Background(), interactive, nil); err != nil {
				order <- err.Error()
				return
			}
			order <- name
			l.release()
		}()
	}
	// Two bulk windows queue first, then two commands.
	wait("bulk 1", false)
	queued(t, &l, 0, 1)
	wait("bulk 2", false)
	queued(t, &l, 0, 2)
	wait("command 1", true)
	queued(t, &l, 1, 2)
	wait("command 2", true)
	queued(t, &l, 2, 2)
	l.release()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	want := []string{"command 1", "command 2", "bulk 1", "bulk 2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("served %v, want %v", got, want)
	}
	if err := l.acquire(t.Context(), false, nil); err != nil { // free again
		t.Fatal(err)
	}
}

func TestLaneWaiterGivesUp(t *testing.T) {
	var l lane
	if err := l.acquire(t.Context(), false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stop := make(chan struct{})
	errs := make(chan error, 2)
	go func() { errs <- l.acquire(ctx, true, nil) }()
	go func() { errs <- l.acquire(t.Context(), false, stop) }()
	queued(t, &l, 1, 1)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(stop)
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Fatalf("stopped waiter: %v", err)
	}
	queued(t, &l, 0, 0)
	l.release()
	if err := l.acquire(t.Context(), false, nil); err != nil { // the turn was not lost
		t.Fatal(err)
	}
}
