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

func TestMain(m *testing.M) {
	harness.Main(m, "credit", harness.Options{UpdateTimeout: 5 * time.Second, Gateways: 1, MetersPerGW: 2}, &stack)
}
