package envelope

import (
	"container/heap"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

// DefaultReplayWindow is the ±tolerance used when NewReplayGuard gets zero.
const DefaultReplayWindow = 5 * time.Minute

// DefaultReplayCapacity is the triple limit used when NewReplayGuard gets
// zero. A triple lives about one window, so this caps the sustained rate
// per guard at capacity/window: 2^22 over 5 minutes is ~14,000 requests a
// second, enough for a regulator taking 6,000 connectors' reports every
// 5 s (2,400 a second) with room to spare. Memory is per operator-second
// (a 1.25 KB bitset of Seqs), not per triple.
const DefaultReplayCapacity = 1 << 22

// ReplayGuard rejects requests whose TimeStamp is outside now±window and
// requests that repeat an (OperatorID, TimeStamp, Seq) triple inside it.
// A triple only needs remembering until its TimeStamp leaves the window, so
// the count is bounded by the request rate times the window, and hard-capped
// by capacity; the Seqs of one (OperatorID, TimeStamp) share a bitset, so
// memory is bounded by operators × seconds in the window. Safe for
// concurrent use.
//
// Check must only see requests whose signature has been verified; otherwise
// forged envelopes could fill the cache or pre-empt genuine Seq values.
type ReplayGuard struct {
	window   time.Duration
	capacity int
	clock    clock.Clock

	mu   sync.Mutex
	seen map[replayKey]*seqSet
	n    int // triples remembered
	exp  expiryHeap
}

// replayKey is one operator's second; its Seqs are a seqSet.
type replayKey struct{ operatorID, timeStamp string }

// seqSet holds Seqs 0000–9999, one bit each.
type seqSet [(9999 + 64) / 64]uint64

func (s *seqSet) has(n int) bool { return s[n/64]&(1<<(n%64)) != 0 }
func (s *seqSet) add(n int)      { s[n/64] |= 1 << (n % 64) }

// NewReplayGuard returns a guard accepting TimeStamps within ±window of
// the clock and remembering at most capacity triples. Zero or negative values
// select DefaultReplayWindow and DefaultReplayCapacity.
func NewReplayGuard(window time.Duration, capacity int, c clock.Clock) *ReplayGuard {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayGuard{window: window, capacity: capacity, clock: c, seen: make(map[replayKey]*seqSet)}
}

// Check records r and reports whether it may be processed. A TimeStamp
// outside the window or a repeated triple gives an *Error with RetEnvelope
// (4003: the signature is fine but TimeStamp/Seq are not acceptable),
// wrapping ErrStaleTimeStamp or ErrReplay. A full cache gives RetBusy
// wrapping ErrReplayCacheFull: failing closed keeps replays out, and -1
// tells the peer to retry later.
func (g *ReplayGuard) Check(r Request) error { return g.CheckWithin(r, 0) }

// CheckWithin is Check with the caller's own ±window (a regulator's
// setting); zero or negative means the guard's. A triple is remembered
// until its TimeStamp leaves the window it was accepted in.
func (g *ReplayGuard) CheckWithin(r Request, window time.Duration) error {
	if window <= 0 {
		window = g.window
	}
	if err := checkStamp(r.TimeStamp, r.Seq); err != nil {
		return err
	}
	ts, _ := ParseTimeStamp(r.TimeStamp) // validated by checkStamp
	now := g.clock.Now()
	if ts.Before(now.Add(-window)) || ts.After(now.Add(window)) {
		return &Error{Ret: RetEnvelope, Msg: "TimeStamp out of range",
			Err: fmt.Errorf("envelope: TimeStamp %s vs now %s: %w", r.TimeStamp, FormatTimeStamp(now), ErrStaleTimeStamp)}
	}

	seq, _ := strconv.Atoi(r.Seq) // 4 digits, validated by checkStamp
	k := replayKey{r.OperatorID, r.TimeStamp}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(now)
	set := g.seen[k]
	if set != nil && set.has(seq) {
		return &Error{Ret: RetEnvelope, Msg: "duplicate TimeStamp/Seq",
			Err: fmt.Errorf("envelope: %s/%s/%s: %w", r.OperatorID, r.TimeStamp, r.Seq, ErrReplay)}
	}
	if g.n >= g.capacity {
		return &Error{Ret: RetBusy, Err: fmt.Errorf("envelope: %d entries: %w", g.n, ErrReplayCacheFull)}
	}
	if set == nil {
		set = new(seqSet)
		g.seen[k] = set
		// Once now passes ts+window the window check alone rejects the triples.
		heap.Push(&g.exp, expiry{at: ts.Add(window), key: k})
	}
	set.add(seq)
	g.n++
	return nil
}

// Len reports how many triples are remembered, for metrics.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(g.clock.Now())
	return g.n
}

// prune forgets triples whose TimeStamp has left the window. Caller holds mu.
func (g *ReplayGuard) prune(now time.Time) {
	for len(g.exp) > 0 && g.exp[0].at.Before(now) {
		e := heap.Pop(&g.exp).(expiry)
		for _, w := range g.seen[e.key] {
			g.n -= bits.OnesCount64(w)
		}
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
