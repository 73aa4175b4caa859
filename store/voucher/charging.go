package voucher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/enterprise"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// OrderRedemption is a voucher that took part of a charging order off.
type OrderRedemption struct {
	ID        string       `json:"id"`
	VoucherID string       `json:"voucherId"`
	VoucherNo string       `json:"voucherNo"`
	OrderID   string       `json:"orderId"`
	Rule      string       `json:"rule"`
	Amount    money.Amount `json:"amount"`
	// The order after the voucher: what its payer paid, and the voucher's part.
	OrderAmount   money.Amount `json:"orderAmount"`
	VoucherAmount money.Amount `json:"voucherAmount"`
	CreatedAt     time.Time    `json:"createdAt"`
}

// Errors of RedeemOnOrder.
var (
	ErrOrderNotFound  = errors.New("charging order not found")
	ErrOtherCustomer  = errors.New("the voucher belongs to another customer than the order's")
	ErrAlreadyApplied = chargepay.ErrAlreadyApplied
)

// RedeemOnOrderInput spends a voucher on a settled charging order.
type RedeemOnOrderInput struct {
	ID        string
	Projects  []string
	VoucherID string
	OrderID   string
	CreatedBy string
	Now       time.Time
}

// RedeemOnOrder takes what the voucher's rule allows off a completed
// charging order (F5/F6), once per order: the order's amount falls by it
// and the payer's wallet (the card's, or the enterprise's) gets it back:
//
//	voucher:<no>                 debit   (the voucher's unused value falls)
//	customer-wallet / enterprise credit  (the payer paid that much less)
//
// A second redemption on the order, with this voucher or another, is
// ErrAlreadyApplied and writes nothing.
func RedeemOnOrder(ctx context.Context, db *store.DB, in RedeemOnOrderInput) (OrderRedemption, error) {
	var out OrderRedemption
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var projectID, accountNo, enterpriseID, status string
		var customerID *string
		var o chargepay.Order
		err := tx.QueryRow(ctx, `select project_id::text, status, paid_by, coalesce(account_no,''), coalesce(enterprise_id::text,''),
			customer_id::text, coalesce(amount,0), coalesce(service_fee,0), coalesce(discount,0), voucher_amount
			from charging_orders where id::text=$1 and project_id::text = any($2) for update`, in.OrderID, in.Projects).
			Scan(&projectID, &status, &o.PaidBy, &accountNo, &enterpriseID, &customerID, &o.Amount, &o.ServiceFee, &o.Discount, &o.Voucher)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s: %w", in.OrderID, ErrOrderNotFound)
		}
		if err != nil {
			return err
		}
		o.Status = status
		v, err := scanVoucher(tx.QueryRow(ctx, `select `+voucherColumns+` from vouchers v where v.id::text=$1 and v.project_id=$2 for update`,
			in.VoucherID, projectID))
		if err != nil {
			return err
		}
		if customerID == nil || *customerID != v.CustomerID {
			return ErrOtherCustomer
		}
		held := voucherdom.Held{Status: v.Status, ExpiresAt: v.ExpiresAt, Unused: v.Unused}
		if held.Status != voucherdom.Active || !in.Now.Before(held.ExpiresAt) {
			return fmt.Errorf("voucher is %s, expires %s: %w", held.Status, held.ExpiresAt.Format(time.RFC3339), voucherdom.ErrNotRedeemable)
		}
		a, err := chargepay.VoucherAmount(chargepay.Rule(v.ChargingRule), o, v.Unused)
		if err != nil {
			return err
		}
		payer := ledgerdom.Posting{Account: ledgerdom.CustomerWallet(accountNo), Kind: ledgerdom.Liability}
		if o.PaidBy == chargepay.EnterpriseWallet {
			var code string
			if err := tx.QueryRow(ctx, `select code from enterprises where id::text=$1`, enterpriseID).Scan(&code); err != nil {
				return fmt.Errorf("enterprise of order %s: %w", in.OrderID, err)
			}
			payer.Account = enterprise.Wallet(code)
		}
		e := ledgerdom.Transfer("voucher/"+v.VoucherNo+"/order/"+in.OrderID, "voucher-redeemed",
			fmt.Sprintf("voucher %s paid %s of charging order %s", v.VoucherNo, a, in.OrderID),
			payer, ledgerdom.Posting{Account: voucherdom.Account(v.VoucherNo), Kind: ledgerdom.Liability}, a)
		if _, err := ledgerstore.BookTx(ctx, tx, projectID, e); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into charging_voucher_redemptions(id, project_id, voucher_id, order_id, amount, created_by)
			values($1,$2,$3,$4,$5,nullif($6,'')::uuid)`, in.ID, projectID, v.ID, in.OrderID, a, in.CreatedBy); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrAlreadyApplied
			}
			return err
		}
		if _, err := tx.Exec(ctx, `update charging_orders set amount=amount-$2, voucher_amount=$2, updated_at=now() where id::text=$1`,
			in.OrderID, a); err != nil {
			return err
		}
		if held.After(a) == voucherdom.Used {
			if _, err := tx.Exec(ctx, `update vouchers set status='used', closed_at=now() where id=$1`, v.ID); err != nil {
				return err
			}
		}
		out = OrderRedemption{ID: in.ID, VoucherID: v.ID, VoucherNo: v.VoucherNo, OrderID: in.OrderID, Rule: v.ChargingRule,
			Amount: a, OrderAmount: o.Amount.Sub(a), VoucherAmount: a, CreatedAt: in.Now}
		return nil
	})
	return out, err
}
