// Package metercmd drives remote meter commands end to end: HTTP API →
// Temporal workflow → device activity → simulated meter over Modbus TCP →
// read back → PostgreSQL, with a real Temporal server and PostgreSQL.
package metercmd

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

// dispatchWindow is short so dead meters fail within seconds.
const dispatchWindow = 3 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("metercmd e2e: skipped in -short mode")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s, err := harness.Start(ctx, harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 3 * time.Second})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "metercmd e2e stack:", err)
		os.Exit(1)
	}
	stack = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}
