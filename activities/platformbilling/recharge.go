package platformbilling

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	metercmddom "github.com/voltflow/voltflow/domain/metercmd"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
)

// Reasons of a meter's last cut-off (LastCutOff).
const (
	CutOffArrears = "arrears" // billing switched it off: the wallet ran out
	CutOffManual  = "manual"  // an operator switched it off (or forced it off)
)

// LastCutOff tells why a meter was last cut off, from the command log: the
// latest relay command not known to have failed decides — a switch-off
// billing issued (no operator) is arrears, one an operator issued is
// manual, and a switch-on or release since means it is not cut off ("").
// The log is the record of who cut a meter off, so no second copy of that
// fact can drift from it.
func LastCutOff(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, meterID string) (string, error) {
	var cmd string
	var byOperator bool
	err := q.QueryRow(ctx, `select command, created_by is not null from meter_commands
		where meter_id=$1 and status <> 'failed' and command in ('switch_off','forced_off','switch_on','prepaid_mode','release')
		order by created_at desc, id desc limit 1`, meterID).Scan(&cmd, &byOperator)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("last cut-off of meter %s: %w", meterID, err)
	case cmd == string(metercmddom.SwitchOff) || cmd == string(metercmddom.ForcedOff):
		if byOperator {
			return CutOffManual, nil
		}
		return CutOffArrears, nil
	}
	return "", nil
}

// CreditInput is a completed sale (售电) to a platform-side meter; it lives
// in store/platformbilling so the recharge workflow builds it without this package.
type CreditInput = platformbillingstore.CreditInput

// CreditResult is the wallet after the credit and the switch-on it caused.
type CreditResult struct {
	Balance  money.Amount `json:"balance"`
	SwitchOn *Switch      `json:"switchOn,omitempty"`
}

// deliveredKey is the same ledger key activities/recharge books a
// meter-side delivery under: one recharge reaches its wallet once, whichever
// way it went.
func deliveredKey(rechargeID string) string { return "recharge/" + rechargeID + "/delivered" }

// switchOnKey is the idempotency key of the switch-on a recharge causes.
func switchOnKey(rechargeID string) string { return "recharge/" + rechargeID + "/switch_on" }

