// Package voucher drives the finance chains of issue 7 through the HTTP API
// on the real platform (PostgreSQL, the Temporal server, the worker process,
// meter simulators on real sockets): individual recharge, refund, voucher
// issuance, voucher void, invoice and account closing (销户) — each applied
// for, rejected, applied for again, approved and booked, with the ledger and
// the inbox checked after every step, and the wrong role and a second
// decision refused without changing anything.
package voucher

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
	harness.Main(m, "voucher", harness.Options{DispatchWindow: 4 * time.Second, UpdateTimeout: 30 * time.Second,
		Gateways: 1, MetersPerGW: 12}, &stack)
}
