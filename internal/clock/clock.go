// Package clock is the one time source for code outside workflows (workflows
// use workflow.Now). Activities, stores, servers and clients take a Clock so
// tests and simulators can set or speed up time; the zero Clock is the real
// clock, so production code leaves the field unset.
//
// It lives in internal/ rather than domain/ because it is not a business rule,
// but it does no I/O and imports only time and sync, so domain/ may import it.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. The zero Clock is the real clock (time.Now).
//
// It is a small struct rather than an interface so that an unset field means
// the real clock without a nil check at every caller; anything with a
// Now() time.Time method (a *Fake, a simulator's accelerated clock) becomes a
// Clock through Func(x.Now).
type Clock struct {
	now func() time.Time
}

// Now is the current time on c.
func (c Clock) Now() time.Time {
	if c.now == nil {
		return time.Now()
	}
	return c.now()
}

// Func is a Clock reading f; a nil f is the real clock.
func Func(f func() time.Time) Clock { return Clock{now: f} }

// Fixed is a Clock stopped at t.
func Fixed(t time.Time) Clock { return Clock{now: func() time.Time { return t }} }

// Fake is a settable clock for tests, safe for concurrent use. Its zero value
// reads the zero time until Set.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a Fake at t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now is the time last set.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// Clock is f as a Clock.
func (f *Fake) Clock() Clock { return Func(f.Now) }
