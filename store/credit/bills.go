package credit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Bill is one closed billing cycle as the API shows it.
type Bill struct {
	ID           string       `json:"id"`
	ProjectID    string       `json:"projectId"`
	EnterpriseID string       `json:"enterpriseId"`
	CycleNo      int          `json:"cycleNo"`
	PeriodStart  time.Time    `json:"periodStart"`
	PeriodEnd    time.Time    `json:"periodEnd"`
	AmountDue    money.Amount `json:"amountDue"`
	Paid         money.Amount `json:"paid"`
	Status       bill.Status  `json:"status"`
	DueAt        time.Time    `json:"dueAt"`
	SuspendAt    time.Time    `json:"suspendAt"`
	EmailedAt    *time.Time   `json:"emailedAt,omitempty"`
	RemindedAt   *time.Time   `json:"remindedAt,omitempty"`
	SuspendedAt  *time.Time   `json:"suspendedAt,omitempty"`
	WrittenOffAt *time.Time   `json:"writtenOffAt,omitempty"`
	bill.Statement
}

const billColumns = `b.id, b.project_id, b.enterprise_id, b.cycle_no, b.period_start, b.period_end, b.opening_balance, b.consumption,
	b.payments, b.closing_balance, b.amount_due, b.paid, b.status, b.due_at, b.suspend_at, b.emailed_at, b.reminded_at, b.suspended_at, b.written_off_at`

func scanBill(row pgx.Row) (Bill, error) {
	var b Bill
	var status string
	err := row.Scan(&b.ID, &b.ProjectID, &b.EnterpriseID, &b.CycleNo, &b.PeriodStart, &b.PeriodEnd, &b.Opening, &b.Consumption,
		&b.Payments, &b.Closing, &b.AmountDue, &b.Paid, &status, &b.DueAt, &b.SuspendAt, &b.EmailedAt, &b.RemindedAt, &b.SuspendedAt, &b.WrittenOffAt)
	b.Status = bill.Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	return b, err
}

type rowQuerier interface {
	querier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// lines reads a bill's consumption and payment lines.
func lines(ctx context.Context, q rowQuerier, billID string) (consumption, payments []bill.Line, err error) {
	read := func(sql string) ([]bill.Line, error) {
		rows, err := q.Query(ctx, sql, billID)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (bill.Line, error) {
			var l bill.Line
			err := r.Scan(&l.At, &l.Ref, &l.Description, &l.Amount)
			return l, err
		})
	}
	if consumption, err = read(`select created_at, key, description, amount from credit_consumptions where bill_id=$1 order by created_at, id`); err != nil {
		return nil, nil, err
	}
	payments, err = read(`select created_at, transaction_no, receipt_no, amount from credit_repayments where bill_id=$1 order by created_at, id`)
	return consumption, payments, err
}

// GetBill reads a bill with its lines.
func GetBill(ctx context.Context, db *store.DB, projects []string, id string) (Bill, error) {
	b, err := scanBill(db.QueryRow(ctx, `select `+billColumns+` from enterprise_bills b where b.id::text=$1 and b.project_id::text = any($2)`, id, projects))
	if err != nil {
		return b, err
	}
	b.Lines, b.PaymentList, err = lines(ctx, db, b.ID)
	return b, err
}

// ListBills lists an enterprise's bills, newest cycle first (without lines).
func ListBills(ctx context.Context, db *store.DB, enterpriseID string) ([]Bill, error) {
	rows, err := db.Query(ctx, `select `+billColumns+` from enterprise_bills b where b.enterprise_id=$1 order by b.cycle_no desc`, enterpriseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bill, error) { return scanBill(r) })
}

// CloseInput closes one billing cycle.
type CloseInput struct {
	ProjectID    string    `json:"projectId"`
	EnterpriseID string    `json:"enterpriseId"`
	CycleNo      int       `json:"cycleNo"`
	PeriodStart  time.Time `json:"periodStart"`
	PeriodEnd    time.Time `json:"periodEnd"`
	DueAt        time.Time `json:"dueAt"`
	SuspendAt    time.Time `json:"suspendAt"`
}

