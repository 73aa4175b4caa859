package metercmd

import (
	"context"
	"encoding/json"

	domain "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/metercmd"
)

// Activities keep the command projection (store/metercmd); they run on the
// main queue and are idempotent (each sets a state rather than adding to one).
type Activities struct{ DB *store.DB }

// StatusInput moves a command back to dispatching (an operator's re-dispatch).
type StatusInput struct {
	CommandID string        `json:"commandId"`
	Status    domain.Status `json:"status"`
}

// SetMeterCommandStatus writes a non-final status; it clears the last
// failure so the row shows the new round.
func (a *Activities) SetMeterCommandStatus(ctx context.Context, in StatusInput) error {
	return metercmd.SetStatus(ctx, a.DB, in.CommandID, in.Status)
}

// Outcome is the final result of a command on one meter.
type Outcome struct {
	CommandID string        `json:"commandId"`
	Status    domain.Status `json:"status"` // done or failed
	Response  *Response     `json:"response,omitempty"`
	Failure   string        `json:"failure,omitempty"`
}

// stored is the outcome as store/metercmd records it.
func (o Outcome) stored() (metercmd.Outcome, error) {
	s := metercmd.Outcome{CommandID: o.CommandID, Status: o.Status, Failure: o.Failure}
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
	s, err := o.stored()
	if err != nil {
		return err
	}
	return metercmd.RecordOutcome(ctx, a.DB, s)
}

// PageInput asks for the next commands of a batch still to be sent.
type PageInput struct {
	BatchID      string `json:"batchId"`
	AfterMeterNo string `json:"afterMeterNo"`
	Limit        int    `json:"limit"`
}

// BatchItem is one meter of a batch; Totals are a batch's counts.
type (
	BatchItem = metercmd.BatchItem
	Totals    = metercmd.Totals
)

// ListMeterBatchPage returns the batch's unfinished commands after a meter
// number, in meter number order (metercmd.BatchPage).
func (a *Activities) ListMeterBatchPage(ctx context.Context, in PageInput) ([]BatchItem, error) {
	return metercmd.BatchPage(ctx, a.DB, in.BatchID, in.AfterMeterNo, in.Limit)
}

// RecordInput is a set of per-meter outcomes of a batch.
type RecordInput struct {
	BatchID  string    `json:"batchId"`
	Outcomes []Outcome `json:"outcomes"`
}

// RecordMeterBatchOutcomes records outcomes and recounts the batch totals in
// one transaction.
func (a *Activities) RecordMeterBatchOutcomes(ctx context.Context, in RecordInput) (Totals, error) {
	outs := make([]metercmd.Outcome, len(in.Outcomes))
	for i, o := range in.Outcomes {
		var err error
		if outs[i], err = o.stored(); err != nil {
			return Totals{}, err
		}
	}
	return metercmd.RecordBatchOutcomes(ctx, a.DB, in.BatchID, outs)
}

// FinishInput ends a batch.
type FinishInput struct {
	BatchID string `json:"batchId"`
}

// FinishMeterBatch recounts the batch and gives it its final status.
func (a *Activities) FinishMeterBatch(ctx context.Context, in FinishInput) (Totals, error) {
	return metercmd.FinishBatch(ctx, a.DB, in.BatchID)
}
