// Package metercmd stores meter commands and batches (meter_commands,
// meter_batches): the rows the API creates and shows, and the status,
// attempts and outcomes activities/metercmd records while it sends them.
package metercmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/store"
)

// Command is one command on one meter as the API shows it.
type Command struct {
	ID             string             `json:"id"`
	ProjectID      string             `json:"-"`
	MeterID        string             `json:"-"`
	MeterNo        string             `json:"meterNo"`
	Command        string             `json:"command"`
	Args           json.RawMessage    `json:"args"`
	Status         metercmddom.Status `json:"status"`
	BatchID        *string            `json:"batchId,omitempty"`
	WorkflowID     string             `json:"workflowId"`
	Request        json.RawMessage    `json:"request,omitempty"`
	Response       json.RawMessage    `json:"response,omitempty"`
	Failure        string             `json:"failure,omitempty"`
	Attempts       int                `json:"attempts"`
	IdempotencyKey *string            `json:"-"`
	CreatedBy      string             `json:"createdBy"`
	CreatedAt      time.Time          `json:"createdAt"`
	UpdatedAt      time.Time          `json:"updatedAt"`
	CompletedAt    *time.Time         `json:"completedAt,omitempty"`
}

// ErrNotFound is an unknown command or batch, or one of a project the caller cannot see.
var ErrNotFound = errors.New("meter command not found")

const commandColumns = `id, project_id, meter_id, meter_no, command, args, status, batch_id::text, workflow_id,
	request, response, failure, attempts, idempotency_key, coalesce(created_by::text, ''), created_at, updated_at,
	completed_at` // created_by is null for the platform's own commands (billing trips)

