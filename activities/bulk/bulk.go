// Package bulk is the Temporal face of store/bulk: the steps of a bulk
// batch (bulk/<id>), each idempotent.
package bulk

import (
	"context"

	"github.com/voltflow/voltflow/store"
	bulkstore "github.com/voltflow/voltflow/store/bulk"
)

// Activities run on the main queue.
type Activities struct{ DB *store.DB }

// Inputs and outputs are the store's.
type (
	PageInput   = bulkstore.PageInput
	Item        = bulkstore.Item
	RowInput    = bulkstore.RowInput
	Prepared    = bulkstore.Prepared
	RecordInput = bulkstore.RecordInput
	Opened      = bulkstore.Opened
	FinishInput = bulkstore.FinishInput
)

// ListBulkRows reads the next rows still to run.
func (a *Activities) ListBulkRows(ctx context.Context, in PageInput) ([]Item, error) {
	return bulkstore.Page(ctx, a.DB, in)
}

// PrepareBulkRecharge stores a recharge row's sale.
func (a *Activities) PrepareBulkRecharge(ctx context.Context, in RowInput) (Prepared, error) {
	return bulkstore.PrepareRecharge(ctx, a.DB, in)
}

// OpenBulkAccount opens an opening row's account.
func (a *Activities) OpenBulkAccount(ctx context.Context, in RowInput) (Opened, error) {
	return bulkstore.OpenRow(ctx, a.DB, in)
}

// RecordBulkOutcome writes a row's outcome.
func (a *Activities) RecordBulkOutcome(ctx context.Context, in RecordInput) error {
	return bulkstore.Record(ctx, a.DB, in)
}

// FinishBulk marks the batch completed.
func (a *Activities) FinishBulk(ctx context.Context, in FinishInput) (map[string]int, error) {
	return bulkstore.Finish(ctx, a.DB, in)
}
