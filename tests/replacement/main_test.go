// Package replacement replaces meters (换表) end to end: a real stack with
// the demo on simulators, new meters imported onto a simulator the test
// starts itself.
package replacement

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "replacement", harness.Options{DispatchWindow: 20 * time.Second, UpdateTimeout: 10 * time.Second}, &stack)
}
