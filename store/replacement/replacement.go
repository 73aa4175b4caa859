// Package replacement stores meter replacements (换表, meter_replacements):
// the rows the API creates and shows, the checks it runs before starting
// one, and the writes activities/replacement makes while the workflow
// moves the old meter's balance to the new one — the ledger entry, the
// swap in the account and unit and the old meter's retirement commit
// together.
package replacement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// Status of a replacement.
type Status string

// Statuses: pending → reading → (awaiting_reading →) moving → completed,
// or failed when the new meter could not be written.
const (
	Pending         Status = "pending"
	Reading         Status = "reading"
	AwaitingReading Status = "awaiting_reading"
	Moving          Status = "moving"
	Completed       Status = "completed"
	Failed          Status = "failed"
)

// Replacement is one replacement as the API shows it.
type Replacement struct {
	ID               string        `json:"id"`
	ProjectID        string        `json:"-"`
	TransactionNo    string        `json:"transactionNo"`
	RequestHash      string        `json:"-"`
	OldMeterID       string        `json:"-"`
	OldMeterNo       string        `json:"oldMeterNo"`
	NewMeterID       string        `json:"-"`
	NewMeterNo       string        `json:"newMeterNo"`
	Status           Status        `json:"status"`
	WorkflowID       string        `json:"workflowId"`
	FinalRemaining   *money.Amount `json:"finalRemaining"`
	FinalEnergyKwh   *money.Amount `json:"finalCounterKwh"`
	Manual           bool          `json:"manualReading"`
	ManualReason     string        `json:"manualReason,omitempty"`
	ManualRemaining  *money.Amount `json:"-"`
	ManualEnergyKwh  *money.Amount `json:"-"`
	SwitchedOff      bool          `json:"switchedOff"`
	Moved            *money.Amount `json:"moved"`
	NewRemaining     *money.Amount `json:"newRemaining"`
	NewPurchaseCount *int          `json:"newPurchaseCount"`
	Failure          string        `json:"failure,omitempty"`
	SwitchOffCommand string        `json:"switchOffCommandId"`
	ClearCommand     string        `json:"clearCommandId"`
	CreatedBy        string        `json:"createdBy"`
	CreatedAt        time.Time     `json:"createdAt"`
	UpdatedAt        time.Time     `json:"updatedAt"`
	CompletedAt      *time.Time    `json:"completedAt,omitempty"`
}

// Errors of the checks and of Create.
var (
	ErrNotFound = errors.New("meter replacement not found")
	// ErrMeterBusy: one of the meters is in another open replacement.
	ErrMeterBusy = errors.New("a meter of this replacement is in another replacement under way")
)

const columns = `id, project_id, transaction_no, request_hash, old_meter_id, old_meter_no, new_meter_id, new_meter_no,
	status, workflow_id, final_remaining, final_energy_kwh, manual, manual_reason, manual_remaining, manual_energy_kwh,
	switched_off, moved, new_remaining, new_purchase_count, failure, switch_off_command_id, clear_command_id,
	created_by, created_at, updated_at, completed_at`

