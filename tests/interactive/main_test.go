// Package interactive checks that operator commands, on-demand reads and sales
// never wait behind bulk work (issue 20 section 11): with the devices queue's one slot
// (VOLTFLOW_DEVICE_SLOTS=1) provably held by a sweep batch stuck on a
// gateway that never answers, and a batch command queued behind it, single
// meter commands and a sale still reach their meters — through the
// interactive lane's own task queues, workers and slots.
//
// The assertions are about structure, not timing: while the commands run,
// the sweep's batch is started and the batch command's send is still
// scheduled (not started), as Temporal describes them.
package interactive

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "interactive", harness.Options{DispatchWindow: 5 * time.Minute, UpdateTimeout: 30 * time.Second,
		WorkerEnv: []string{"VOLTFLOW_DEVICE_SLOTS=1"}}, &stack)
}
