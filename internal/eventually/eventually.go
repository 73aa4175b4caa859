// Package eventually is how a test waits for something another goroutine or
// process makes happen: it polls the condition itself rather than sleeping
// a fixed time, so a test waits no longer than it must, does not fail on a
// slow machine because a sleep was too short, and says on timeout what it
// last saw.
package eventually

import (
	"testing"
	"time"
)

// Polling starts fast, for the unit tests whose conditions hold within
// milliseconds, and slows to maxInterval so that a long wait on a
// database or an HTTP API does not load the machine under test.
const (
	firstInterval = 5 * time.Millisecond
	maxInterval   = 100 * time.Millisecond
)

// True calls cond until it reports true, and fails t (Fatalf) when timeout
// passes first, naming what it waited for and the state cond reported last.
// cond runs on the caller's goroutine and may itself fail t. Call True from
// the test's goroutine, as with t.Fatal.
func True(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for interval := firstInterval; ; interval = min(2*interval, maxInterval) {
		ok, state := cond()
		if ok {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%s: not within %s (last: %s)", what, timeout, state)
			return
		}
		time.Sleep(min(interval, left))
	}
}
