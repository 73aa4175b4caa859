// Package bulk is where bulk operations (M11) are stored: a batch of
// account openings or recharges from one sheet, its rows and each row's
// outcome; the checks of a sheet against stored data; and the per-row steps
// the batch workflow bulk/<id> runs (each idempotent, so a worker restart
// sells and opens nothing twice).
package bulk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	bulkdom "github.com/voltflow/voltflow/domain/bulk"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	closingstore "github.com/voltflow/voltflow/store/closing"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// ErrNotFound is an unknown batch, or one of a project the caller cannot see.
var ErrNotFound = errors.New("bulk batch not found")

// Batch is one uploaded sheet and its progress.
type Batch struct {
	ID         string         `json:"id"`
	ProjectID  string         `json:"-"`
	Kind       bulkdom.Kind   `json:"kind"`
	Status     string         `json:"status"`
	RowCount   int            `json:"rowCount"`
	WorkflowID string         `json:"workflowId"`
	CreatedBy  string         `json:"createdBy"`
	CreatedAt  time.Time      `json:"createdAt"`
	FinishedAt *time.Time     `json:"finishedAt,omitempty"`
	Counts     map[string]int `json:"counts"` // rows by state (pending, running, done, failed)
	Hash       string         `json:"-"`
}

// Check checks a sheet's rows against the project's stored data; sites
// non-nil is the caller's site scope (a meter outside it is unknown).
// Problems name the row and column, as bulkdom.Read's do.
func Check(ctx context.Context, db *store.DB, projectID string, kind bulkdom.Kind, rows []bulkdom.Row, sites []string) ([]bulkdom.Problem, error) {
	nos := make([]string, 0, len(rows))
	for _, r := range rows {
		nos = append(nos, r.MeterNo)
	}
	type meter struct {
		id     string
		open   bool
		unitID *string
	}
	meters := map[string]meter{}
	dbRows, err := db.Query(ctx, `select m.meter_no, m.id, coalesce(pa.status = 'open', false), m.unit_id::text from meters m
		left join prepaid_accounts pa on pa.id = m.account_id
		where m.project_id=$1 and m.meter_no = any($2)
			and ($3::text[] is null or exists (select 1 from units u where u.id = m.unit_id and u.site_id::text = any($3)))`,
		projectID, nos, sites)
	if err != nil {
		return nil, fmt.Errorf("meters of the sheet: %w", err)
	}
	for dbRows.Next() {
		var no string
		var m meter
		if err := dbRows.Scan(&no, &m.id, &m.open, &m.unitID); err != nil {
			dbRows.Close()
			return nil, fmt.Errorf("meters of the sheet: %w", err)
		}
		meters[no] = m
	}
	dbRows.Close()
	if err := dbRows.Err(); err != nil {
		return nil, fmt.Errorf("meters of the sheet: %w", err)
	}
	var problems []bulkdom.Problem
	fail := func(line int, column, detail string) {
		problems = append(problems, bulkdom.Problem{Line: line, Column: column, Detail: detail})
	}
	if kind == bulkdom.Openings {
		units := map[string]bool{}
		for _, r := range rows {
			m, ok := meters[r.MeterNo]
			switch {
			case !ok:
				fail(r.Line, bulkdom.ColMeterNo, "meter "+r.MeterNo+" not found in this project")
			case m.open:
				fail(r.Line, bulkdom.ColMeterNo, "meter "+r.MeterNo+" is already in an open account")
			}
			if r.Unit == "" {
				continue
			}
			known, seen := units[r.Unit]
			if !seen {
				if err := db.QueryRow(ctx, `select exists(select 1 from units where project_id=$1 and code=$2
					and ($3::text[] is null or site_id::text = any($3)))`, projectID, r.Unit, sites).Scan(&known); err != nil {
					return nil, fmt.Errorf("unit %s: %w", r.Unit, err)
				}
				units[r.Unit] = known
			}
			if !known {
				fail(r.Line, bulkdom.ColUnit, "unit "+r.Unit+" not found in this project")
			}
		}
		return problems, nil
	}
	// Recharges: a transaction number stored before is the same sale again
	// (it will not sell twice) when it names the same meter and amount, and
	// a mistake otherwise.
	txns := make([]string, 0, len(rows))
	for _, r := range rows {
		txns = append(txns, r.TransactionNo)
	}
	type sale struct {
		meterNo string
		amount  money.Amount
	}
	stored := map[string]sale{}
	dbRows, err = db.Query(ctx, `select transaction_no, meter_no, amount from recharges where project_id=$1 and transaction_no = any($2)`, projectID, txns)
	if err != nil {
		return nil, fmt.Errorf("transaction numbers of the sheet: %w", err)
	}
	for dbRows.Next() {
		var txn string
		var s sale
		if err := dbRows.Scan(&txn, &s.meterNo, &s.amount); err != nil {
			dbRows.Close()
			return nil, fmt.Errorf("transaction numbers of the sheet: %w", err)
		}
		stored[txn] = s
	}
	dbRows.Close()
	if err := dbRows.Err(); err != nil {
		return nil, fmt.Errorf("transaction numbers of the sheet: %w", err)
	}
	var cap *money.Amount
	if err := db.QueryRow(ctx, `select hoarding_cap from projects where id=$1`, projectID).Scan(&cap); err != nil {
		return nil, fmt.Errorf("hoarding cap: %w", err)
	}
	adding := map[string]money.Amount{} // new sales per meter, for the hoarding cap
	firstLine := map[string]int{}
	for _, r := range rows {
		m, ok := meters[r.MeterNo]
		if !ok {
			fail(r.Line, bulkdom.ColMeterNo, "meter "+r.MeterNo+" not found in this project")
			continue
		}
		if !m.open {
			fail(r.Line, bulkdom.ColMeterNo, "meter "+r.MeterNo+" is not in an open account (开户 first)")
			continue
		}
		closed, err := closingstore.IsClosed(ctx, db, m.id)
		if err != nil {
			return nil, fmt.Errorf("closing of %s: %w", r.MeterNo, err)
		}
		if closed {
			fail(r.Line, bulkdom.ColMeterNo, "the account of meter "+r.MeterNo+" is closed (销户): no more sales")
			continue
		}
		if s, ok := stored[r.TransactionNo]; ok {
			if s.meterNo != r.MeterNo || !s.amount.Equal(r.Amount) {
				fail(r.Line, bulkdom.ColTransactionNo, fmt.Sprintf("transaction number %s was used for a sale of %s to meter %s",
					r.TransactionNo, s.amount, s.meterNo))
			}
			continue
		}
		if _, ok := adding[r.MeterNo]; !ok {
			firstLine[r.MeterNo] = r.Line
		}
		adding[r.MeterNo] = adding[r.MeterNo].Add(r.Amount)
		if cap != nil {
			held, err := rechargestore.Held(ctx, db, projectID, m.id, r.MeterNo)
			if err != nil {
				return nil, err
			}
			if err := rechargedom.CheckHoardingCap(cap, held, adding[r.MeterNo]); err != nil {
				detail := err.Error()
				if firstLine[r.MeterNo] != r.Line {
					detail = fmt.Sprintf("with the sales from row %d on: %s", firstLine[r.MeterNo], detail)
				}
				fail(r.Line, bulkdom.ColAmount, detail)
			}
		}
	}
	return problems, nil
}