// CreditRecharge delivers a booked sale to a platform-side meter: the
// platform holds the balance, so there is nothing to write into the meter —
// the money moves from pending delivery to the meter's wallet and the
// recharge is completed. If billing had cut the meter off for arrears and
// the wallet plus overdraft is now above zero, a switch-on command is
// recorded in the same transaction and its meter-command workflow started;
// a meter an operator cut off stays off. Running it again books nothing
// twice and starts the same command again (harmless).
func (a *Activities) CreditRecharge(ctx context.Context, in CreditInput) (CreditResult, error) {
	var out CreditResult
	var feeOn *Switch // the property-fee hold's switch-on, if this credit released it
	err := store.InTx(ctx, a.DB, func(tx pgx.Tx) error {
		out, feeOn = CreditResult{}, nil
		// The billing row lock orders this credit with the sweep's billing
		// of the same meter, so the two never both switch it on.
		var projectCode string
		err := tx.QueryRow(ctx, `select p.code from meters m join projects p on p.id=m.project_id
			where m.id=$1 and m.prepaid_mode='platform'`, in.MeterID).Scan(&projectCode)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("recharge %s: meter %s is not platform-side", in.RechargeID, in.MeterNo)
		}
		if err != nil {
			return fmt.Errorf("meter %s: %w", in.MeterNo, err)
		}
		// The billing row lock orders this credit with the sweep's billing
		// of the same meter, so the two never both switch it on. A meter
		// never billed has no row: it was never cut off by billing.
		var s state
		err = tx.QueryRow(ctx, `select cut_off, switch_seq from meter_billing where meter_id=$1 for update`,
			in.MeterID).Scan(&s.cutOff, &s.seq)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("billing state of meter %s: %w", in.MeterNo, err)
		}
		e := ledgerdom.Transfer(deliveredKey(in.RechargeID), "recharge-delivered", "platform wallet of meter "+in.MeterNo+" credited",
			ledgerdom.Posting{Account: ledgerdom.MeterWallet(in.MeterNo), Kind: ledgerdom.Liability},
			ledgerdom.Posting{Account: ledgerdom.PendingDeliveryCode, Kind: ledgerdom.Liability}, in.Amount)
		if _, err := ledgerstore.BookTx(ctx, tx, in.ProjectID, e); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update recharges set status='completed', failure='',
			completed_at=coalesce(completed_at, now()), updated_at=now() where id=$1`, in.RechargeID); err != nil {
			return fmt.Errorf("complete recharge %s: %w", in.RechargeID, err)
		}
		balance, err := walletTx(ctx, tx, in.ProjectID, in.MeterNo)
		if err != nil {
			return err
		}
		out.Balance = balance
		// The property-fee hold is released first (store/fee cutoff.go): it
		// switches the meter on only when billing does not hold it as well;
		// billing, below, leaves its switch-on to a fee hold still open.
		if feeOn, err = feestore.ReleaseTx(ctx, tx, in.ProjectID, in.MeterNo); err != nil {
			return err
		}
		sw := Switch{ProjectID: in.ProjectID, ProjectCode: projectCode, MeterID: in.MeterID, MeterNo: in.MeterNo,
			Command: string(metercmddom.SwitchOn), Balance: balance}
		// A retry after the commit finds the command it recorded.
		err = tx.QueryRow(ctx, `select id::text, workflow_id from meter_commands where project_id=$1 and idempotency_key=$2`,
			in.ProjectID, switchOnKey(in.RechargeID)).Scan(&sw.CommandID, &sw.WorkflowID)
		if err == nil {
			out.SwitchOn = &sw
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("switch-on of recharge %s: %w", in.RechargeID, err)
		}
		if !s.cutOff {
			return nil
		}
		overdraft, err := platformbillingstore.Overdraft(ctx, tx, in.MeterID)
		if err != nil || !balance.Add(overdraft).IsPositive() {
			return err
		}
		reason, err := LastCutOff(ctx, tx, in.MeterID)
		if err != nil || reason == CutOffManual {
			return err
		}
		if held, err := feestore.HeldTx(ctx, tx, in.MeterID); err != nil || held {
			if err == nil {
				// Billing's own hold ends; the fee release switches it on.
				_, err = tx.Exec(ctx, `update meter_billing set cut_off=false where meter_id=$1`, in.MeterID)
			}
			return err
		}
		sw.CommandID = uuid.NewString()
		sw.WorkflowID = "meter-command/" + sw.CommandID
		if _, err := tx.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
				workflow_id, idempotency_key, created_by) values($1,$2,$3,$4,$5,$6,'pending',$7,$8,null)`,
			sw.CommandID, in.ProjectID, in.MeterID, in.MeterNo, sw.Command, []byte(metercmdstore.ArgsOf(metercmddom.SwitchOn)),
			sw.WorkflowID, switchOnKey(in.RechargeID)); err != nil {
			return fmt.Errorf("record switch-on of meter %s: %w", in.MeterNo, err)
		}
		if _, err := tx.Exec(ctx, `update meter_billing set cut_off=false, switch_seq=$2 where meter_id=$1`,
			in.MeterID, s.seq+1); err != nil {
			return fmt.Errorf("billing switch state: %w", err)
		}
		out.SwitchOn = &sw
		return nil
	})
	if err != nil {
		return CreditResult{}, err
	}
	if out.SwitchOn != nil && a.Switch != nil {
		if err := a.Switch.StartSwitch(ctx, *out.SwitchOn); err != nil {
			return out, fmt.Errorf("start switch-on of meter %s: %w", in.MeterNo, err)
		}
	}
	if feeOn != nil && a.Switch != nil {
		if err := a.Switch.StartSwitch(ctx, *feeOn); err != nil {
			return out, fmt.Errorf("start fee hold switch-on of meter %s: %w", in.MeterNo, err)
		}
	}
	return out, nil
}
