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

// UpdateTimeout is how long a decision waits for the worker before 503
// (TestDecisionWithoutWorkerIs503 waits it out): 3 s was not always enough
// for a live worker on a loaded 2-core CI machine.
func TestMain(m *testing.M) {
	harness.Main(m, "recharge", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 10 * time.Second}, &stack)
}