// Create stores a checked batch and its rows, unless the project has a
// batch of the same kind and content hash: then that one is answered
// (created false) and nothing is stored.
func Create(ctx context.Context, db *store.DB, b Batch, rows []bulkdom.Row) (Batch, bool, error) {
	created := false
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `insert into bulk_batches(id, project_id, kind, content_hash, row_count, workflow_id, created_by)
			values($1,$2,$3,$4,$5,$6,$7) on conflict (project_id, kind, content_hash) do nothing`,
			b.ID, b.ProjectID, string(b.Kind), b.Hash, len(rows), b.WorkflowID, b.CreatedBy)
		if err != nil {
			return fmt.Errorf("create batch: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		created = true
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"bulk_rows"},
			[]string{"batch_id", "line", "meter_no", "transaction_no", "amount", "customer_name", "phone", "unit_code"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				var amount any
				if b.Kind == bulkdom.Recharges {
					amount = r.Amount
				}
				return []any{b.ID, r.Line, r.MeterNo, r.TransactionNo, amount, r.CustomerName, r.Phone, r.Unit}, nil
			}))
		if err != nil {
			return fmt.Errorf("store rows of batch %s: %w", b.ID, err)
		}
		return nil
	})
	if err != nil {
		return Batch{}, false, err
	}
	if !created {
		if err := db.QueryRow(ctx, `select id from bulk_batches where project_id=$1 and kind=$2 and content_hash=$3`,
			b.ProjectID, string(b.Kind), b.Hash).Scan(&b.ID); err != nil {
			return Batch{}, false, fmt.Errorf("batch of the same sheet: %w", err)
		}
	}
	got, err := Get(ctx, db, []string{b.ProjectID}, b.ID)
	return got, created, err
}

