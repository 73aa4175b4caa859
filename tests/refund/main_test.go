// Package refund drives refunds (退电) and reversals (冲正) of prepaid meters
// through the HTTP API on the real platform: PostgreSQL, the Temporal
// server, the worker process and meter simulators on real sockets.
package refund

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

const dispatchWindow = 4 * time.Second

// UpdateTimeout is how long a decision waits for the worker before 503: on a
// loaded 2-core CI machine 3-5 s was not always enough, and no test here
// needs the 503.
func TestMain(m *testing.M) {
	harness.Main(m, "refund", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 30 * time.Second}, &stack)
}
