package fee

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
	metercmdstore "github.com/voltflow/voltflow/store/metercmd"
	platformbillingstore "github.com/voltflow/voltflow/store/platformbilling"
)

// Fee arrears cut-off (the project rule feeArrearsCutOff, issue 20 §6).
//
// A fee that leaves arrears on a project with the rule puts a fee hold on
// the paying meter (fee_cut_offs: why the meter is off) and records a
// switch-off in the same transaction as the fee; the activity then starts
// it as an ordinary meter-command/<id> workflow, the path an operator's
// and billing's commands take. The hold is released, and the meter
// switched on, once the wallet owes nothing (balance ≥ 0: the fee was
// booked in full, so a wallet back at zero has paid its arrears).
//
// Who switches the meter back on: each cause of a cut-off owns its own
// hold and the meter is switched on only by whoever releases the LAST
// hold — so billing's arrears cut-off (meter_billing.cut_off, released when
// wallet plus overdraft is above zero) and the fee hold never fight:
//   - the fee release (Release, run when a recharge reaches the wallet)
//     closes the fee hold and sends the switch-on only when billing does
//     not hold the meter too and an operator did not cut it off last;
//   - billing's switch-on (activities/platformbilling) is skipped while a
//     fee hold is open (HeldTx): billing clears its own flag and leaves the
//     switch-on to the fee release;
//   - a meter an operator cut off stays off for both (the operator owns it).
// Billing may still add its own switch-off to a meter the fee hold cut off
// (its wallet is the same): harmless, the relay is open already.

// cutOffKey and releaseKey are the idempotency keys of a fee hold's
// switch-off and switch-on commands (one per fee that caused the hold).
func cutOffKey(feeKey string) string  { return "fee-cut-off/" + feeKey }
func releaseKey(feeKey string) string { return "fee-cut-off/" + feeKey + "/switch_on" }

// ReasonFeeArrears is why a meter under a fee hold is off.
const ReasonFeeArrears = "fee_arrears"

// Switch is a switch command to start (store/platformbilling's, so the
// same starter runs billing's and the fee's commands).
type Switch = platformbillingstore.Switch

// cutOffTx puts the fee hold on the meter and records its switch-off,
// unless the meter is held already (its open hold's command is answered,
// for a retry to start it again) or an operator cut it off last (the hold
// is recorded, no command: the relay is open and the operator owns it).
func cutOffTx(ctx context.Context, tx pgx.Tx, projectID, meterID, meterNo, feeKey string) (*Switch, error) {
	var heldBy string
	err := tx.QueryRow(ctx, `select fee_key from fee_cut_offs where meter_id=$1 and released_at is null for update`, meterID).
		Scan(&heldBy)
	switch {
	case err == nil:
		return pendingCommand(ctx, tx, projectID, meterID, meterNo, cutOffKey(heldBy), metercmddom.SwitchOff)
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("fee hold of meter %s: %w", meterNo, err)
	}
	if _, err := tx.Exec(ctx, `insert into fee_cut_offs(meter_id, project_id, meter_no, fee_key) values($1,$2,$3,$4)
		on conflict (meter_id) do update set fee_key=excluded.fee_key, cut_at=now(), released_at=null`,
		meterID, projectID, meterNo, feeKey); err != nil {
		return nil, fmt.Errorf("fee hold of meter %s: %w", meterNo, err)
	}
	manual, err := manualCutOff(ctx, tx, meterID)
	if err != nil || manual {
		return nil, err
	}
	return recordSwitch(ctx, tx, projectID, meterID, meterNo, cutOffKey(feeKey), metercmddom.SwitchOff)
}

// manualCutOff tells whether an operator's switch-off is the meter's latest
// relay command not known to have failed (as billing's LastCutOff reads
// the command log).
func manualCutOff(ctx context.Context, tx pgx.Tx, meterID string) (bool, error) {
	var cmd string
	var byOperator bool
	err := tx.QueryRow(ctx, `select command, created_by is not null from meter_commands
		where meter_id=$1 and status <> 'failed' and command in ('switch_off','forced_off','switch_on','prepaid_mode','release')
		order by created_at desc, id desc limit 1`, meterID).Scan(&cmd, &byOperator)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("last relay command of meter %s: %w", meterID, err)
	}
	return byOperator && (cmd == string(metercmddom.SwitchOff) || cmd == string(metercmddom.ForcedOff)), nil
}

