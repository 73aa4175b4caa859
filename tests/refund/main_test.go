// Package refund drives refunds (退电) and reversals (冲正) of prepaid meters
// through the HTTP API on the real platform: PostgreSQL, the Temporal
// server, the worker process and meter simulators on real sockets.
package refund

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/voltflow/voltflow/activities/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

const dispatchWindow = 4 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("refund e2e: skipped in -short mode")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s, err := harness.Start(ctx, harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 3 * time.Second})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "refund e2e stack:", err)
		os.Exit(1)
	}
	stack = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// checkLedger is registered by every test: the invariant holds after each scenario.
func checkLedger(t *testing.T) {
	t.Cleanup(func() {
		if err := ledger.CheckInvariant(context.Background(), stack.DB); err != nil {
			t.Error(err)
		}
	})
}
