// Package allowance is the Temporal adapter of the monthly allowance
// (月补电量): it lists the meters owed a month's allowance and grants them
// through store/allowance, each once.
package allowance

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voltflow/voltflow/store"
	allowancestore "github.com/voltflow/voltflow/store/allowance"
)

// Inputs and results live in store/allowance, so workflows build them
// without importing this package.
type (
	DueInput    = allowancestore.DueInput
	DueResult   = allowancestore.DueResult
	GrantInput  = allowancestore.GrantInput
	Granted     = allowancestore.Granted
	BatchInput  = allowancestore.BatchInput
	BatchResult = allowancestore.BatchResult
)

// Activities run on the main queue.
type Activities struct {
	DB *store.DB
	// PerMeter is a pause before each grant: zero in production; a crash
	// test sets it so a run is still granting when its worker is killed.
	PerMeter time.Duration
}

// DueAllowances lists the meters owed the month's allowance.
func (a *Activities) DueAllowances(ctx context.Context, in DueInput) (DueResult, error) {
	return allowancestore.ListDue(ctx, a.DB, in)
}

// GrantAllowances grants a batch, each meter in its own transaction and
// each once: a retry after a crash finds what the first try committed. It
// heartbeats per meter.
func (a *Activities) GrantAllowances(ctx context.Context, in BatchInput) (BatchResult, error) {
	var out BatchResult
	for _, id := range in.MeterIDs {
		if a.PerMeter > 0 {
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(a.PerMeter):
			}
		}
		g, err := allowancestore.Grant(ctx, a.DB, GrantInput{ProjectID: in.ProjectID, MeterID: id, Period: in.Period})
		if err != nil {
			return out, err
		}
		out.Granted = append(out.Granted, g)
		activity.RecordHeartbeat(ctx, len(out.Granted))
	}
	return out, nil
}
