package chargeorder

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/enterprise"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	creditstore "github.com/voltflow/voltflow/store/credit"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

// RevenueAccount is the income account charging payments are credited to.
const RevenueAccount = "charging-revenue"

// Abnormal flags of an order.
const (
	NoStop         = "no_stop"
	MeterBackwards = "meter_backwards"
	ZeroEnergy     = "zero_energy"
	Overdrawn      = "overdrawn"
)

// SettleInput ends an order.
type SettleInput struct {
	OrderID    string    `json:"orderId"`
	StopReason string    `json:"stopReason"`
	NoStop     bool      `json:"noStop"` // no StopTransaction within the timeout
	Opened     Opened    `json:"opened"`
	At         time.Time `json:"at"`
}

// Settled is the priced, paid order.
type Settled struct {
	Status   string       `json:"status"`
	Amount   money.Amount `json:"amount"`
	KWh      string       `json:"kwh"`
	Abnormal []string     `json:"abnormal"`
}

// Settle prices the order from the stored meter samples (the database is
// the truth, not the signals) with the version in force at start, books the
// payment from the customer's wallet (key charging/<order id>, once), uses
// the package quota and completes the order, with its abnormal flags.
func Settle(ctx context.Context, db *store.DB, in SettleInput) (Settled, error) {
	var out Settled
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var status, accountNo, equipmentID, stationID, enterpriseID string
		var paidBy chargepay.Mode
		var txID int
		var customerID *string
		err := tx.QueryRow(ctx, `select status, coalesce(account_no,''), equipment_id, coalesce(station_id,''),
			coalesce(transaction_id,0), customer_id::text, coalesce(enterprise_id::text,''), paid_by
			from charging_orders where id=$1 for update`, in.OrderID).
			Scan(&status, &accountNo, &equipmentID, &stationID, &txID, &customerID, &enterpriseID, &paidBy)
		if err != nil {
			return fmt.Errorf("order %s: %w", in.OrderID, err)
		}
		if status == "completed" || status == "failed" {
			return tx.QueryRow(ctx, `select status, coalesce(amount,0), coalesce(energy_kwh,0)::text, abnormal
				from charging_orders where id=$1`, in.OrderID).Scan(&out.Status, &out.Amount, &out.KWh, &out.Abnormal)
		}
		samples, stoppedAt, stopWh, err := loadSamples(ctx, tx, equipmentID, txID)
		if err != nil {
			return err
		}
		if in.Opened.Version == nil {
			out.Status = "failed"
			_, err := tx.Exec(ctx, `update charging_orders set status='failed', failure_reason='no_pricing', updated_at=now() where id=$1`, in.OrderID)
			return err
		}
		sess := chargeprice.Session{StationID: stationID, EquipmentID: equipmentID, Groups: in.Opened.Groups,
			Samples: samples, Discounts: in.Opened.Discounts, Package: in.Opened.Package}
		p, err := chargeprice.Price(*in.Opened.Version, sess)
		if err != nil {
			return fmt.Errorf("price order %s: %w", in.OrderID, err)
		}
		out.Status, out.Amount, out.KWh, out.Abnormal = "completed", p.Total, p.KWh, []string{}
		if in.NoStop {
			out.Abnormal = append(out.Abnormal, NoStop)
		}
		if p.Backwards {
			out.Abnormal = append(out.Abnormal, MeterBackwards)
		}
		if p.ZeroEnergy() {
			out.Abnormal = append(out.Abnormal, ZeroEnergy)
		}
		if p.Total.IsPositive() {
			overdrawn, err := pay(ctx, tx, in.Opened.ProjectID, in.OrderID, paidBy, accountNo, enterpriseID, p.Total)
			if err != nil {
				return err
			}
			if overdrawn {
				out.Abnormal = append(out.Abnormal, Overdrawn)
			}
		}
		if in.Opened.Package != nil && p.PackageKWh != "0.000" {
			if _, err := tx.Exec(ctx, `update charging_packages set used_kwh=used_kwh+$2::numeric where id=$1`,
				in.Opened.Package.ID, p.PackageKWh); err != nil {
				return err
			}
		}
		lines, _ := json.Marshal(p.Lines)
		if stoppedAt.IsZero() {
			stoppedAt = in.At
		}
		_, err = tx.Exec(ctx, `update charging_orders set status='completed', stop_reason=nullif($2,''), meter_stop_wh=$3,
			stopped_at=$4, energy_kwh=$5::numeric, energy_fee=$6, service_fee=$7, discount=$8, amount=$9, strategy_version=$10,
			lines=$11, abnormal=$12, package_waived=$13, updated_at=now() where id=$1`,
			in.OrderID, in.StopReason, stopWh, stoppedAt, p.KWh, p.EnergyFee, p.ServiceFee.Sub(p.PackageWaived),
			p.DiscountAmount, p.Total, p.Version, lines, out.Abnormal, p.PackageWaived)
		if err != nil {
			return err
		}
		return rollUpEnergy(ctx, tx, in.OrderID)
	})
	slices.Sort(out.Abnormal)
	return out, err
}

