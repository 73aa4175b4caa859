// Package bulk drives bulk operations (M11) end to end: an Excel sheet of
// recharges or account openings → checks → the batch workflow bulk/<id> →
// recharge workflows → simulated meters over Modbus TCP → PostgreSQL, with
// a real Temporal server and PostgreSQL.
package bulk

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

// DispatchWindow outlasts a worker restart (TestRechargeSheetSellsEachRowOnce
// kills the worker mid-batch): a sale whose dispatch window ran out while no
// worker was up waits in dispatch_failed for a re-dispatch, and its batch
// with it.
func TestMain(m *testing.M) {
	harness.Main(m, "bulk", harness.Options{DispatchWindow: time.Minute, UpdateTimeout: 30 * time.Second}, &stack)
}
