// Package credit drives the enterprise money chains through the HTTP API on
// the real platform (PostgreSQL, the Temporal server, the worker process):
// enterprise recharge, credit-limit opening and adjustment, each rejected
// and approved, and billing cycles on an accelerated clock.
package credit

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

// UpdateTimeout is how long a decision waits for the worker before 503: on a
// loaded 2-core CI machine 3-5 s was not always enough, and no test here
// needs the 503.
func TestMain(m *testing.M) {
	harness.Main(m, "credit", harness.Options{UpdateTimeout: 30 * time.Second, Gateways: 1, MetersPerGW: 2}, &stack)
}
