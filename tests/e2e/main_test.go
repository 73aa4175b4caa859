// Package e2e drives the whole platform through its HTTP API, with a real
// Temporal server, a real PostgreSQL and meter simulators on real sockets.
package e2e

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

const dispatchWindow = 4 * time.Second

func TestMain(m *testing.M) {
	harness.Main(m, "recharge", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 3 * time.Second}, &stack)
}
