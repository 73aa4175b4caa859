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

func TestMain(m *testing.M) {
	harness.Main(m, "refund", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 3 * time.Second}, &stack)
}