// Get answers a batch with its rows counted by state.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Batch, error) {
	var b Batch
	var kind string
	err := db.QueryRow(ctx, `select id, project_id, kind, status, row_count, workflow_id, created_by, created_at, finished_at
		from bulk_batches where id::text=$1 and project_id::text = any($2)`, id, projects).
		Scan(&b.ID, &b.ProjectID, &kind, &b.Status, &b.RowCount, &b.WorkflowID, &b.CreatedBy, &b.CreatedAt, &b.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("batch %s: %w", id, err)
	}
	b.Kind = bulkdom.Kind(kind)
	b.Counts, err = counts(ctx, db, b.ID)
	return b, err
}

func counts(ctx context.Context, db *store.DB, batchID string) (map[string]int, error) {
	c := map[string]int{}
	for _, s := range bulkdom.States {
		c[s] = 0
	}
	rows, err := db.Query(ctx, `select state, count(*) from bulk_rows where batch_id=$1 group by state`, batchID)
	if err != nil {
		return nil, fmt.Errorf("rows of batch %s: %w", batchID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("rows of batch %s: %w", batchID, err)
		}
		c[s] = n
	}
	return c, rows.Err()
}

// Outcome is one row as the result sheet shows it.
type Outcome struct {
	bulkdom.Row
	State      string `json:"state"`
	Outcome    string `json:"outcome"` // the recharge's status, or "opened"
	Detail     string `json:"detail"`
	RechargeID string `json:"rechargeId,omitempty"`
	AccountNo  string `json:"accountNo,omitempty"`
}