func scan(row pgx.Row) (Replacement, error) {
	var r Replacement
	var status string
	err := row.Scan(&r.ID, &r.ProjectID, &r.TransactionNo, &r.RequestHash, &r.OldMeterID, &r.OldMeterNo, &r.NewMeterID,
		&r.NewMeterNo, &status, &r.WorkflowID, &r.FinalRemaining, &r.FinalEnergyKwh, &r.Manual, &r.ManualReason,
		&r.ManualRemaining, &r.ManualEnergyKwh, &r.SwitchedOff, &r.Moved, &r.NewRemaining, &r.NewPurchaseCount, &r.Failure,
		&r.SwitchOffCommand, &r.ClearCommand, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.CompletedAt)
	r.Status = Status(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Get reads one replacement within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Replacement, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from meter_replacements where id::text=$1 and project_id::text = any($2)`,
		id, projects))
}

// Meter is what the API checks of a meter before a replacement.
type Meter struct {
	ID          string
	ProjectID   string
	MeterNo     string
	Status      string // active | retired
	PrepaidMode string // meter | platform
	Kind        string
	UnitID      *string
	AccountID   *string
	// AccountOpen: the meter is in an open account.
	AccountOpen bool
}

// FindMeter finds a meter by number in any project (the API answers 404
// for one outside the caller's project); pgx.ErrNoRows when unknown.
func FindMeter(ctx context.Context, db *store.DB, meterNo string) (Meter, error) {
	var m Meter
	err := db.QueryRow(ctx, `select m.id, m.project_id, m.meter_no, m.status, m.prepaid_mode, m.kind, m.unit_id::text,
			m.account_id::text, coalesce(a.status = 'open', false)
		from meters m left join prepaid_accounts a on a.id=m.account_id where m.meter_no=$1`, meterNo).
		Scan(&m.ID, &m.ProjectID, &m.MeterNo, &m.Status, &m.PrepaidMode, &m.Kind, &m.UnitID, &m.AccountID, &m.AccountOpen)
	return m, err
}

// Busy reports whether a meter has a sale or refund not yet final: its
// money would miss the final reading.
func Busy(ctx context.Context, db *store.DB, meterID string) (bool, error) {
	var busy bool
	err := db.QueryRow(ctx, `select exists(select 1 from recharges where meter_id=$1
			and status in ('pending_approval','approved','dispatching','dispatch_failed'))
		or exists(select 1 from refunds where meter_id=$1
			and status in ('pending_approval','approved','dispatching','dispatch_failed'))`, meterID).Scan(&busy)
	return busy, err
}

// State reports whether a meter is retired, and whether it is in a
// replacement under way (a sale then would miss the final reading).
func State(ctx context.Context, db *store.DB, meterID string) (retired, replacing bool, err error) {
	err = db.QueryRow(ctx, `select exists(select 1 from meters where id=$1 and status='retired'),
		exists(select 1 from meter_replacements where (old_meter_id=$1 or new_meter_id=$1)
			and status not in ('completed','failed'))`, meterID).Scan(&retired, &replacing)
	return retired, replacing, err
}

// NewCommand is one device command row a replacement logs (meter_commands).
type NewCommand struct {
	ID, MeterID, MeterNo, Command string
}

// Create inserts a replacement and its two command rows. With its
// transaction number already used in the project it inserts nothing and
// returns the earlier replacement with created=false; the caller compares
// the request hashes. ErrMeterBusy when a meter is in another open one.
func Create(ctx context.Context, db *store.DB, r Replacement, switchOff, clear NewCommand) (Replacement, bool, error) {
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		for _, c := range []NewCommand{switchOff, clear} {
			if _, err := tx.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
				workflow_id, created_by) values($1,$2,$3,$4,$5,'{}','pending',$6,$7)`,
				c.ID, r.ProjectID, c.MeterID, c.MeterNo, c.Command, r.WorkflowID, r.CreatedBy); err != nil {
				return fmt.Errorf("replacement command %s: %w", c.Command, err)
			}
		}
		_, err := tx.Exec(ctx, `insert into meter_replacements(id, project_id, transaction_no, request_hash, old_meter_id,
			old_meter_no, new_meter_id, new_meter_no, status, workflow_id, manual_remaining, manual_energy_kwh, manual_reason,
			switch_off_command_id, clear_command_id, created_by) values($1,$2,$3,$4,$5,$6,$7,$8,'pending',$9,$10,$11,$12,$13,$14,$15)`,
			r.ID, r.ProjectID, r.TransactionNo, r.RequestHash, r.OldMeterID, r.OldMeterNo, r.NewMeterID, r.NewMeterNo,
			r.WorkflowID, r.ManualRemaining, r.ManualEnergyKwh, r.ManualReason, switchOff.ID, clear.ID, r.CreatedBy)
		return err
	})
	if store.IsUniqueViolation(err) {
		existing, gerr := scan(db.QueryRow(ctx, `select `+columns+` from meter_replacements where project_id=$1 and transaction_no=$2`,
			r.ProjectID, r.TransactionNo))
		if errors.Is(gerr, ErrNotFound) {
			return Replacement{}, false, ErrMeterBusy // not the key: the open-replacement indexes
		}
		return existing, false, gerr
	}
	if err != nil {
		return Replacement{}, false, fmt.Errorf("create meter replacement: %w", err)
	}
	created, err := Get(ctx, db, []string{r.ProjectID}, r.ID)
	return created, true, err
}

