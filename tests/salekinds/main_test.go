// Package salekinds drives every way to sell and refund (issue 20, M5) and
// their PDF receipts through the HTTP API on the real platform: PostgreSQL,
// the Temporal server, the worker process and meter simulators on real
// sockets. Figures are computed by hand in each test.
package salekinds

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "salekinds", harness.Options{DispatchWindow: 10 * time.Second, UpdateTimeout: 30 * time.Second}, &stack)
}
