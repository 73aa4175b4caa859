package modbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/devices/simulator"
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

// TestInteractiveWriteGoesBeforeQueuedReads: on a gateway busy with bulk
// reads (three readers of every meter, each window 16 requests of 20 ms),
// a command marked Interactive is on the wire before any read window that
// was waiting when it came.
func TestInteractiveWriteGoesBeforeQueuedReads(t *testing.T) {
	f, err := simulator.NewFleet(simulator.Config{Addr: "127.0.0.1:0", Meters: 32, Latency: 20 * time.Millisecond,
		Meter: simulator.MeterConfig{Remaining: 10_000, UnitPrice: 6000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Stop() }()
	p, err := profile.Load(profile.RefPrepaidV1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{URL: f.Gateway(0).URL(), Profile: p, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	units := make([]uint8, 32)
	for i := range units {
		units[i] = uint8(i + 1)
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() { defer readers.Done(); g.ReadMeters(t.Context(), units) }()
	}
	defer readers.Wait()
	queued := func(cond func(urgent, bulk int) bool) {
		eventually.True(t, 10*time.Second, "waiters", func() (bool, string) {
			g.turn.mu.Lock()
			defer g.turn.mu.Unlock()
			return cond(len(g.turn.urgent), len(g.turn.bulk)), fmt.Sprintf("%d urgent, %d bulk", len(g.turn.urgent), len(g.turn.bulk))
		})
	}
	queued(func(_, bulk int) bool { return bulk >= 2 })

	// The bulk windows waiting once the command has queued: none of them
	// may have gone before the command's write.
	var waiting []chan struct{}
	overtaken := make(chan int, 1)
	f.Gateway(0).OnWrite(func(uint8, time.Time) {
		g.turn.mu.Lock()
		defer g.turn.mu.Unlock()
		n := 0
		for _, ch := range waiting {
			if !slices.Contains(g.turn.bulk, ch) {
				n++
			}
		}
		overtaken <- n
	})
	done := make(chan error, 1)
	go func() { done <- g.SwitchOff(Interactive(t.Context()), 5) }()
	// Taken with the command seen waiting, under the lane's lock: the
	// write cannot have happened yet.
	queued(func(urgent, _ int) bool {
		waiting = slices.Clone(g.turn.bulk)
		return urgent == 1
	})
	if len(waiting) == 0 {
		t.Fatal("no bulk window waiting next to the command")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := <-overtaken; n != 0 {
		t.Fatalf("%d of the %d read windows waiting with the command went first", n, len(waiting))
	}
}