// recordSwitch writes a system command (no operator) under its idempotency
// key and answers it for the caller to start.
func recordSwitch(ctx context.Context, tx pgx.Tx, projectID, meterID, meterNo, key string, cmd metercmddom.Command) (*Switch, error) {
	sw := Switch{ProjectID: projectID, MeterID: meterID, MeterNo: meterNo, Command: string(cmd), CommandID: uuid.NewString()}
	sw.WorkflowID = "meter-command/" + sw.CommandID
	if err := tx.QueryRow(ctx, `select code from projects where id=$1`, projectID).Scan(&sw.ProjectCode); err != nil {
		return nil, fmt.Errorf("project %s: %w", projectID, err)
	}
	tag, err := tx.Exec(ctx, `insert into meter_commands(id, project_id, meter_id, meter_no, command, args, status,
			workflow_id, idempotency_key, created_by) values($1,$2,$3,$4,$5,$6,'pending',$7,$8,null)
		on conflict (project_id, idempotency_key) where idempotency_key is not null do nothing`,
		sw.CommandID, projectID, meterID, meterNo, string(cmd), []byte(metercmdstore.ArgsOf(cmd)), sw.WorkflowID, key)
	if err != nil {
		return nil, fmt.Errorf("record %s of meter %s: %w", cmd, meterNo, err)
	}
	if tag.RowsAffected() == 0 {
		return pendingCommand(ctx, tx, projectID, meterID, meterNo, key, cmd)
	}
	return &sw, nil
}

// pendingCommand answers the command recorded under key while it is still
// pending (its workflow may not have started: a retry starts it, which is
// harmless when it had); nil once it ran or when there is none.
func pendingCommand(ctx context.Context, tx pgx.Tx, projectID, meterID, meterNo, key string, cmd metercmddom.Command) (*Switch, error) {
	sw := Switch{ProjectID: projectID, MeterID: meterID, MeterNo: meterNo, Command: string(cmd)}
	err := tx.QueryRow(ctx, `select c.id::text, c.workflow_id, p.code from meter_commands c join projects p on p.id=c.project_id
		where c.project_id=$1 and c.idempotency_key=$2 and c.status='pending'`, projectID, key).
		Scan(&sw.CommandID, &sw.WorkflowID, &sw.ProjectCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("command %s: %w", key, err)
	}
	return &sw, nil
}

// HeldTx tells whether the meter is under an open fee hold (billing then
// leaves its switch-on to the fee release).
func HeldTx(ctx context.Context, tx pgx.Tx, meterID string) (bool, error) {
	var held bool
	if err := tx.QueryRow(ctx, `select exists(select 1 from fee_cut_offs where meter_id=$1 and released_at is null)`,
		meterID).Scan(&held); err != nil {
		return false, fmt.Errorf("fee hold of meter %s: %w", meterID, err)
	}
	return held, nil
}

// ReleaseTx releases the meter's fee hold when its wallet owes nothing and
// answers the switch-on to start: only when no other hold keeps the meter
// off (billing's, or an operator's cut-off). Called when money reaches the
// wallet; with no hold, or arrears still owed, it does nothing. A retry
// after the release committed answers the same switch-on while it is
// pending.
func ReleaseTx(ctx context.Context, tx pgx.Tx, projectID, meterNo string) (*Switch, error) {
	var meterID, feeKey string
	var open bool
	err := tx.QueryRow(ctx, `select meter_id::text, fee_key, released_at is null from fee_cut_offs
		where project_id=$1 and meter_no=$2 for update`, projectID, meterNo).Scan(&meterID, &feeKey, &open)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fee hold of meter %s: %w", meterNo, err)
	}
	if !open {
		return pendingCommand(ctx, tx, projectID, meterID, meterNo, releaseKey(feeKey), metercmddom.SwitchOn)
	}
	var raw money.Amount
	err = tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2`,
		projectID, ledgerdom.MeterWallet(meterNo)).Scan(&raw)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("wallet of meter %s: %w", meterNo, err)
	}
	if ledgerdom.Display(ledgerdom.Liability, raw).IsNegative() {
		return nil, nil // arrears still owed: the hold stays
	}
	if _, err := tx.Exec(ctx, `update fee_cut_offs set released_at=now() where meter_id=$1`, meterID); err != nil {
		return nil, fmt.Errorf("release fee hold of meter %s: %w", meterNo, err)
	}
	var billingHolds bool
	if err := tx.QueryRow(ctx, `select coalesce((select cut_off from meter_billing where meter_id=$1), false)`, meterID).
		Scan(&billingHolds); err != nil {
		return nil, fmt.Errorf("billing hold of meter %s: %w", meterNo, err)
	}
	if billingHolds {
		return nil, nil // billing switches it on when its own arrears are covered
	}
	manual, err := manualCutOff(ctx, tx, meterID)
	if err != nil || manual {
		return nil, err
	}
	return recordSwitch(ctx, tx, projectID, meterID, meterNo, releaseKey(feeKey), metercmddom.SwitchOn)
}

// Release is ReleaseTx in a transaction of its own.
func Release(ctx context.Context, db *store.DB, projectID, meterNo string) (*Switch, error) {
	var sw *Switch
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		sw, err = ReleaseTx(ctx, tx, projectID, meterNo)
		return err
	})
	return sw, err
}
