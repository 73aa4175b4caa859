// Package tenant drives tenant self-service end to end: SMS code → login →
// the tenant's meters → pay through the fake WeChat Pay (`voltflow sim pay`,
// a separate process) → callback → meter credited → shown to the tenant,
// with the API and worker as real processes over real HTTP.
package tenant

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "tenant", harness.Options{DispatchWindow: 4 * time.Second, UpdateTimeout: 30 * time.Second}, &stack)
}