func scanCommand(row pgx.Row) (Command, error) {
	var c Command
	var status string
	err := row.Scan(&c.ID, &c.ProjectID, &c.MeterID, &c.MeterNo, &c.Command, &c.Args, &status, &c.BatchID, &c.WorkflowID,
		&c.Request, &c.Response, &c.Failure, &c.Attempts, &c.IdempotencyKey, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &c.CompletedAt)
	c.Status = metercmddom.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// GetCommand reads one command within the given projects.
func GetCommand(ctx context.Context, db *store.DB, projects []string, id string) (Command, error) {
	return scanCommand(db.QueryRow(ctx, `select `+commandColumns+` from meter_commands
		where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// ArgsOf is the logged argument object of a command (the mode it sets).
func ArgsOf(c metercmddom.Command) json.RawMessage {
	if w := c.Write(); w.Name == "set_mode" {
		return json.RawMessage(fmt.Sprintf(`{"mode":%d}`, w.Mode))
	}
	return json.RawMessage(`{}`)
}

// CreateCommand inserts a single command. With an idempotency key already
// used in the project it inserts nothing and returns the earlier command
// with created=false; the caller compares the requests.
func CreateCommand(ctx context.Context, db *store.DB, c Command) (Command, bool, error) {
	_, err := db.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
		workflow_id, idempotency_key, created_by) values($1,$2,$3,$4,$5,$6,'pending',$7,$8,$9)`,
		c.ID, c.ProjectID, c.MeterID, c.MeterNo, c.Command, []byte(c.Args), c.WorkflowID, c.IdempotencyKey, c.CreatedBy)
	if store.IsUniqueViolation(err) && c.IdempotencyKey != nil {
		existing, err := scanCommand(db.QueryRow(ctx, `select `+commandColumns+` from meter_commands
			where project_id=$1 and idempotency_key=$2`, c.ProjectID, *c.IdempotencyKey))
		return existing, false, err
	}
	if err != nil {
		return Command{}, false, fmt.Errorf("create meter command: %w", err)
	}
	created, err := GetCommand(ctx, db, []string{c.ProjectID}, c.ID)
	return created, true, err
}

// Batch is one command over many meters.
type Batch struct {
	ID             string                  `json:"id"`
	ProjectID      string                  `json:"-"`
	Command        string                  `json:"command"`
	Status         metercmddom.BatchStatus `json:"status"`
	Total          int                     `json:"total"`
	Done           int                     `json:"done"`
	Failed         int                     `json:"failed"`
	Pending        int                     `json:"pending"`
	WorkflowID     string                  `json:"workflowId"`
	RedispatchOf   *string                 `json:"redispatchOf,omitempty"`
	RedispatchedBy *string                 `json:"redispatchedBy,omitempty"`
	IdempotencyKey *string                 `json:"-"`
	RequestHash    string                  `json:"-"`
	CreatedBy      string                  `json:"createdBy"`
	CreatedAt      time.Time               `json:"createdAt"`
	UpdatedAt      time.Time               `json:"updatedAt"`
	CompletedAt    *time.Time              `json:"completedAt,omitempty"`
}

const batchColumns = `b.id, b.project_id, b.command, b.status, b.total, b.done, b.failed, b.workflow_id,
	b.redispatch_of::text, (select r.id::text from meter_batches r where r.redispatch_of=b.id),
	b.idempotency_key, b.request_hash, b.created_by, b.created_at, b.updated_at, b.completed_at`

func scanBatch(row pgx.Row) (Batch, error) {
	var b Batch
	var status string
	err := row.Scan(&b.ID, &b.ProjectID, &b.Command, &status, &b.Total, &b.Done, &b.Failed, &b.WorkflowID,
		&b.RedispatchOf, &b.RedispatchedBy, &b.IdempotencyKey, &b.RequestHash, &b.CreatedBy, &b.CreatedAt, &b.UpdatedAt, &b.CompletedAt)
	b.Status = metercmddom.BatchStatus(status)
	b.Pending = b.Total - b.Done - b.Failed
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	return b, err
}

// GetBatch reads one batch within the given projects.
func GetBatch(ctx context.Context, db *store.DB, projects []string, id string) (Batch, error) {
	return scanBatch(db.QueryRow(ctx, `select `+batchColumns+` from meter_batches b
		where b.id::text=$1 and b.project_id::text = any($2)`, id, projects))
}

// BatchMeter is a meter to put in a new batch.
type BatchMeter struct {
	ID      string
	MeterNo string
}

// CreateBatch inserts a batch and one pending command per meter in one
// transaction. With an idempotency key already used in the project it
// inserts nothing and returns the earlier batch with created=false.
func CreateBatch(ctx context.Context, db *store.DB, b Batch, ms []BatchMeter) (Batch, bool, error) {
	ids := make([]string, len(ms))
	nos := make([]string, len(ms))
	for i, m := range ms {
		ids[i], nos[i] = m.ID, m.MeterNo
	}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into meter_batches(id, project_id, command, total, status, workflow_id,
			idempotency_key, request_hash, created_by) values($1,$2,$3,$4,'running',$5,$6,$7,$8)`,
			b.ID, b.ProjectID, b.Command, len(ms), b.WorkflowID, b.IdempotencyKey, b.RequestHash, b.CreatedBy); err != nil {
			return err
		}
		return insertBatchCommands(ctx, tx, b, `select gen_random_uuid(), m.id, m.no
			from unnest($7::uuid[], $8::text[]) as m(id, no)`, ids, nos)
	})
	if store.IsUniqueViolation(err) && b.IdempotencyKey != nil {
		existing, err := scanBatch(db.QueryRow(ctx, `select `+batchColumns+` from meter_batches b
			where b.project_id=$1 and b.idempotency_key=$2`, b.ProjectID, *b.IdempotencyKey))
		return existing, false, err
	}
	if err != nil {
		return Batch{}, false, fmt.Errorf("create meter batch of %d: %w", len(ms), err)
	}
	created, err := GetBatch(ctx, db, []string{b.ProjectID}, b.ID)
	return created, true, err
}

// insertBatchCommands adds the batch's commands from a query yielding
// (command id, meter id, meter no); its parameters start at $7.
func insertBatchCommands(ctx context.Context, tx pgx.Tx, b Batch, source string, args ...any) error {
	c, err := metercmddom.Parse(b.Command)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
		batch_id, workflow_id, created_by)
		select s.cid, $1, s.mid, s.mno, $2, $3, 'pending', $4, $5, $6 from (`+source+`) as s(cid, mid, mno)`,
		append([]any{b.ProjectID, b.Command, []byte(ArgsOf(c)), b.ID, b.WorkflowID, b.CreatedBy}, args...)...)
	return err
}

// ErrNothingToRedispatch is a batch without failed meters.
var ErrNothingToRedispatch = errors.New("the batch has no failed meters")

// CreateRedispatch starts a new batch over the failed meters of a finished
// one. A batch is re-dispatched once: asking again returns the batch made
// the first time (created=false), so a double click sends nothing twice.
// Re-dispatch what is still failed from the newest batch of the chain.
func CreateRedispatch(ctx context.Context, db *store.DB, orig Batch, b Batch) (Batch, bool, error) {
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var failed int
		if err := tx.QueryRow(ctx, `select count(*) from meter_commands where batch_id=$1 and status='failed'`,
			orig.ID).Scan(&failed); err != nil {
			return err
		}
		if failed == 0 {
			return ErrNothingToRedispatch
		}
		if _, err := tx.Exec(ctx, `insert into meter_batches(id, project_id, command, total, status, workflow_id,
			redispatch_of, request_hash, created_by) values($1,$2,$3,$4,'running',$5,$6,'',$7)`,
			b.ID, orig.ProjectID, orig.Command, failed, b.WorkflowID, orig.ID, b.CreatedBy); err != nil {
			return err
		}
		b.ProjectID, b.Command = orig.ProjectID, orig.Command
		return insertBatchCommands(ctx, tx, b, `select gen_random_uuid(), meter_id, meter_no from meter_commands
			where batch_id=$7 and status='failed'`, orig.ID)
	})
	if store.IsUniqueViolation(err) {
		existing, err := scanBatch(db.QueryRow(ctx, `select `+batchColumns+` from meter_batches b
			where b.redispatch_of=$1`, orig.ID))
		return existing, false, err
	}
	if err != nil {
		return Batch{}, false, fmt.Errorf("re-dispatch batch %s: %w", orig.ID, err)
	}
	created, err := GetBatch(ctx, db, []string{orig.ProjectID}, b.ID)
	return created, true, err
}