// Outcomes answers every row of a batch in sheet order; a recharge row
// shows its recharge's status now, which may have moved on since the row's
// outcome was recorded (a re-dispatched sale).
func Outcomes(ctx context.Context, db *store.DB, batchID string) ([]Outcome, error) {
	rows, err := db.Query(ctx, `select b.line, b.meter_no, b.transaction_no, coalesce(b.amount, 0), b.customer_name, b.phone, b.unit_code,
			b.state, coalesce(r.status, b.outcome), coalesce(nullif(r.failure, ''), b.detail), coalesce(b.recharge_id::text, ''), b.account_no
		from bulk_rows b left join recharges r on r.id = b.recharge_id where b.batch_id=$1 order by b.line`, batchID)
	if err != nil {
		return nil, fmt.Errorf("rows of batch %s: %w", batchID, err)
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		var o Outcome
		if err := rows.Scan(&o.Line, &o.MeterNo, &o.TransactionNo, &o.Amount, &o.CustomerName, &o.Phone, &o.Unit,
			&o.State, &o.Outcome, &o.Detail, &o.RechargeID, &o.AccountNo); err != nil {
			return nil, fmt.Errorf("rows of batch %s: %w", batchID, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// PageInput reads the rows a batch has still to run, after AfterLine.
type PageInput struct {
	BatchID   string `json:"batchId"`
	AfterLine int    `json:"afterLine"`
	Limit     int    `json:"limit"`
}

// Item is one row to run.
type Item struct {
	Line    int    `json:"line"`
	MeterNo string `json:"meterNo"`
}

// Page lists the next rows not yet done or failed, in sheet order.
func Page(ctx context.Context, db *store.DB, in PageInput) ([]Item, error) {
	rows, err := db.Query(ctx, `select line, meter_no from bulk_rows where batch_id=$1 and line > $2
		and state in ('pending','running') order by line limit $3`, in.BatchID, in.AfterLine, in.Limit)
	if err != nil {
		return nil, fmt.Errorf("page of batch %s: %w", in.BatchID, err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Line, &it.MeterNo); err != nil {
			return nil, fmt.Errorf("page of batch %s: %w", in.BatchID, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// RowInput names one row of a batch.
type RowInput struct {
	BatchID    string `json:"batchId"`
	ProjectID  string `json:"projectId"`
	Line       int    `json:"line"`
	OperatorID string `json:"operatorId"`
}

// Prepared is a recharge row's sale, stored and ready for its workflow.
type Prepared struct {
	// Refused is why no sale was stored (the hoarding cap reached since the
	// sheet was checked); the row has failed.
	Refused    string `json:"refused,omitempty"`
	RechargeID string `json:"rechargeId"`
	WorkflowID string `json:"workflowId"`
	// Owned: this row created the sale, so the batch starts its workflow.
	// A sale of the same transaction number stored before (the same sheet
	// uploaded as another batch, or sold by hand) is not started again.
	Owned         bool               `json:"owned"`
	Status        rechargedom.Status `json:"status"`
	MeterID       string             `json:"meterId"`
	MeterNo       string             `json:"meterNo"`
	Amount        money.Amount       `json:"amount"`
	NeedsApproval bool               `json:"needsApproval"`
	Platform      bool               `json:"platform"`
}

// rechargeNamespace derives a row's recharge ID from its batch and line.
var rechargeNamespace = uuid.MustParse("6f1c3c59-0d5e-4f7e-9a43-7b1f5f0e2b11")

// RechargeID is the ID a row's sale gets: the same on every attempt, so an
// activity retried after a worker died knows the sale it stored is its own.
func RechargeID(batchID string, line int) string {
	return uuid.NewSHA1(rechargeNamespace, fmt.Appendf(nil, "%s:%d", batchID, line)).String()
}

// PrepareRecharge stores a recharge row's sale (idempotent by its
// transaction number, under the project's hoarding cap) and marks the row
// running.
func PrepareRecharge(ctx context.Context, db *store.DB, in RowInput) (Prepared, error) {
	var p Prepared
	var txn string
	var auto money.Amount
	var cap *money.Amount
	err := db.QueryRow(ctx, `select b.meter_no, b.transaction_no, b.amount, m.id, m.prepaid_mode = 'platform', p.auto_approve_up_to, p.hoarding_cap
		from bulk_rows b join bulk_batches bb on bb.id = b.batch_id join projects p on p.id = bb.project_id
		join meters m on m.project_id = bb.project_id and m.meter_no = b.meter_no
		where b.batch_id=$1 and b.line=$2`, in.BatchID, in.Line).Scan(&p.MeterNo, &txn, &p.Amount, &p.MeterID, &p.Platform, &auto, &cap)
	if err != nil {
		return p, fmt.Errorf("row %d of batch %s: %w", in.Line, in.BatchID, err)
	}
	id := RechargeID(in.BatchID, in.Line)
	policy := rechargedom.DefaultPolicy()
	policy.AutoApproveUpTo = auto
	rec := rechargestore.Recharge{ID: id, ProjectID: in.ProjectID, MeterID: p.MeterID, MeterNo: p.MeterNo, Amount: p.Amount,
		TransactionNo: txn, WorkflowID: "recharge/" + id, CreatedBy: in.OperatorID, Kind: rechargedom.Sale,
		NeedsApproval: policy.NeedsApproval(p.Amount), Status: rechargedom.Approved}
	if rec.NeedsApproval {
		rec.Status = rechargedom.PendingApproval
	}
	got, _, err := rechargestore.CreateCapped(ctx, db, rec, cap)
	if errors.Is(err, rechargedom.ErrHoardingCapExceeded) {
		p.Refused = err.Error()
		return p, Record(ctx, db, RecordInput{BatchID: in.BatchID, Line: in.Line, State: bulkdom.Failed,
			Outcome: "refused", Detail: p.Refused})
	}
	if err != nil {
		return p, err
	}
	p.RechargeID, p.WorkflowID, p.Status, p.NeedsApproval = got.ID, got.WorkflowID, got.Status, got.NeedsApproval
	p.Owned = got.ID == id
	if _, err := db.Exec(ctx, `update bulk_rows set state='running', recharge_id=$3, updated_at=now()
		where batch_id=$1 and line=$2 and state='pending'`, in.BatchID, in.Line, got.ID); err != nil {
		return p, fmt.Errorf("row %d of batch %s: %w", in.Line, in.BatchID, err)
	}
	return p, nil
}

// RecordInput is a row's outcome.
type RecordInput struct {
	BatchID string `json:"batchId"`
	Line    int    `json:"line"`
	State   string `json:"state"` // done or failed
	Outcome string `json:"outcome"`
	Detail  string `json:"detail"`
}

// Record writes a row's outcome.
func Record(ctx context.Context, db *store.DB, in RecordInput) error {
	if _, err := db.Exec(ctx, `update bulk_rows set state=$3, outcome=$4, detail=$5, updated_at=now() where batch_id=$1 and line=$2`,
		in.BatchID, in.Line, in.State, in.Outcome, in.Detail); err != nil {
		return fmt.Errorf("row %d of batch %s: %w", in.Line, in.BatchID, err)
	}
	return nil
}

// Opened is an opening row's outcome.
type Opened struct {
	State     string `json:"state"`
	AccountNo string `json:"accountNo,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// OpenRow opens the account (开户) of an opening row: its customer (found
// by name and phone, or created), on its unit (or the meter's), for its
// meter. The opening and the row's outcome are one transaction, so a row
// run again (a worker restart) finds itself done and opens nothing more.
func OpenRow(ctx context.Context, db *store.DB, in RowInput) (Opened, error) {
	var out Opened
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var meterNo, name, phone, unitCode string
		if err := tx.QueryRow(ctx, `select state, account_no, detail, meter_no, customer_name, phone, unit_code from bulk_rows
			where batch_id=$1 and line=$2 for update`, in.BatchID, in.Line).
			Scan(&out.State, &out.AccountNo, &out.Detail, &meterNo, &name, &phone, &unitCode); err != nil {
			return fmt.Errorf("row %d of batch %s: %w", in.Line, in.BatchID, err)
		}
		if out.State == bulkdom.Done || out.State == bulkdom.Failed {
			return nil
		}
		var meterID string
		var unitID *string
		var open bool
		err := tx.QueryRow(ctx, `select m.id, m.unit_id::text, coalesce(pa.status = 'open', false) from meters m
			left join prepaid_accounts pa on pa.id = m.account_id where m.project_id=$1 and m.meter_no=$2 for update of m`,
			in.ProjectID, meterNo).Scan(&meterID, &unitID, &open)
		fail := func(detail string) error {
			out = Opened{State: bulkdom.Failed, Detail: detail}
			_, err := tx.Exec(ctx, `update bulk_rows set state='failed', outcome='refused', detail=$3, updated_at=now()
				where batch_id=$1 and line=$2`, in.BatchID, in.Line, detail)
			return err
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fail("meter " + meterNo + " not found in this project")
		case err != nil:
			return fmt.Errorf("meter %s: %w", meterNo, err)
		case open:
			// Opened by someone else since the sheet was checked.
			return fail("meter " + meterNo + " is already in an open account")
		}
		if unitCode != "" {
			var id string
			err := tx.QueryRow(ctx, `select id from units where project_id=$1 and code=$2`, in.ProjectID, unitCode).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return fail("unit " + unitCode + " not found in this project")
			}
			if err != nil {
				return fmt.Errorf("unit %s: %w", unitCode, err)
			}
			unitID = &id
		}
		var customerID string
		err = tx.QueryRow(ctx, `select id from customers where project_id=$1 and name=$2 and phone=$3 order by id limit 1`,
			in.ProjectID, name, phone).Scan(&customerID)
		if errors.Is(err, pgx.ErrNoRows) {
			customerID = uuid.NewString()
			_, err = tx.Exec(ctx, `insert into customers(id, project_id, name, phone, kind) values($1,$2,$3,$4,'person')`,
				customerID, in.ProjectID, name, phone)
		}
		if err != nil {
			return fmt.Errorf("customer %s: %w", name, err)
		}
		accountID := uuid.NewString()
		out = Opened{State: bulkdom.Done, AccountNo: "A-" + accountID[:8]}
		if _, err := tx.Exec(ctx, `insert into prepaid_accounts(id, project_id, customer_id, account_no, unit_id) values($1,$2,$3,$4,$5)`,
			accountID, in.ProjectID, customerID, out.AccountNo, unitID); err != nil {
			return fmt.Errorf("open account: %w", err)
		}
		if _, err := tx.Exec(ctx, `update meters set account_id=$1, unit_id=$2 where id=$3`, accountID, unitID, meterID); err != nil {
			return fmt.Errorf("assign meter %s to account %s: %w", meterNo, accountID, err)
		}
		_, err = tx.Exec(ctx, `update bulk_rows set state='done', outcome='opened', account_no=$3, updated_at=now()
			where batch_id=$1 and line=$2`, in.BatchID, in.Line, out.AccountNo)
		return err
	})
	return out, err
}

// FinishInput ends a batch.
type FinishInput struct {
	BatchID string `json:"batchId"`
}

// Finish marks the batch completed and answers its rows by state.
func Finish(ctx context.Context, db *store.DB, in FinishInput) (map[string]int, error) {
	if _, err := db.Exec(ctx, `update bulk_batches set status='completed', finished_at=coalesce(finished_at, now()) where id=$1`, in.BatchID); err != nil {
		return nil, fmt.Errorf("finish batch %s: %w", in.BatchID, err)
	}
	return counts(ctx, db, in.BatchID)
}
