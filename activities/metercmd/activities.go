package metercmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	domain "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
)

// Activities keep the command projection; they run on the main queue and
// are idempotent (each sets a state rather than adding to one).
type Activities struct{ DB *store.DB }

// StatusInput moves a command back to dispatching (an operator's re-dispatch).
type StatusInput struct {
	CommandID string        `json:"commandId"`
	Status    domain.Status `json:"status"`
}

// SetMeterCommandStatus writes a non-final status; it clears the last
// failure so the row shows the new round.
func (a *Activities) SetMeterCommandStatus(ctx context.Context, in StatusInput) error {
	_, err := a.DB.Exec(ctx, `update meter_commands set status=$2, failure='', completed_at=null, updated_at=now()
		where id=$1`, in.CommandID, string(in.Status))
	if err != nil {
		return fmt.Errorf("command %s status %s: %w", in.CommandID, in.Status, err)
	}
	return nil
}

// Outcome is the final result of a command on one meter.
type Outcome struct {
	CommandID string        `json:"commandId"`
	Status    domain.Status `json:"status"` // done or failed
	Response  *Response     `json:"response,omitempty"`
	Failure   string        `json:"failure,omitempty"`
}

// FinishMeterCommand records a command's result and the meter's state read
// back when it was confirmed.
func (a *Activities) FinishMeterCommand(ctx context.Context, o Outcome) error {
	return recordOutcomes(ctx, a.DB, "", []Outcome{o})
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func recordOutcomes(ctx context.Context, q execer, batchID string, outs []Outcome) error {
	ids := make([]string, len(outs))
	statuses := make([]string, len(outs))
	responses := make([]string, len(outs))
	failures := make([]string, len(outs))
	for i, o := range outs {
		if o.Status != domain.Done && o.Status != domain.Failed {
			return fmt.Errorf("command %s: outcome %q is not final", o.CommandID, o.Status)
		}
		ids[i], statuses[i], failures[i] = o.CommandID, string(o.Status), o.Failure
		if o.Response != nil {
			raw, err := json.Marshal(o.Response)
			if err != nil {
				return err
			}
			responses[i] = string(raw)
		}
	}
	// A done command stays done: a late failure report cannot undo a
	// confirmed state.
	_, err := q.Exec(ctx, `update meter_commands c set status=o.status,
		response=coalesce(nullif(o.response, '')::jsonb, c.response),
		failure=case when o.status='done' then '' else o.failure end,
		completed_at=now(), updated_at=now()
		from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as o(id, status, response, failure)
		where c.id=o.id and ($5 = '' or c.batch_id::text = $5) and c.status <> 'done'`,
		ids, statuses, responses, failures, batchID)
	if err != nil {
		return fmt.Errorf("record %d command outcomes: %w", len(outs), err)
	}
	return nil
}

// PageInput asks for the next commands of a batch still to be sent.
type PageInput struct {
	BatchID      string `json:"batchId"`
	AfterMeterNo string `json:"afterMeterNo"`
	Limit        int    `json:"limit"`
}

// BatchItem is one meter of a batch.
type BatchItem struct {
	CommandID string `json:"commandId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
}

// ListMeterBatchPage returns the batch's unfinished commands after a meter
// number, in meter number order. Finished ones are skipped, so a batch
// resumed after a crash or a continue-as-new sends nothing twice.
func (a *Activities) ListMeterBatchPage(ctx context.Context, in PageInput) ([]BatchItem, error) {
	rows, err := a.DB.Query(ctx, `select id, meter_id, meter_no from meter_commands
		where batch_id=$1 and meter_no > $2 and status in ('pending','dispatching')
		order by meter_no limit $3`, in.BatchID, in.AfterMeterNo, in.Limit)
	if err != nil {
		return nil, fmt.Errorf("batch %s page after %q: %w", in.BatchID, in.AfterMeterNo, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchItem, error) {
		var it BatchItem
		return it, r.Scan(&it.CommandID, &it.MeterID, &it.MeterNo)
	})
	if err != nil {
		return nil, fmt.Errorf("batch %s page: %w", in.BatchID, err)
	}
	return items, nil
}

// RecordInput is a set of per-meter outcomes of a batch.
type RecordInput struct {
	BatchID  string    `json:"batchId"`
	Outcomes []Outcome `json:"outcomes"`
}

// Totals of a batch, counted from its commands.
type Totals struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

// RecordMeterBatchOutcomes records outcomes and recounts the batch totals in
// one transaction. Recounting (rather than adding) keeps a retried call from
// counting twice.
func (a *Activities) RecordMeterBatchOutcomes(ctx context.Context, in RecordInput) (Totals, error) {
	var t Totals
	err := store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
		if len(in.Outcomes) > 0 {
			if err := recordOutcomes(ctx, tx, in.BatchID, in.Outcomes); err != nil {
				return err
			}
		}
		var err error
		t, err = recount(ctx, tx, in.BatchID, "")
		return err
	})
	return t, err
}

// FinishInput ends a batch.
type FinishInput struct {
	BatchID string `json:"batchId"`
}

// FinishMeterBatch recounts the batch and gives it its final status.
func (a *Activities) FinishMeterBatch(ctx context.Context, in FinishInput) (Totals, error) {
	var t Totals
	err := store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
		var err error
		t, err = recount(ctx, tx, in.BatchID, "final")
		return err
	})
	return t, err
}

func recount(ctx context.Context, tx pgx.Tx, batchID, final string) (Totals, error) {
	var t Totals
	err := tx.QueryRow(ctx, `with t as (select count(*) filter (where status='done') as done,
			count(*) filter (where status='failed') as failed from meter_commands where batch_id=$1)
		update meter_batches b set done=t.done, failed=t.failed, updated_at=now(),
			status=case when $2 = '' then b.status
				when t.failed > 0 then 'completed_with_failures' else 'completed' end,
			completed_at=case when $2 = '' then b.completed_at else coalesce(b.completed_at, now()) end
		from t where b.id=$1 returning b.total, b.done, b.failed`, batchID, final).Scan(&t.Total, &t.Done, &t.Failed)
	if err != nil {
		return t, fmt.Errorf("recount batch %s: %w", batchID, err)
	}
	return t, nil
}
