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

func TestMain(m *testing.M) {
	harness.Main(m, "metercmd", harness.Options{DispatchWindow: dispatchWindow, UpdateTimeout: 3 * time.Second}, &stack)
}
