package metercmd

import (
	"context"
	"encoding/json"

	"github.com/voltflow/voltflow/store"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
)

// Activities keep the command projection (store/metercmd); they run on the
// main queue and are idempotent (each sets a state rather than adding to one).
type Activities struct{ DB *store.DB }

// The activities' inputs and results live in store/metercmd, so workflows
// build them without importing this package.
type (
	StatusInput = metercmdstore.StatusInput
	Outcome     = metercmdstore.Result
	PageInput   = metercmdstore.PageInput
	RecordInput = metercmdstore.RecordInput
	FinishInput = metercmdstore.FinishInput
)

// SetMeterCommandStatus writes a non-final status; it clears the last
// failure so the row shows the new round.
func (a *Activities) SetMeterCommandStatus(ctx context.Context, in StatusInput) error {
	return metercmdstore.SetStatus(ctx, a.DB, in.CommandID, in.Status)
}

// stored is the outcome as store/metercmd records it.
func stored(o Outcome) (metercmdstore.Outcome, error) {
	s := metercmdstore.Outcome{CommandID: o.CommandID, Status: o.Status, Failure: o.Failure}
	if o.Response != nil {
		raw, err := json.Marshal(o.Response)
		if err != nil {
			return s, err
		}
		s.Response = raw
	}
	return s, nil
}

// FinishMeterCommand records a command's result and the meter's state read
// back when it was confirmed.
func (a *Activities) FinishMeterCommand(ctx context.Context, o Outcome) error {
	s, err := stored(o)
	if err != nil {
		return err
	}
	return metercmdstore.RecordOutcome(ctx, a.DB, s)
}

// BatchItem is one meter of a batch; Totals are a batch's counts.
type (
	BatchItem = metercmdstore.BatchItem
	Totals    = metercmdstore.Totals
)

// ListMeterBatchPage returns the batch's unfinished commands after a meter
// number, in meter number order (metercmd.BatchPage).
func (a *Activities) ListMeterBatchPage(ctx context.Context, in PageInput) ([]BatchItem, error) {
	return metercmdstore.BatchPage(ctx, a.DB, in.BatchID, in.AfterMeterNo, in.Limit)
}

// RecordMeterBatchOutcomes records outcomes and recounts the batch totals in
// one transaction.
func (a *Activities) RecordMeterBatchOutcomes(ctx context.Context, in RecordInput) (Totals, error) {
	outs := make([]metercmdstore.Outcome, len(in.Outcomes))
	for i, o := range in.Outcomes {
		var err error
		if outs[i], err = stored(o); err != nil {
			return Totals{}, err
		}
	}
	return metercmdstore.RecordBatchOutcomes(ctx, a.DB, in.BatchID, outs)
}

// FinishMeterBatch recounts the batch and gives it its final status.
func (a *Activities) FinishMeterBatch(ctx context.Context, in FinishInput) (Totals, error) {
	return metercmdstore.FinishBatch(ctx, a.DB, in.BatchID)
}