// CloseCycle produces the cycle's bill under the credit account's lock:
// every consumption and repayment not yet billed is listed, the statement
// must equal the receivable's ledger balance to the cent, and money repaid
// but not yet allocated settles bills oldest first. Closing a cycle again
// returns its bill.
func CloseCycle(ctx context.Context, db *store.DB, in CloseInput) (Bill, error) {
	var out Bill
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var code string
		if err := tx.QueryRow(ctx, `select e.code from credit_accounts c join enterprises e on e.id=c.enterprise_id
			where c.enterprise_id=$1 for update of c`, in.EnterpriseID).Scan(&code); err != nil {
			return fmt.Errorf("lock credit of %s: %w", in.EnterpriseID, err)
		}
		prev, err := scanBill(tx.QueryRow(ctx, `select `+billColumns+` from enterprise_bills b where b.enterprise_id=$1 and b.cycle_no=$2`,
			in.EnterpriseID, in.CycleNo))
		if err == nil {
			out = prev
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		opening := money.Zero
		if err := tx.QueryRow(ctx, `select coalesce((select closing_balance from enterprise_bills where enterprise_id=$1
			order by cycle_no desc limit 1), 0)`, in.EnterpriseID).Scan(&opening); err != nil {
			return err
		}
		id := uuid.NewString()
		// Claim the unbilled lines for this bill first, then read them back.
		if _, err := tx.Exec(ctx, `insert into enterprise_bills(id, project_id, enterprise_id, cycle_no, period_start, period_end,
			opening_balance, consumption, payments, closing_balance, amount_due, status, due_at, suspend_at)
			values($1,$2,$3,$4,$5,$6,0,0,0,0,0,'issued',$7,$8)`, id, in.ProjectID, in.EnterpriseID, in.CycleNo,
			in.PeriodStart, in.PeriodEnd, in.DueAt, in.SuspendAt); err != nil {
			return fmt.Errorf("bill %d of %s: %w", in.CycleNo, code, err)
		}
		if _, err := tx.Exec(ctx, `update credit_consumptions set bill_id=$2 where enterprise_id=$1 and bill_id is null`, in.EnterpriseID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update credit_repayments set bill_id=$2 where enterprise_id=$1 and bill_id is null`, in.EnterpriseID, id); err != nil {
			return err
		}
		cons, pays, err := lines(ctx, tx, id)
		if err != nil {
			return err
		}
		st := bill.Close(opening, cons, pays)
		owed, err := receivable(ctx, tx, in.ProjectID, code)
		if err != nil {
			return err
		}
		if err := st.Check(owed); err != nil {
			return fmt.Errorf("bill %d of %s: %w", in.CycleNo, code, err)
		}
		status := bill.Issued
		var writtenOff any
		if st.Consumption.IsZero() {
			status, writtenOff = bill.WrittenOff, in.PeriodEnd // nothing to pay
		}
		if _, err := tx.Exec(ctx, `update enterprise_bills set opening_balance=$2, consumption=$3, payments=$4, closing_balance=$5,
			amount_due=$3, status=$6, written_off_at=$7 where id=$1`, id, st.Opening, st.Consumption, st.Payments, st.Closing,
			string(status), writtenOff); err != nil {
			return err
		}
		if err := allocate(ctx, tx, in.EnterpriseID); err != nil {
			return err
		}
		out, err = scanBill(tx.QueryRow(ctx, `select `+billColumns+` from enterprise_bills b where b.id=$1`, id))
		return err
	})
	if err != nil {
		return out, err
	}
	out.Lines, out.PaymentList, err = lines(ctx, db, out.ID)
	return out, err
}

// allocate spends repaid money not yet allocated on outstanding bills,
// oldest first, and writes off (核销) each bill it settles. Caller holds
// the credit account's lock.
func allocate(ctx context.Context, tx pgx.Tx, enterpriseID string) error {
	var repaid, allocated money.Amount
	if err := tx.QueryRow(ctx, `select coalesce((select sum(amount) from credit_repayments where enterprise_id=$1), 0),
		coalesce((select sum(paid) from enterprise_bills where enterprise_id=$1), 0)`, enterpriseID).Scan(&repaid, &allocated); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `select id, amount_due, paid from enterprise_bills where enterprise_id=$1 and paid < amount_due
		order by cycle_no`, enterpriseID)
	if err != nil {
		return err
	}
	dues, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bill.Due, error) {
		var d bill.Due
		err := r.Scan(&d.BillID, &d.Amount, &d.Paid)
		return d, err
	})
	if err != nil {
		return err
	}
	changed, _ := bill.Allocate(dues, repaid.Sub(allocated))
	for _, d := range changed {
		if _, err := tx.Exec(ctx, `update enterprise_bills set paid=$2,
			status = case when $2 = amount_due then 'written_off' else status end,
			written_off_at = case when $2 = amount_due then now() else written_off_at end where id=$1`, d.BillID, d.Paid); err != nil {
			return fmt.Errorf("allocate to bill %s: %w", d.BillID, err)
		}
	}
	return nil
}

// BillInput names a bill.
type BillInput struct {
	BillID string `json:"billId"`
}

// Mail is a message a bill step sends; Ref makes sending it idempotent.
type Mail struct {
	ProjectID, Ref    string
	To, Subject, Body string
}

// Send delivers a Mail; the activities send through activities/mail.
type Send func(ctx context.Context, m Mail) error

// EmailBill sends the bill to the enterprise's address once.
func EmailBill(ctx context.Context, db *store.DB, in BillInput, send Send) error {
	var e Enterprise
	b, err := scanBill(db.QueryRow(ctx, `select `+billColumns+` from enterprise_bills b where b.id=$1`, in.BillID))
	if err != nil {
		return fmt.Errorf("bill %s: %w", in.BillID, err)
	}
	if err := db.QueryRow(ctx, `select code, name, email from enterprises where id=$1`, b.EnterpriseID).Scan(&e.Code, &e.Name, &e.Email); err != nil {
		return err
	}
	if b.Lines, b.PaymentList, err = lines(ctx, db, b.ID); err != nil {
		return err
	}
	text := bill.Render(bill.Header{EnterpriseName: e.Name, EnterpriseCode: e.Code, CycleNo: b.CycleNo, PeriodStart: b.PeriodStart,
		PeriodEnd: b.PeriodEnd, DueAt: b.DueAt}, b.Statement)
	if err := send(ctx, Mail{ProjectID: b.ProjectID, Ref: "bill/" + b.ID,
		To: e.Email, Subject: fmt.Sprintf("Bill %d: %s due %s", b.CycleNo, b.AmountDue, b.DueAt.Format("2006-01-02")), Body: text}); err != nil {
		return err
	}
	_, err = db.Exec(ctx, `update enterprise_bills set emailed_at=coalesce(emailed_at, now()) where id=$1`, b.ID)
	return err
}

// EscalateInput checks an enterprise's unpaid bills at a moment.
type EscalateInput struct {
	EnterpriseID string    `json:"enterpriseId"`
	At           time.Time `json:"at"`
}

// Escalated tells what was done.
type Escalated struct {
	Reminded  []int `json:"reminded"`  // cycle numbers reminded now
	Suspended bool  `json:"suspended"` // credit suspended now
}

// Escalate reminds overdue bills (催款) and suspends credit when a bill is
// still unpaid after its grace. The reminder is mailed before the bill is
// marked, so a retry after a crash mails (idempotently) again rather than
// never.
func Escalate(ctx context.Context, db *store.DB, in EscalateInput, send Send) (Escalated, error) {
	var out Escalated
	rows, err := db.Query(ctx, `select `+billColumns+` from enterprise_bills b where b.enterprise_id=$1 and b.status <> 'written_off'
		order by b.cycle_no`, in.EnterpriseID)
	if err != nil {
		return out, err
	}
	bills, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bill, error) { return scanBill(r) })
	if err != nil {
		return out, err
	}
	var email, name string
	if err := db.QueryRow(ctx, `select email, name from enterprises where id=$1`, in.EnterpriseID).Scan(&email, &name); err != nil {
		return out, err
	}
	for _, b := range bills {
		step := bill.Escalation(in.At, b.DueAt, b.SuspendAt, b.AmountDue.Sub(b.Paid), b.RemindedAt != nil, b.SuspendedAt != nil)
		// A bill suspended before anyone reminded (a check that came late) is reminded too.
		if step == bill.Remind || step == bill.Suspend && b.RemindedAt == nil {
			if err := send(ctx, Mail{ProjectID: b.ProjectID, Ref: "bill-reminder/" + b.ID,
				To: email, Subject: fmt.Sprintf("Reminder: bill %d is overdue", b.CycleNo),
				Body: fmt.Sprintf("Dear %s,\nbill %d of %s is overdue since %s; %s remains unpaid. Credit is suspended on %s unless it is repaid.\n",
					name, b.CycleNo, b.AmountDue, b.DueAt.Format(time.RFC3339), b.AmountDue.Sub(b.Paid), b.SuspendAt.Format(time.RFC3339))}); err != nil {
				return out, err
			}
			if _, err := db.Exec(ctx, `update enterprise_bills set status='overdue', reminded_at=$2 where id=$1 and status='issued'`, b.ID, in.At); err != nil {
				return out, err
			}
			out.Reminded = append(out.Reminded, b.CycleNo)
		}
		if step == bill.Suspend {
			err := store.InTx(ctx, db, func(tx pgx.Tx) error {
				// The lock orders this with Repay: a bill written off meanwhile suspends nothing.
				if _, err := tx.Exec(ctx, `select 1 from credit_accounts where enterprise_id=$1 for update`, in.EnterpriseID); err != nil {
					return err
				}
				tag, err := tx.Exec(ctx, `update enterprise_bills set status='overdue', reminded_at=coalesce(reminded_at, $2), suspended_at=$2
					where id=$1 and status <> 'written_off'`, b.ID, in.At)
				if err != nil || tag.RowsAffected() == 0 {
					return err
				}
				out.Suspended = true
				_, err = tx.Exec(ctx, `update credit_accounts set status='suspended', updated_at=now() where enterprise_id=$1`, in.EnterpriseID)
				return err
			})
			if err != nil {
				return out, fmt.Errorf("suspend credit of %s: %w", in.EnterpriseID, err)
			}
		}
	}
	return out, nil
}

// RepayInput is a repayment (还款) of what an enterprise owes on credit.
type RepayInput struct {
	ProjectID     string       `json:"projectId"`
	EnterpriseID  string       `json:"enterpriseId"`
	TransactionNo string       `json:"transactionNo"`
	Amount        money.Amount `json:"amount"`
	OperatorID    string       `json:"operatorId"`
}

// Repayment is a booked repayment with its receipt (收款单).
type Repayment struct {
	ID            string       `json:"id"`
	EnterpriseID  string       `json:"enterpriseId"`
	TransactionNo string       `json:"transactionNo"`
	Amount        money.Amount `json:"amount"`
	ReceiptNo     string       `json:"receiptNo"`
	CreatedAt     time.Time    `json:"createdAt"`
	// After this repayment:
	Owed       money.Amount      `json:"owed"`
	Credit     creditline.Status `json:"creditStatus"`
	WrittenOff []int             `json:"writtenOff"` // cycle numbers of the bills it wrote off
}

// Repay books a repayment under the credit account's lock, allocates it to
// bills oldest first (writing off each one it settles) and reinstates
// suspended credit once no bill is left unpaid past its due date. The
// transactionNo makes it idempotent; another amount under it is ErrKeyReused.
func Repay(ctx context.Context, db *store.DB, in RepayInput) (Repayment, bool, error) {
	var out Repayment
	var created bool
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var code string
		if err := tx.QueryRow(ctx, `select e.code from credit_accounts c join enterprises e on e.id=c.enterprise_id
			where c.enterprise_id=$1 and c.project_id=$2 for update of c`, in.EnterpriseID, in.ProjectID).Scan(&code); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return creditline.ErrNotOpen
			}
			return err
		}
		err := tx.QueryRow(ctx, `select id, enterprise_id, transaction_no, amount, receipt_no, created_at from credit_repayments
			where project_id=$1 and transaction_no=$2`, in.ProjectID, in.TransactionNo).Scan(
			&out.ID, &out.EnterpriseID, &out.TransactionNo, &out.Amount, &out.ReceiptNo, &out.CreatedAt)
		if err == nil {
			if out.EnterpriseID != in.EnterpriseID || !out.Amount.Equal(in.Amount) {
				return fmt.Errorf("repayment %s: %w", in.TransactionNo, ErrKeyReused)
			}
		} else {
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			acc, _, err := creditAccount(ctx, tx, in.ProjectID, in.EnterpriseID, code)
			if err != nil {
				return err
			}
			if err := acc.rules().CheckRepay(in.Amount); err != nil {
				return err
			}
			if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, creditline.RepaymentEntry("credit-repayment/"+in.TransactionNo, code,
				"repayment by "+code, in.Amount)); err != nil {
				return err
			}
			var seq int
			if err := tx.QueryRow(ctx, `select count(*)+1 from credit_repayments where enterprise_id=$1`, in.EnterpriseID).Scan(&seq); err != nil {
				return err
			}
			out = Repayment{ID: uuid.NewString(), EnterpriseID: in.EnterpriseID, TransactionNo: in.TransactionNo, Amount: in.Amount,
				ReceiptNo: fmt.Sprintf("RC-%s-%05d", code, seq)}
			var by any
			if in.OperatorID != "" {
				by = in.OperatorID
			}
			if err := tx.QueryRow(ctx, `insert into credit_repayments(id, project_id, enterprise_id, transaction_no, amount, receipt_no, created_by)
				values($1,$2,$3,$4,$5,$6,$7) returning created_at`, out.ID, in.ProjectID, in.EnterpriseID, in.TransactionNo, in.Amount,
				out.ReceiptNo, by).Scan(&out.CreatedAt); err != nil {
				return fmt.Errorf("record repayment %s: %w", in.TransactionNo, err)
			}
			created = true
			before, err := writtenOff(ctx, tx, in.EnterpriseID)
			if err != nil {
				return err
			}
			if err := allocate(ctx, tx, in.EnterpriseID); err != nil {
				return err
			}
			after, err := writtenOff(ctx, tx, in.EnterpriseID)
			if err != nil {
				return err
			}
			out.WrittenOff = after[len(before):]
			// Reinstate once nothing is unpaid past its due date.
			if _, err := tx.Exec(ctx, `update credit_accounts set status='active', updated_at=now() where enterprise_id=$1 and status='suspended'
				and not exists (select 1 from enterprise_bills where enterprise_id=$1 and paid < amount_due and due_at <= now())`, in.EnterpriseID); err != nil {
				return err
			}
		}
		acc, _, err := creditAccount(ctx, tx, in.ProjectID, in.EnterpriseID, code)
		if err != nil {
			return err
		}
		out.Owed, out.Credit = acc.Used, acc.Status
		if out.WrittenOff == nil {
			out.WrittenOff = []int{}
		}
		return nil
	})
	return out, created, err
}

// writtenOff lists the cycle numbers of written-off bills with a debt, in
// the order they were settled (oldest first, as allocation goes).
func writtenOff(ctx context.Context, tx pgx.Tx, enterpriseID string) ([]int, error) {
	rows, err := tx.Query(ctx, `select cycle_no from enterprise_bills where enterprise_id=$1 and status='written_off' and amount_due > 0
		order by cycle_no`, enterpriseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}
