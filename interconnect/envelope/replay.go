package envelope

import (
	"container/heap"
	"fmt"
	"sync"
	"time"
)

// DefaultReplayWindow is the ±tolerance used when NewReplayGuard gets zero.
const DefaultReplayWindow = 5 * time.Minute

// DefaultReplayCapacity is the entry limit used when NewReplayGuard gets zero.
const DefaultReplayCapacity = 1 << 16

// ReplayGuard rejects requests whose TimeStamp is outside now±window and
// requests that repeat an (OperatorID, TimeStamp, Seq) triple inside it.
// A triple only needs remembering until its TimeStamp leaves the window, so
// memory is bounded by the request rate times the window, and hard-capped
// by capacity. Safe for concurrent use.
//
// Check must only see requests whose signature has been verified; otherwise
// forged envelopes could fill the cache or pre-empt genuine Seq values.
type ReplayGuard struct {
	window   time.Duration
	capacity int
	now      func() time.Time

	mu   sync.Mutex
	seen map[replayKey]struct{}
	exp  expiryHeap
}

type replayKey struct{ operatorID, timeStamp, seq string }

// NewReplayGuard returns a guard accepting TimeStamps within ±window of
// now() and remembering at most capacity triples. Zero or negative values
// select DefaultReplayWindow and DefaultReplayCapacity; nil now is time.Now.
func NewReplayGuard(window time.Duration, capacity int, now func() time.Time) *ReplayGuard {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	if now == nil {
		now = time.Now
	}
	return &ReplayGuard{window: window, capacity: capacity, now: now, seen: make(map[replayKey]struct{})}
}

// Check records r and reports whether it may be processed. A TimeStamp
// outside the window or a repeated triple gives an *Error with RetEnvelope
// (4003: the signature is fine but TimeStamp/Seq are not acceptable),
// wrapping ErrStaleTimeStamp or ErrReplay. A full cache gives RetBusy
// wrapping ErrReplayCacheFull: failing closed keeps replays out, and -1
// tells the peer to retry later.
func (g *ReplayGuard) Check(r Request) error {
	if err := checkStamp(r.TimeStamp, r.Seq); err != nil {
		return err
	}
	ts, _ := ParseTimeStamp(r.TimeStamp) // validated by checkStamp
	now := g.now()
	if ts.Before(now.Add(-g.window)) || ts.After(now.Add(g.window)) {
		return &Error{Ret: RetEnvelope, Msg: "TimeStamp out of range",
			Err: fmt.Errorf("envelope: TimeStamp %s vs now %s: %w", r.TimeStamp, FormatTimeStamp(now), ErrStaleTimeStamp)}
	}

	k := replayKey{r.OperatorID, r.TimeStamp, r.Seq}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(now)
	if _, dup := g.seen[k]; dup {
		return &Error{Ret: RetEnvelope, Msg: "duplicate TimeStamp/Seq",
			Err: fmt.Errorf("envelope: %s/%s/%s: %w", r.OperatorID, r.TimeStamp, r.Seq, ErrReplay)}
	}
	if len(g.seen) >= g.capacity {
		return &Error{Ret: RetBusy, Err: fmt.Errorf("envelope: %d entries: %w", len(g.seen), ErrReplayCacheFull)}
	}
	g.seen[k] = struct{}{}
	// Once now passes ts+window the window check alone rejects the triple.
	heap.Push(&g.exp, expiry{at: ts.Add(g.window), key: k})
	return nil
}

// Len reports how many triples are remembered, for metrics.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(g.now())
	return len(g.seen)
}

// prune forgets triples whose TimeStamp has left the window. Caller holds mu.
func (g *ReplayGuard) prune(now time.Time) {
	for len(g.exp) > 0 && g.exp[0].at.Before(now) {
		e := heap.Pop(&g.exp).(expiry)
		delete(g.seen, e.key)
	}
}

type expiry struct {
	at  time.Time
	key replayKey
}

// expiryHeap is a min-heap on expiry time, so pruning is O(log n) per entry
// even though TimeStamps arrive out of order.
type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiry{}
	*h = old[:len(old)-1]
	return e
}
