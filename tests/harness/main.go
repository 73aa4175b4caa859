package harness

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Main is TestMain for an end-to-end package: it starts the stack (nothing
// in -short mode), stores it in *out, runs the tests and stops the stack.
func Main(m *testing.M, name string, o Options, out **Stack) {
	flag.Parse()
	if testing.Short() {
		fmt.Println(name + " e2e: skipped in -short mode")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s, err := Start(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+" e2e stack:", err)
		os.Exit(1)
	}
	*out = s
	code := m.Run()
	if dir := os.Getenv(RecordEnv); dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := s.recordHistories(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, name+" e2e: record histories:", err)
			code = 1
		}
		cancel()
	}
	s.Stop()
	os.Exit(code)
}

// CheckLedger makes the test end by checking the ledger invariant: every
// entry sums to zero and every balance equals its postings.
func (s *Stack) CheckLedger(t *testing.T) {
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), s.DB); err != nil {
			t.Error(err)
		}
	})
}
