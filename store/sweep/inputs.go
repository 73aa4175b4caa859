package sweep

import "time"

// The sweep activities' inputs and results (activities/sweep): workflows
// build them without importing the activities.

// GatewaysInput names a project to sweep.
type GatewaysInput struct {
	ProjectID string `json:"projectId"`
}

// GatewaysResult lists its gateways, in code order.
type GatewaysResult struct {
	GatewayIDs []string `json:"gatewayIds"`
	Meters     int      `json:"meters"`
}

// BatchInput is one activity's share of a sweep.
type BatchInput struct {
	ProjectID string `json:"projectId"`
	// At is the sweep's slot time: every reading of the sweep carries it,
	// which is what makes a retried batch write nothing twice.
	At         time.Time `json:"at"`
	GatewayIDs []string  `json:"gatewayIds"`
}

// BatchResult counts what a batch did.
type BatchResult struct {
	Gateways     int `json:"gateways"`
	GatewaysDown int `json:"gatewaysDown"` // could not be connected
	Meters       int `json:"meters"`
	Read         int `json:"read"`
	Failed       int `json:"failed"`  // no answer from the meter
	Skipped      int `json:"skipped"` // already read by an earlier attempt, or a protocol not swept
	// Where the time went, summed over batches: the batch from start to end,
	// and the part of it spent writing to PostgreSQL (overlapping the reads).
	ElapsedMs int64 `json:"elapsedMs"`
	WriteMs   int64 `json:"writeMs"`
	// Parts of WriteMs: the readings' COPY and the latest state's upsert;
	// HooksMs is the alarm and billing hooks after the writes.
	ReadingsMs int64 `json:"readingsMs"`
	StateMs    int64 `json:"stateMs"`
	HooksMs    int64 `json:"hooksMs"`
}

// Add sums results.
func (r BatchResult) Add(o BatchResult) BatchResult {
	return BatchResult{r.Gateways + o.Gateways, r.GatewaysDown + o.GatewaysDown, r.Meters + o.Meters,
		r.Read + o.Read, r.Failed + o.Failed, r.Skipped + o.Skipped, r.ElapsedMs + o.ElapsedMs, r.WriteMs + o.WriteMs,
		r.ReadingsMs + o.ReadingsMs, r.StateMs + o.StateMs, r.HooksMs + o.HooksMs}
}

// MeterInput names one meter to read now (the API's on-demand read).
type MeterInput struct {
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
}
