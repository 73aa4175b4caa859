package push

import (
	"hash/fnv"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Kind is the type of the legacy per-station push workflows
// (regulator-push/<station>), which the regulator pump (PumpWorkflow)
// replaced. The type stays registered, running Retired, so a start from an
// old starter still ends; Starter.EnsureRunning terminates any run still
// going.
const Kind = "regulator-push"

// Defaults.
const (
	DefaultCadence          = 60 * time.Second
	DefaultRetryMaxInterval = time.Minute
)

// Input is the pump's configuration where PumpInput leaves it unset (the
// legacy per-station workflow's input, whose other fields are gone).
type Input struct {
	// Cadence of the periodic status push (the regulator changes it through
	// query_frequency; default 60 s).
	Cadence time.Duration `json:"cadence"`
	// RetryMaxInterval caps the backoff between attempts of a failed push.
	RetryMaxInterval time.Duration `json:"retryMaxInterval"`
}

// Retired is what the legacy per-station type runs now: it ends at once.
// Whatever such a run had queued is pending in the outbox, where the pump
// finds every row. (Runs the old code started are terminated by
// Starter.EnsureRunning, not replayed: their histories hold the old
// workflow's commands.)
func Retired(workflow.Context, Input) error { return nil }

// spread is the first tick of a station: a point in (0, cadence] fixed by
// the station id, so the stations' periodic reports are spread over the
// cadence instead of arriving together.
func spread(stationID string, cadence time.Duration) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(stationID))
	n := int64(cadence / time.Millisecond)
	if n <= 0 {
		return cadence
	}
	return time.Duration(int64(h.Sum32())%n+1) * time.Millisecond
}