// StatusInput moves a replacement to a status (with the failure of failed).
type StatusInput struct {
	ReplacementID string `json:"replacementId"`
	Status        Status `json:"status"`
	Failure       string `json:"failure,omitempty"`
}

// SetStatus writes the status the API shows; a final replacement is left alone.
func SetStatus(ctx context.Context, db *store.DB, in StatusInput) error {
	_, err := db.Exec(ctx, `update meter_replacements set status=$2, failure=$3, updated_at=now(),
		completed_at = case when $2 in ('completed','failed') then now() end
		where id=$1 and status not in ('completed','failed')`, in.ReplacementID, string(in.Status), in.Failure)
	if err != nil {
		return fmt.Errorf("meter replacement %s status %s: %w", in.ReplacementID, in.Status, err)
	}
	return nil
}

// ReadingInput records the old meter's final reading.
type ReadingInput struct {
	ReplacementID string       `json:"replacementId"`
	Remaining     money.Amount `json:"remaining"`
	EnergyKwh     money.Amount `json:"energyKwh"`
	Manual        bool         `json:"manual"`
	Reason        string       `json:"reason,omitempty"`
	SwitchedOff   bool         `json:"switchedOff"`
}

// RecordReading records the final reading and moves the replacement to moving.
func RecordReading(ctx context.Context, db *store.DB, in ReadingInput) error {
	_, err := db.Exec(ctx, `update meter_replacements set final_remaining=$2, final_energy_kwh=$3, manual=$4,
		manual_reason=case when $4 then $5 else manual_reason end, switched_off=$6, status='moving', updated_at=now()
		where id=$1 and status not in ('completed','failed')`,
		in.ReplacementID, in.Remaining, in.EnergyKwh, in.Manual, in.Reason, in.SwitchedOff)
	if err != nil {
		return fmt.Errorf("meter replacement %s reading: %w", in.ReplacementID, err)
	}
	return nil
}

// CompleteInput ends a replacement whose balance the new meter took.
type CompleteInput struct {
	ReplacementID string `json:"replacementId"`
	ProjectID     string `json:"projectId"`
	OldMeterID    string `json:"oldMeterId"`
	OldMeterNo    string `json:"oldMeterNo"`
	NewMeterID    string `json:"newMeterId"`
	NewMeterNo    string `json:"newMeterNo"`
	// Moved is what the new meter was given: the old meter's final
	// remaining, or zero when that was zero or below (an overdraft is not
	// carried over).
	Moved money.Amount `json:"moved"`
	// The new meter's state read back after the write (nil purchase count:
	// nothing was written beyond clearing it).
	NewRemaining     money.Amount `json:"newRemaining"`
	NewPurchaseCount *int         `json:"newPurchaseCount,omitempty"`
}