// pay books an order's amount on its payer (key charging/<order id>, once)
// and reports whether the payer is left overdrawn: the card's wallet below
// zero, the enterprise's credit past its limit or its wallet below zero.
// An order on credit becomes a consumption the enterprise's next bill lists.
func pay(ctx context.Context, tx pgx.Tx, projectID, orderID string, paidBy chargepay.Mode, accountNo, enterpriseID string,
	amount money.Amount) (bool, error) {
	memo := "charging order " + orderID
	switch paidBy {
	case chargepay.Credit:
		c, err := creditstore.ConsumeSettledTx(ctx, tx, creditstore.ConsumeInput{ProjectID: projectID, EnterpriseID: enterpriseID,
			Key: "charging/" + orderID, Amount: amount, Description: memo})
		return c.OverLimit, err
	case chargepay.EnterpriseWallet:
		var code string
		if err := tx.QueryRow(ctx, `select code from enterprises where id=$1`, enterpriseID).Scan(&code); err != nil {
			return false, fmt.Errorf("enterprise of order %s: %w", orderID, err)
		}
		e := ledgerdom.Transfer("charging/"+orderID, "charging", memo+" (enterprise "+code+")",
			ledgerdom.Posting{Account: RevenueAccount, Kind: ledgerdom.Income},
			ledgerdom.Posting{Account: enterprise.Wallet(code), Kind: ledgerdom.Liability}, amount)
		if _, err := ledgerstore.BookTx(ctx, tx, projectID, e); err != nil {
			return false, err
		}
		bal, err := ledgerBalance(ctx, tx, projectID, enterprise.Wallet(code), ledgerdom.Liability)
		return bal.IsNegative(), err
	}
	e := ledgerdom.Transfer("charging/"+orderID, "charging", memo,
		ledgerdom.Posting{Account: RevenueAccount, Kind: ledgerdom.Income},
		ledgerdom.Posting{Account: ledgerdom.CustomerWallet(accountNo), Kind: ledgerdom.Liability}, amount)
	if _, err := ledgerstore.BookTx(ctx, tx, projectID, e); err != nil {
		return false, err
	}
	bal, err := BalanceTx(ctx, tx, projectID, accountNo)
	return bal.IsNegative(), err
}

// loadSamples is the transaction's meter: start, MeterValues, stop.
func loadSamples(ctx context.Context, tx pgx.Tx, equipmentID string, txID int) ([]chargeprice.Sample, time.Time, int64, error) {
	var start chargeprice.Sample
	var stopWh *int64
	var stoppedAt *time.Time
	if err := tx.QueryRow(ctx, `select started_at, meter_start_wh, meter_stop_wh, stopped_at from ocpp_transactions
		where id=$1 and equipment_id=$2`, txID, equipmentID).Scan(&start.At, &start.Wh, &stopWh, &stoppedAt); err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("transaction %d: %w", txID, err)
	}
	rows, err := tx.Query(ctx, `select at, energy_wh from ocpp_meter_values where transaction_id=$1 and energy_wh is not null
		order by at, id`, txID)
	if err != nil {
		return nil, time.Time{}, 0, err
	}
	mid, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chargeprice.Sample, error) {
		var s chargeprice.Sample
		return s, r.Scan(&s.At, &s.Wh)
	})
	if err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("meter values of %d: %w", txID, err)
	}
	out := append([]chargeprice.Sample{start}, mid...)
	last := out[len(out)-1].Wh
	var at time.Time
	if stopWh != nil && stoppedAt != nil {
		out = append(out, chargeprice.Sample{At: *stoppedAt, Wh: *stopWh})
		last, at = *stopWh, *stoppedAt
	}
	return out, at, last, nil
}

// EnergyRollup adds completed orders' energy to their connector's day
// (China time, the day the order stopped) in connector_energy_daily, the
// daily rollup the regulator's charge statistics (query_station_charge_stats)
// sum: a statistics query reads one row per connector and day instead of
// scanning orders. Orders on connectors the charging registry lacks are
// left out (the registry is what the regulator knows). $1 filters orders
// (the ids; null: every completed order, as migration 0055 backfills).
const EnergyRollup = `insert into connector_energy_daily (connector_id, day, charge_kwh)
	select c.connector_id, ((o.stopped_at at time zone 'UTC') + interval '8 hours')::date, sum(o.energy_kwh)
	from charging_orders o join charging_connectors c
		on c.connector_id = o.equipment_id || lpad(o.connector_no::text, 3, '0')
	where o.status = 'completed' and o.energy_kwh > 0 and o.stopped_at is not null and ($1::text[] is null or o.id::text = any($1))
	group by 1, 2
	on conflict (connector_id, day) do update set charge_kwh = connector_energy_daily.charge_kwh + excluded.charge_kwh`

// rollUpEnergy books a just-completed order's energy (inside Settle's
// transaction, so it is counted exactly once: a settled order returns
// early on a second Settle).
func rollUpEnergy(ctx context.Context, tx pgx.Tx, orderID string) error {
	if _, err := tx.Exec(ctx, EnergyRollup, []string{orderID}); err != nil {
		return fmt.Errorf("energy rollup of %s: %w", orderID, err)
	}
	return nil
}
