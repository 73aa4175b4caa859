package envelope

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

func TestReplayGuard(t *testing.T) {
	base := mustParse(t, vecTimeStamp)
	clk := clock.NewFake(base)
	g := NewReplayGuard(5*time.Minute, 0, clk.Clock())
	req := func(op string, at time.Time, seq string) Request {
		return Request{OperatorID: op, TimeStamp: FormatTimeStamp(at), Seq: seq}
	}

	tests := []struct {
		name  string
		r     Request
		ret   Ret
		cause error
	}{
		{"fresh", req("A", base, "0001"), RetOK, nil},
		{"replay", req("A", base, "0001"), RetEnvelope, ErrReplay},
		{"other Seq", req("A", base, "0002"), RetOK, nil},
		{"other operator", req("B", base, "0001"), RetOK, nil},
		{"edge past", req("A", base.Add(-5*time.Minute), "0001"), RetOK, nil},
		{"edge future", req("A", base.Add(5*time.Minute), "0001"), RetOK, nil},
		{"too old", req("A", base.Add(-5*time.Minute-time.Second), "0001"), RetEnvelope, ErrStaleTimeStamp},
		{"too new", req("A", base.Add(5*time.Minute+time.Second), "0001"), RetEnvelope, ErrStaleTimeStamp},
		{"bad TimeStamp", Request{OperatorID: "A", TimeStamp: "x", Seq: "0001"}, RetEnvelope, ErrMalformed},
		{"bad Seq", Request{OperatorID: "A", TimeStamp: vecTimeStamp, Seq: "1"}, RetEnvelope, ErrMalformed},
	}
	for _, tt := range tests {
		err := g.Check(tt.r)
		if RetOf(err) != tt.ret || (tt.cause != nil && !errors.Is(err, tt.cause)) {
			t.Errorf("%s: err = %v, want Ret %v cause %v", tt.name, err, tt.ret, tt.cause)
		}
	}
	if g.Len() != 5 {
		t.Fatalf("Len = %d", g.Len())
	}

	// Entries are forgotten once their TimeStamp leaves the window; the
	// window check alone then rejects a replay.
	clk.Set(base.Add(5*time.Minute + time.Second))
	if n := g.Len(); n != 1 { // only "edge future" is still inside
		t.Fatalf("Len after expiry = %d", n)
	}
	if err := g.Check(req("A", base, "0001")); !errors.Is(err, ErrStaleTimeStamp) {
		t.Fatalf("expired replay: %v", err)
	}
	if err := g.Check(req("A", base.Add(5*time.Minute), "0001")); !errors.Is(err, ErrReplay) {
		t.Fatalf("live replay: %v", err)
	}
}

func TestReplayGuardCapacity(t *testing.T) {
	base := mustParse(t, vecTimeStamp)
	clk := clock.NewFake(base)
	g := NewReplayGuard(time.Minute, 3, clk.Clock())
	for i := 1; i <= 3; i++ {
		if err := g.Check(Request{OperatorID: "A", TimeStamp: vecTimeStamp, Seq: fmt.Sprintf("%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	err := g.Check(Request{OperatorID: "A", TimeStamp: vecTimeStamp, Seq: "0004"})
	if RetOf(err) != RetBusy || !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("full: %v", err)
	}
	// Fails closed: a known replay is still a replay when full.
	if err := g.Check(Request{OperatorID: "A", TimeStamp: vecTimeStamp, Seq: "0001"}); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay when full: %v", err)
	}
	clk.Set(base.Add(time.Minute + time.Second))
	now := FormatTimeStamp(clk.Now())
	if err := g.Check(Request{OperatorID: "A", TimeStamp: now, Seq: "0004"}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if g.Len() != 1 {
		t.Fatalf("Len = %d", g.Len())
	}
}

func TestReplayGuardConcurrent(t *testing.T) {
	clk := clock.NewFake(mustParse(t, vecTimeStamp))
	g := NewReplayGuard(0, 0, clk.Clock())
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	// Eight goroutines race the same 100 triples: each must pass exactly once.
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				if g.Check(Request{OperatorID: "A", TimeStamp: vecTimeStamp, Seq: fmt.Sprintf("%04d", i)}) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if ok != 100 {
		t.Fatalf("%d accepted, want 100", ok)
	}
}

func TestReplayGuardAfterOpen(t *testing.T) {
	// The intended server flow: open (authenticates), then check replay.
	c := mustCodec(t, vecSecrets())
	g := NewReplayGuard(5*time.Minute, 0, clock.Fixed(mustParse(t, vecTimeStamp)))
	body := mustJSON(t, vecRequest())
	for i, want := range []error{nil, ErrReplay} {
		r, err := c.OpenRequest(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Check(r); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
}