// Complete books the move, puts the new meter in the old one's account and
// unit, retires the old meter and marks the replacement completed, in one
// transaction. Completing again changes nothing.
//
// The booking (key meter-replacement/<id>): the old meter's cash wallet and
// voucher account are emptied; the new meter's accounts are credited with
// what it was given (voucher value first, up to what it held, so vouchers
// stay vouchers); the difference — energy the old meter used that no
// billing booked, or an opening balance never sold through the platform —
// goes to consumption income, as a closing (销户) books it.
func Complete(ctx context.Context, db *store.DB, in CompleteInput) error {
	return store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `select status from meter_replacements where id=$1 for update`, in.ReplacementID).Scan(&status); err != nil {
			return fmt.Errorf("meter replacement %s: %w", in.ReplacementID, err)
		}
		if status == string(Completed) {
			return nil
		}
		held := func(code string) (money.Amount, error) {
			var raw money.Amount
			err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`,
				in.ProjectID, code).Scan(&raw)
			if errors.Is(err, pgx.ErrNoRows) {
				return money.Zero, nil
			}
			return ledgerdom.Display(ledgerdom.Liability, raw), err
		}
		wallet, err := held(ledgerdom.MeterWallet(in.OldMeterNo))
		if err != nil {
			return err
		}
		vouchers, err := held(voucherdom.MeterAccount(in.OldMeterNo))
		if err != nil {
			return err
		}
		e := Entry(in.ReplacementID, in.OldMeterNo, in.NewMeterNo, wallet, vouchers, in.Moved)
		if len(e.Postings) >= 2 {
			if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `update meters n set account_id=o.account_id, unit_id=o.unit_id
			from meters o where n.id=$1 and o.id=$2`, in.NewMeterID, in.OldMeterID); err != nil {
			return fmt.Errorf("new meter %s takes %s's place: %w", in.NewMeterNo, in.OldMeterNo, err)
		}
		if _, err := tx.Exec(ctx, `update meters set status='retired', retired_at=now(), account_id=null, unit_id=null
			where id=$1`, in.OldMeterID); err != nil {
			return fmt.Errorf("retire meter %s: %w", in.OldMeterNo, err)
		}
		_, err = tx.Exec(ctx, `update meter_replacements set status='completed', moved=$2, new_remaining=$3,
			new_purchase_count=$4, failure='', updated_at=now(), completed_at=now() where id=$1`,
			in.ReplacementID, in.Moved, in.NewRemaining, in.NewPurchaseCount)
		return err
	})
}

// Entry is the replacement's journal entry (see Complete); postings of
// zero are left out, and an entry with fewer than two moves nothing.
func Entry(replacementID, oldMeterNo, newMeterNo string, wallet, vouchers, moved money.Amount) ledgerdom.Entry {
	e := ledgerdom.Entry{Key: "meter-replacement/" + replacementID, Kind: "meter-replacement",
		Memo: "meter " + oldMeterNo + " replaced by " + newMeterNo + " (换表)"}
	add := func(code string, kind ledgerdom.Kind, amount money.Amount) {
		if !amount.IsZero() {
			e.Postings = append(e.Postings, ledgerdom.Posting{Account: code, Kind: kind, Amount: amount})
		}
	}
	newVouchers := vouchers
	if newVouchers.IsNegative() {
		newVouchers = money.Zero
	}
	if newVouchers.GreaterThan(moved) {
		newVouchers = moved
	}
	// Liabilities are credit-normal: emptying the old accounts debits them,
	// crediting the new ones posts negative amounts.
	add(ledgerdom.MeterWallet(oldMeterNo), ledgerdom.Liability, wallet)
	add(voucherdom.MeterAccount(oldMeterNo), ledgerdom.Liability, vouchers)
	add(ledgerdom.MeterWallet(newMeterNo), ledgerdom.Liability, moved.Sub(newVouchers).Neg())
	add(voucherdom.MeterAccount(newMeterNo), ledgerdom.Liability, newVouchers.Neg())
	add(ledgerdom.ConsumptionIncome, ledgerdom.Income, moved.Sub(wallet).Sub(vouchers))
	return e
}

// ByTransaction reads the replacement a transaction number started in a
// project (ErrNotFound: none).
func ByTransaction(ctx context.Context, db *store.DB, projectID, transactionNo string) (Replacement, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from meter_replacements where project_id=$1 and transaction_no=$2`,
		projectID, transactionNo))
}
