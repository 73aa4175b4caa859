package envelope

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/clock"
)

func mustParse(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := ParseTimeStamp(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestTimeStampFormat(t *testing.T) {
	utc := time.Date(2018, 1, 20, 8, 57, 55, 999, time.UTC)
	if got := FormatTimeStamp(utc); got != vecTimeStamp {
		t.Fatalf("FormatTimeStamp = %s (want Beijing time)", got)
	}
	if got := mustParse(t, vecTimeStamp); !got.Equal(utc.Truncate(time.Second)) {
		t.Fatalf("ParseTimeStamp = %v", got)
	}
	for _, bad := range []string{"", "2018012016575", "201801201657555", "2018012016575x", "20180120 65755", "20180132165755", "20180120245755", "+0180120165755"} {
		if _, err := ParseTimeStamp(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTimeStamp(%q) = %v", bad, err)
		}
	}
}

func TestSeqGenerator(t *testing.T) {
	clk := clock.NewFake(mustParse(t, vecTimeStamp).Add(300 * time.Millisecond))
	g := NewSeqGenerator(clk.Clock())
	next := func() Stamp {
		t.Helper()
		st, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := next(); st != (Stamp{vecTimeStamp, "0001"}) {
		t.Fatalf("first = %+v", st)
	}
	if st := next(); st != (Stamp{vecTimeStamp, "0002"}) {
		t.Fatalf("second = %+v", st)
	}
	clk.Set(clk.Now().Add(time.Second))
	if st := next(); st != (Stamp{"20180120165756", "0001"}) {
		t.Fatalf("new second = %+v", st)
	}
	// A backwards clock step keeps the last second instead of reusing Seqs.
	clk.Set(clk.Now().Add(-10 * time.Second))
	if st := next(); st != (Stamp{"20180120165756", "0002"}) {
		t.Fatalf("after step back = %+v", st)
	}
	for i := 3; i <= 9999; i++ {
		next()
	}
	_, err := g.Next()
	if RetOf(err) != RetBusy || !errors.Is(err, ErrSeqExhausted) {
		t.Fatalf("exhausted: %v", err)
	}
	clk.Set(mustParse(t, "20180120165757"))
	if st := next(); st != (Stamp{"20180120165757", "0001"}) {
		t.Fatalf("after exhaustion = %+v", st)
	}
}

func TestSeqGeneratorZeroValue(t *testing.T) {
	var g SeqGenerator
	st, err := g.Next()
	if err != nil || st.Seq != "0001" {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := ParseTimeStamp(st.TimeStamp); err != nil {
		t.Fatal(err)
	}
}

func TestSeqGeneratorConcurrent(t *testing.T) {
	clk := clock.NewFake(mustParse(t, vecTimeStamp))
	g := NewSeqGenerator(clk.Clock())
	const workers, per = 8, 500
	var (
		mu   sync.Mutex
		seen = map[Stamp]bool{}
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				if w == 0 && i == per/2 {
					clk.Set(clk.Now().Add(time.Second))
				}
				st, err := g.Next()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[st] {
					t.Errorf("duplicate %+v", st)
				}
				seen[st] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*per {
		t.Fatalf("%d stamps", len(seen))
	}
}
