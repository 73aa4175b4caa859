package voucher

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

// Redemption is a voucher paying part of a recharge.
type Redemption struct {
	ID         string       `json:"id"`
	ProjectID  string       `json:"projectId"`
	VoucherID  string       `json:"voucherId"`
	VoucherNo  string       `json:"voucherNo"`
	RechargeID string       `json:"rechargeId"`
	MeterNo    string       `json:"meterNo"`
	Amount     money.Amount `json:"amount"`
	Key        string       `json:"key"`
	CreatedBy  string       `json:"createdBy"`
	CreatedAt  time.Time    `json:"createdAt"`
}

// Errors of Redeem.
var (
	ErrRechargeNotPaid = errors.New("only a completed recharge to a meter-side prepaid meter can take a voucher")
	ErrKeyReused       = errors.New("the idempotency key was used for a different redemption")
	ErrWalletShort     = errors.New("the meter's wallet no longer holds the recharge's value")
)

// RedeemInput spends amount of a voucher on a recharge, idempotent by Key.
type RedeemInput struct {
	ID         string
	ProjectID  string
	VoucherID  string
	RechargeID string
	Amount     money.Amount
	Key        string
	CreatedBy  string
	Now        time.Time
}

// Redeem spends a voucher on a completed recharge. The customer paid that
// much less cash, and that much of what the meter holds is voucher value:
//
//	voucher:<no>        debit   (the voucher's unused value falls)
//	cash                credit  (cash handed back / never taken)
//	meter-wallet:<m>    debit   (the cash the meter's balance stands for falls)
//	meter-voucher:<m>   credit  (voucher value the meter holds, never refundable)
//
// so a later refund (退电), bounded by the meter's cash wallet, never pays
// voucher value out. Voucher, recharge and wallet are locked; a refusal
// writes nothing. A repeated key returns the first redemption.
func Redeem(ctx context.Context, db *store.DB, in RedeemInput) (Redemption, bool, error) {
	var out Redemption
	var created bool
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		prev, err := redemptionByKey(ctx, tx, in.ProjectID, in.Key)
		if err == nil {
			if prev.VoucherID != in.VoucherID || prev.RechargeID != in.RechargeID || !prev.Amount.Equal(in.Amount) {
				return ErrKeyReused
			}
			out = prev
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		v, err := scanVoucher(tx.QueryRow(ctx, `select `+voucherColumns+` from vouchers v where v.id=$1 and v.project_id=$2 for update`,
			in.VoucherID, in.ProjectID))
		if err != nil {
			return err
		}
		var meterID, meterNo, status, mode string
		var amount, redeemed money.Amount
		err = tx.QueryRow(ctx, `select r.meter_id, r.meter_no, r.status, m.prepaid_mode, r.amount,
			coalesce((select sum(amount) from voucher_redemptions x where x.recharge_id=r.id), 0)
			from recharges r join meters m on m.id=r.meter_id where r.id=$1 and r.project_id=$2 for update of r`,
			in.RechargeID, in.ProjectID).Scan(&meterID, &meterNo, &status, &mode, &amount, &redeemed)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("recharge %s: %w", in.RechargeID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if status != "completed" || mode != "meter" {
			return fmt.Errorf("recharge is %s on a %s-side meter: %w", status, mode, ErrRechargeNotPaid)
		}
		held := voucherdom.Held{Status: v.Status, ExpiresAt: v.ExpiresAt, Unused: v.Unused}
		if err := held.CheckRedeem(in.Now, in.Amount, amount.Sub(redeemed)); err != nil {
			return err
		}
		wallet := ledgerdom.MeterWallet(meterNo)
		var raw money.Amount
		err = tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2 for update`, in.ProjectID, wallet).Scan(&raw)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock wallet %s: %w", wallet, err)
		}
		if have := ledgerdom.Display(ledgerdom.Liability, raw); in.Amount.GreaterThan(have) {
			return fmt.Errorf("wallet %s holds %s: %w", wallet, have, ErrWalletShort)
		}
		entryKey := "voucher/" + v.VoucherNo + "/redeemed/" + in.ID
		a := in.Amount
		e := ledgerdom.Entry{Key: entryKey, Kind: "voucher-redeemed",
			Memo: fmt.Sprintf("voucher %s paid %s of recharge %s", v.VoucherNo, a, in.RechargeID),
			Postings: []ledgerdom.Posting{
				{Account: voucherdom.Account(v.VoucherNo), Kind: ledgerdom.Liability, Amount: a},
				{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset, Amount: a.Neg()},
				{Account: wallet, Kind: ledgerdom.Liability, Amount: a},
				{Account: voucherdom.MeterAccount(meterNo), Kind: ledgerdom.Liability, Amount: a.Neg()},
			}}
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into voucher_redemptions(id, project_id, voucher_id, recharge_id, meter_id, amount, transaction_no, created_by)
			values($1,$2,$3,$4,$5,$6,$7,$8)`, in.ID, in.ProjectID, v.ID, in.RechargeID, meterID, a, in.Key, in.CreatedBy); err != nil {
			return err
		}
		if held.After(a) == voucherdom.Used {
			if _, err := tx.Exec(ctx, `update vouchers set status='used', closed_at=now() where id=$1`, v.ID); err != nil {
				return err
			}
		}
		out, err = redemptionByKey(ctx, tx, in.ProjectID, in.Key)
		created = true
		return err
	})
	return out, created, err
}

func redemptionByKey(ctx context.Context, q querier, projectID, key string) (Redemption, error) {
	var r Redemption
	err := q.QueryRow(ctx, `select x.id, x.project_id, x.voucher_id, v.voucher_no, x.recharge_id, m.meter_no, x.amount, x.transaction_no,
		x.created_by, x.created_at from voucher_redemptions x join vouchers v on v.id=x.voucher_id join meters m on m.id=x.meter_id
		where x.project_id=$1 and x.transaction_no=$2`, projectID, key).Scan(&r.ID, &r.ProjectID, &r.VoucherID, &r.VoucherNo,
		&r.RechargeID, &r.MeterNo, &r.Amount, &r.Key, &r.CreatedBy, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}
