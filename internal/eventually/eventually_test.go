package eventually_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
)

// recorder is a testing.TB that keeps the failure instead of ending the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestTrue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		holdsAt   int // the call on which cond first holds; 0: never
		timeout   time.Duration
		wantCalls int    // exactly, when holdsAt > 0
		wantFail  string // substring of the failure; "" for none
	}{
		{name: "holds at once", holdsAt: 1, timeout: time.Second, wantCalls: 1},
		{name: "holds on the fourth look", holdsAt: 4, timeout: 5 * time.Second, wantCalls: 4},
		{name: "never holds", timeout: 150 * time.Millisecond,
			wantFail: "the thing: not within 150ms (last: look "},
		{name: "zero timeout still looks once", timeout: 0, wantFail: "(last: look 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			calls := 0
			began := time.Now()
			eventually.True(r, tc.timeout, "the thing", func() (bool, string) {
				calls++
				return calls == tc.holdsAt, fmt.Sprintf("look %d", calls)
			})
			took := time.Since(began)
			if tc.wantFail == "" {
				if r.failed != "" || calls != tc.wantCalls {
					t.Fatalf("failed %q after %d calls; want success after %d", r.failed, calls, tc.wantCalls)
				}
				return
			}
			if !strings.Contains(r.failed, tc.wantFail) {
				t.Fatalf("failure %q, want it to contain %q", r.failed, tc.wantFail)
			}
			// It gave up at the deadline, not before, and reported the last look.
			if took < tc.timeout || !strings.HasSuffix(r.failed, fmt.Sprintf("look %d)", calls)) {
				t.Fatalf("gave up after %v and %d calls with %q", took, calls, r.failed)
			}
		})
	}
}
