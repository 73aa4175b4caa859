// Package replacement keeps the meter replacement projection (换表) through
// store/replacement; its activities run on the main queue and are
// idempotent. The device work — switching the old meter off, reading it,
// clearing and writing the new one — reuses activities/metercmd and
// activities/meters on the devices queue.
package replacement

import (
	"context"

	"github.com/voltflow/voltflow/store"
	replacementstore "github.com/voltflow/voltflow/store/replacement"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// The activities' inputs live in store/replacement, so workflows build
// them without importing this package.
type (
	StatusInput   = replacementstore.StatusInput
	ReadingInput  = replacementstore.ReadingInput
	CompleteInput = replacementstore.CompleteInput
)

// SetReplacementStatus writes the status the API shows.
func (a *Activities) SetReplacementStatus(ctx context.Context, in StatusInput) error {
	return replacementstore.SetStatus(ctx, a.DB, in)
}

// RecordReplacementReading records the old meter's final reading (read or
// entered by the operator).
func (a *Activities) RecordReplacementReading(ctx context.Context, in ReadingInput) error {
	return replacementstore.RecordReading(ctx, a.DB, in)
}

// CompleteReplacement books the move, swaps the meters in the account and
// unit and retires the old meter, in one transaction.
func (a *Activities) CompleteReplacement(ctx context.Context, in CompleteInput) error {
	return replacementstore.Complete(ctx, a.DB, in)
}
