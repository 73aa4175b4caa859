// Package openapi drives the open API for third-party systems (issue 21 §1,
// contracts.md "Open API") end to end as an outside client would: a project
// API key, its own HMAC-SHA256 signing code (not the server's), all 11
// calls against the demo project on the simulated meters, replay refused
// by a second API server on the same database, the rate limit, idempotent
// recharges and another project's key.
package openapi

import (
	"testing"
	"time"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "openapi", harness.Options{DispatchWindow: 5 * time.Second, UpdateTimeout: 30 * time.Second}, &stack)
}
