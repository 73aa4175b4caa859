// Package setup builds a project from nothing through the production path
// (issue 17's first "Done when"): an empty database, the production switch
// on, the first administrator from the CLI, everything else through HTTP.
package setup

import (
	"testing"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "setup", harness.Options{Production: true}, &stack)
}
