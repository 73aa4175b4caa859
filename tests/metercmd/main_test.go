// Package metercmd drives remote meter commands end to end: HTTP API →
// Temporal workflow → device activity → simulated meter over Modbus TCP →
// read back → PostgreSQL, with a real Temporal server and PostgreSQL.
package metercmd

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

// dispatchWindow is short so dead meters fail within seconds.
const dispatchWindow = 3 * time.Second

// UpdateTimeout is how long a decision waits for the worker before 503: on a
// loaded 2-core CI machine 3-5 s was not always enough, and no test here
// needs the 503.
func TestMain(m *testing.M) {
	harness.Main(m, "metercmd", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 30 * time.Second}, &stack)
}
