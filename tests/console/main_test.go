// Package console drives the operator console (issue 18) in a real headless
// Chromium (Debian's chromium package, installed by deploy/install-deps.sh)
// against the real platform with the demo data: what a cashier and an
// approver do, the meter board, every navigation page in both languages,
// and a 10,000-meter board. Screenshots go to .voltflow/screens/.
package console

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

// A decision waits this long for a worker: generous, the browser and the
// platform share a loaded 2-core machine.
func TestMain(m *testing.M) {
	harness.Main(m, "console", harness.Options{UpdateTimeout: 20 * time.Second}, &stack)
}
