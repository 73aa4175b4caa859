// Package payment drives online payment end to end: the payment provider
// simulator (`voltflow sim pay`, a fake WeChat Pay with its own keys) and
// Voltflow's API and worker as real processes over real HTTP, on the real
// platform (PostgreSQL, Temporal, meter simulators).
package payment

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "payment", harness.Options{DispatchWindow: 4 * time.Second, UpdateTimeout: 30 * time.Second}, &stack)
}