// Item is one meter's outcome in a batch.
type Item struct {
	CommandID   string             `json:"commandId"`
	MeterNo     string             `json:"meterNo"`
	Status      metercmddom.Status `json:"status"`
	Attempts    int                `json:"attempts"`
	Failure     string             `json:"failure,omitempty"`
	Response    json.RawMessage    `json:"response,omitempty"`
	CompletedAt *time.Time         `json:"completedAt,omitempty"`
}

// Items lists a batch's per-meter outcomes in meter number order after a
// meter number, optionally only those of one status.
func Items(ctx context.Context, db *store.DB, batchID, status, afterMeterNo string, limit int) ([]Item, error) {
	rows, err := db.Query(ctx, `select id, meter_no, status, attempts, failure, response, completed_at
		from meter_commands where batch_id=$1 and ($2 = '' or status = $2) and meter_no > $3
		order by meter_no limit $4`, batchID, status, afterMeterNo, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		var s string
		err := r.Scan(&it.CommandID, &it.MeterNo, &s, &it.Attempts, &it.Failure, &it.Response, &it.CompletedAt)
		it.Status = metercmddom.Status(s)
		return it, err
	})
}

// DownloadArgs reads the register values a download command (set_tariff,
// set_safety_limits) writes: its args as recorded when it was made.
func DownloadArgs(ctx context.Context, db *store.DB, commandID string) (map[string]int64, error) {
	var raw []byte
	if err := db.QueryRow(ctx, `select args from meter_commands where id=$1`, commandID).Scan(&raw); err != nil {
		return nil, fmt.Errorf("args of meter command %s: %w", commandID, err)
	}
	var out map[string]int64
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("args of meter command %s: %w", commandID, err)
	}
	return out, nil
}
