package modbus

import (
	"context"
	"sync"
)

// Interactive marks ctx as work someone is waiting for (an operator's
// command, a sale): on a gateway's connection its requests go before the
// bulk requests queued there — a sweep's reads, a batch's commands — so
// they wait for at most the exchange on the wire, not for the queue.
func Interactive(ctx context.Context) context.Context {
	return context.WithValue(ctx, interactiveKey{}, true)
}

type interactiveKey struct{}

func isInteractive(ctx context.Context) bool {
	v, _ := ctx.Value(interactiveKey{}).(bool)
	return v
}

// lane is the turn on a gateway's one connection: one holder at a time;
// waiters are served first come, first served, interactive ones before
// the rest. (A channel of one token served everyone in one queue.)
type lane struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{} // interactive waiters, oldest first
	bulk   []chan struct{}
}

// acquire waits for the turn; it gives up when ctx or stop is done first.
func (l *lane) acquire(ctx context.Context, interactive bool, stop <-chan struct{}) error {
	l.mu.Lock()
	if !l.held {
		l.held = true
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if interactive {
		l.urgent = append(l.urgent, ch)
	} else {
		l.bulk = append(l.bulk, ch)
	}
	l.mu.Unlock()
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-stop:
		err = ErrClosed
	}
	l.mu.Lock()
	if remove(&l.urgent, ch) || remove(&l.bulk, ch) {
		l.mu.Unlock()
		return err
	}
	l.mu.Unlock()
	// Handed the turn while giving up: pass it on.
	<-ch
	l.release()
	return err
}

// release hands the turn to the next waiter, or frees it.
func (l *lane) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, q := range []*[]chan struct{}{&l.urgent, &l.bulk} {
		if len(*q) > 0 {
			next := (*q)[0]
			*q = (*q)[1:]
			close(next) // the turn passes on held
			return
		}
	}
	l.held = false
}

func remove(q *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *q {
		if c == ch {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}
