package closing

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// SettleInput settles a closing.
type SettleInput struct {
	ClosingID string `json:"closingId"`
	ProjectID string `json:"projectId"`
	MeterID   string `json:"meterId"`
	MeterNo   string `json:"meterNo"`
}

// Settled is the final settlement.
type Settled struct {
	FinalBalance money.Amount `json:"finalBalance"`
	WrittenOff   money.Amount `json:"writtenOff"`
}

// Settle books what the meter's cash wallet and voucher account still hold
// after the refund to consumption income (cash the meter used up, and
// voucher value, which is never paid out), records the final balance (what
// both held before the settlement) and closes the account, in one
// transaction. Settling again books nothing new.
func Settle(ctx context.Context, db *store.DB, in SettleInput) (Settled, error) {
	var out Settled
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status string
		var final *money.Amount
		if err := tx.QueryRow(ctx, `select status, final_balance from account_closings where id=$1 for update`, in.ClosingID).Scan(&status, &final); err != nil {
			return fmt.Errorf("closing %s: %w", in.ClosingID, err)
		}
		if status == string(StatusClosed) && final != nil {
			return tx.QueryRow(ctx, `select final_balance, written_off from account_closings where id=$1`, in.ClosingID).
				Scan(&out.FinalBalance, &out.WrittenOff)
		}
		e := ledgerdom.Entry{Key: "account-closing/" + in.ClosingID + "/settled", Kind: "account-closed",
			Memo: "account of meter " + in.MeterNo + " closed (销户)"}
		total := money.Zero
		for _, code := range []string{ledgerdom.MeterWallet(in.MeterNo), voucherdom.MeterAccount(in.MeterNo)} {
			var raw money.Amount
			err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`, in.ProjectID, code).Scan(&raw)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if held := ledgerdom.Display(ledgerdom.Liability, raw); !held.IsZero() {
				e.Postings = append(e.Postings, ledgerdom.Posting{Account: code, Kind: ledgerdom.Liability, Amount: held})
				total = total.Add(held)
			}
		}
		if !total.IsZero() {
			e.Postings = append(e.Postings, ledgerdom.Posting{Account: ledgerdom.ConsumptionIncome, Kind: ledgerdom.Income, Amount: total.Neg()})
			if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
				return err
			}
		}
		var refunded money.Amount
		if err := tx.QueryRow(ctx, `select coalesce((select f.amount from refunds f join account_closings c on c.refund_id=f.id
			where c.id=$1 and f.status='completed'), 0)`, in.ClosingID).Scan(&refunded); err != nil {
			return err
		}
		out = Settled{FinalBalance: total.Add(refunded), WrittenOff: total}
		if _, err := tx.Exec(ctx, `update account_closings set status='closed', final_balance=$2, written_off=$3, closed_at=now(),
			updated_at=now() where id=$1`, in.ClosingID, out.FinalBalance, out.WrittenOff); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update prepaid_accounts set status='closed' where id=(select account_id from meters where id=$1)`, in.MeterID)
		return err
	})
	return out, err
}
