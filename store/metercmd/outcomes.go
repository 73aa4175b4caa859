package metercmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
)

// SetStatus writes a non-final status; it clears the last failure so the
// row shows the new round.
func SetStatus(ctx context.Context, db *store.DB, commandID string, status metercmddom.Status) error {
	_, err := db.Exec(ctx, `update meter_commands set status=$2, failure='', completed_at=null, updated_at=now()
		where id=$1`, commandID, string(status))
	if err != nil {
		return fmt.Errorf("command %s status %s: %w", commandID, status, err)
	}
	return nil
}

// LogAttempt counts the attempt and records its request (JSON). A command
// already done is left alone (a late retry of an answered write).
func LogAttempt(ctx context.Context, db *store.DB, commandID string, request json.RawMessage) error {
	if _, err := db.Exec(ctx, `update meter_commands set status='dispatching', attempts=attempts+1, request=$2,
		updated_at=now() where id=$1 and status <> 'done'`, commandID, []byte(request)); err != nil {
		return fmt.Errorf("log attempt of command %s: %w", commandID, err)
	}
	return nil
}

// LogFailure records an attempt's error while the command is still being
// retried.
func LogFailure(ctx context.Context, db *store.DB, commandID, failure string) error {
	_, err := db.Exec(ctx, `update meter_commands set failure=$2, updated_at=now() where id=$1 and status='dispatching'`,
		commandID, failure)
	return err
}

// Outcome is the final result of a command on one meter.
type Outcome struct {
	CommandID string
	Status    metercmddom.Status // done or failed
	Response  json.RawMessage    // the meter's state read back; nil keeps the stored one
	Failure   string
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// RecordOutcome records one command's result.
func RecordOutcome(ctx context.Context, db *store.DB, o Outcome) error {
	return recordOutcomes(ctx, db, "", []Outcome{o})
}

func recordOutcomes(ctx context.Context, q execer, batchID string, outs []Outcome) error {
	ids := make([]string, len(outs))
	statuses := make([]string, len(outs))
	responses := make([]string, len(outs))
	failures := make([]string, len(outs))
	for i, o := range outs {
		if o.Status != metercmddom.Done && o.Status != metercmddom.Failed {
			return fmt.Errorf("command %s: outcome %q is not final", o.CommandID, o.Status)
		}
		ids[i], statuses[i], failures[i], responses[i] = o.CommandID, string(o.Status), o.Failure, string(o.Response)
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

// BatchItem is one meter of a batch.
type BatchItem struct {
	CommandID string `json:"commandId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
}

// BatchPage returns the batch's unfinished commands after a meter number,
// in meter number order. Finished ones are skipped, so a batch resumed
// after a crash or a continue-as-new sends nothing twice.
func BatchPage(ctx context.Context, db *store.DB, batchID, afterMeterNo string, limit int) ([]BatchItem, error) {
	rows, err := db.Query(ctx, `select id, meter_id, meter_no from meter_commands
		where batch_id=$1 and meter_no > $2 and status in ('pending','dispatching')
		order by meter_no limit $3`, batchID, afterMeterNo, limit)
	if err != nil {
		return nil, fmt.Errorf("batch %s page after %q: %w", batchID, afterMeterNo, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchItem, error) {
		var it BatchItem
		return it, r.Scan(&it.CommandID, &it.MeterID, &it.MeterNo)
	})
	if err != nil {
		return nil, fmt.Errorf("batch %s page: %w", batchID, err)
	}
	return items, nil
}

// Totals of a batch, counted from its commands.
type Totals struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

// RecordBatchOutcomes records outcomes and recounts the batch totals in one
// transaction. Recounting (rather than adding) keeps a retried call from
// counting twice.
func RecordBatchOutcomes(ctx context.Context, db *store.DB, batchID string, outs []Outcome) (Totals, error) {
	var t Totals
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if len(outs) > 0 {
			if err := recordOutcomes(ctx, tx, batchID, outs); err != nil {
				return err
			}
		}
		var err error
		t, err = recount(ctx, tx, batchID, "")
		return err
	})
	return t, err
}

// FinishBatch recounts the batch and gives it its final status.
func FinishBatch(ctx context.Context, db *store.DB, batchID string) (Totals, error) {
	var t Totals
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		t, err = recount(ctx, tx, batchID, "final")
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
