// Package chargeorder stores charging orders (C7): who pays for a
// transaction (card, VIN or app), the pricing in force, app starts, the
// orders the API lists, pricing strategies, customer groups, vehicles and
// monthly packages, and settling an order (Settle). activities/chargeorder
// adapts them for the workflow.
package chargeorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/chargeprice"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/network"
)

// Opened is what the workflow needs to follow the session: the payer, its
// balance and the pricing in force at start (for the live cost).
type Opened struct {
	OrderID   string               `json:"orderId"`
	ProjectID string               `json:"projectId"`
	Start     chargeprice.Sample   `json:"start"`
	StationID string               `json:"stationId"`
	Refused   string               `json:"refused,omitempty"` // why no order runs
	Balance   money.Amount         `json:"balance"`
	Version   *chargeprice.Version `json:"version,omitempty"`
	Discounts []chargeprice.Discount
	Groups    []string
	Package   *chargeprice.Package
}

// payer is the customer behind an idTag.
type payer struct {
	source, cardNo, vin, customerID, accountNo string
	active                                     bool
	// A card bound to an enterprise charges on the enterprise (F3).
	enterprise *EnterpriseCard
}

// paidBy is who pays the payer's orders.
func (p payer) paidBy() chargepay.Mode {
	if p.enterprise != nil {
		return p.enterprise.Funding.Mode
	}
	return chargepay.Wallet
}

func (p payer) enterpriseID() string {
	if p.enterprise != nil {
		return p.enterprise.EnterpriseID
	}
	return ""
}

// refusal is why the payer cannot start a session ("" when it can).
func (p payer) refusal() string {
	switch {
	case !p.active:
		return "id_tag_refused"
	case p.enterprise != nil:
		if err := p.enterprise.Funding.CheckStart(); err != nil {
			return "enterprise_funds_exhausted"
		}
	case p.accountNo == "":
		return "no_prepaid_account"
	}
	return ""
}

func findPayer(ctx context.Context, q pgx.Tx, idTag string) (payer, error) {
	p := payer{source: "card", cardNo: idTag}
	ent, isEnt, err := EnterpriseOf(ctx, q, idTag)
	if err != nil {
		return p, err
	}
	if isEnt {
		p.enterprise = &ent
	}
	var status string
	var customer, account *string
	err = q.QueryRow(ctx, `select c.status, c.customer_id::text, a.account_no from cards c
		left join prepaid_accounts a on a.id=c.account_id where c.card_no=$1`, idTag).Scan(&status, &customer, &account)
	if err == nil {
		p.active = status == "active"
		if customer != nil {
			p.customerID = *customer
		}
		if account != nil {
			p.accountNo = *account
		}
		return p, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return p, err
	}
	if isEnt {
		// An enterprise card need not be issued as a customer card: the
		// enterprise's listing of it is its standing.
		p.active = true
		return p, nil
	}
	// A VIN: the owner's open prepaid account pays.
	p = payer{source: "vin", vin: idTag}
	err = q.QueryRow(ctx, `select v.customer_id::text, a.account_no from vehicles v
		join prepaid_accounts a on a.customer_id=v.customer_id and a.status='open'
		where v.vin=$1 order by a.opened_at limit 1`, idTag).Scan(&p.customerID, &p.accountNo)
	if errors.Is(err, pgx.ErrNoRows) {
		return payer{source: "card", cardNo: idTag}, nil // unknown tag
	}
	p.active = err == nil
	return p, err
}

// Transaction names the OCPP transaction an order is opened for; it is the
// OpenChargingOrder activity's input, hence the JSON names.
type Transaction struct {
	OrderID       string `json:"orderId"`
	WorkflowID    string `json:"workflowId"`
	ChargePointID string `json:"chargePointId"`
	TransactionID int    `json:"transactionId"`
}

// Open records the order (once: a repeated call returns the same) and
// loads its pricing. An order whose idTag is refused is failed at once.
func Open(ctx context.Context, db *store.DB, in Transaction) (Opened, error) {
	out := Opened{OrderID: in.OrderID}
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var project *string
		if err := tx.QueryRow(ctx, `select p.project_id::text, e.station_id from ocpp_charge_points p
			join charging_equipment e on e.equipment_id=p.equipment_id where p.equipment_id=$1`, in.ChargePointID).
			Scan(&project, &out.StationID); err != nil {
			return fmt.Errorf("charger %s: %w", in.ChargePointID, err)
		}
		if project != nil {
			out.ProjectID = *project
		}
		// The transaction as stored, whichever event reached the workflow first.
		var idTag string
		var authorized bool
		var connector int
		if err := tx.QueryRow(ctx, `select id_tag, auth_status='Accepted', connector_no, meter_start_wh, started_at
			from ocpp_transactions where id=$1 and equipment_id=$2`, in.TransactionID, in.ChargePointID).
			Scan(&idTag, &authorized, &connector, &out.Start.Wh, &out.Start.At); err != nil {
			return fmt.Errorf("transaction %s/%d: %w", in.ChargePointID, in.TransactionID, err)
		}
		py, err := findPayer(ctx, tx, idTag)
		if err != nil {
			return fmt.Errorf("payer of %s: %w", idTag, err)
		}
		status, reason := "charging", py.refusal()
		switch {
		case reason != "":
			status = "failed"
		case !authorized:
			status, reason = "failed", "id_tag_refused"
		}
		// Already opened (a retry), or an app start waiting for this transaction, or new.
		err = tx.QueryRow(ctx, `select id::text from charging_orders where equipment_id=$1 and transaction_id=$2`,
			in.ChargePointID, in.TransactionID).Scan(&out.OrderID)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, `update charging_orders set transaction_id=$4, workflow_id=$5, status=$6,
				failure_reason=nullif($7,''), meter_start_wh=$8, started_at=$9, updated_at=now()
				where id = (select id from charging_orders where status='starting' and equipment_id=$1 and connector_no=$2
					and id_tag=$3 order by created_at desc limit 1)
				returning id::text`, in.ChargePointID, connector, idTag, in.TransactionID, in.WorkflowID, status, reason,
				out.Start.Wh, out.Start.At).Scan(&out.OrderID)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			out.OrderID = in.OrderID
			_, err = tx.Exec(ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, card_no, vin,
			customer_id, account_no, station_id, equipment_id, connector_no, transaction_id, status, failure_reason,
			meter_start_wh, started_at, enterprise_id, paid_by)
			values ($1,$2,$3,$4,$5,nullif($6,''),nullif($7,''),nullif($8,'')::uuid,nullif($9,''),$10,$11,$12,$13,$14,nullif($15,''),$16,$17,
				nullif($18,'')::uuid,$19)`,
				in.OrderID, nullIfEmpty(out.ProjectID), in.WorkflowID, py.source, idTag, py.cardNo, py.vin, py.customerID,
				py.accountNo, out.StationID, in.ChargePointID, connector, in.TransactionID, status, reason,
				out.Start.Wh, out.Start.At, py.enterpriseID(), string(py.paidBy()))
		}
		if err != nil {
			return fmt.Errorf("order of %s/%d: %w", in.ChargePointID, in.TransactionID, err)
		}
		var cur string
		var fr *string
		if err := tx.QueryRow(ctx, `select status, failure_reason from charging_orders where id=$1`, out.OrderID).Scan(&cur, &fr); err != nil {
			return err
		}
		if cur == "failed" && fr != nil {
			out.Refused = *fr
			return nil
		}
		// The workflow stops the session when its cost reaches Balance: for
		// an enterprise card, the credit (or enterprise wallet) available.
		if py.enterprise != nil {
			out.Balance = py.enterprise.Funding.Available
		} else if out.Balance, err = BalanceTx(ctx, tx, out.ProjectID, py.accountNo); err != nil {
			return err
		}
		return loadPricing(ctx, tx, &out, py.customerID, out.Start.At)
	})
	return out, err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BalanceTx is the wallet balance of the prepaid account, read in tx.
func BalanceTx(ctx context.Context, tx pgx.Tx, projectID, accountNo string) (money.Amount, error) {
	var raw money.Amount
	err := tx.QueryRow(ctx, `select balance from ledger_accounts where project_id=$1 and code=$2`, projectID,
		ledgerdom.CustomerWallet(accountNo)).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return money.Zero, nil
	}
	if err != nil {
		return money.Zero, fmt.Errorf("balance of %s: %w", accountNo, err)
	}
	return ledgerdom.Display(ledgerdom.Liability, raw), nil
}

// AppStart is an order asked for from the app: it waits, status starting,
// for the charger's StartTransaction (which adopts it) after RemoteStart.
type AppStart struct {
	ProjectID   string `json:"projectId"`
	CardNo      string `json:"cardNo"`
	ConnectorID string `json:"connectorId"`
}

// ErrCannotStart is an app start the card or connector does not allow.
var ErrCannotStart = errors.New("cannot start charging")

// ErrPaused refuses a start on a connector whose operation is paused (it
// or its station: store/network).
var ErrPaused = errors.New("connector paused")

// CreateAppOrder validates and records an app start; it returns the order
// with the charger to command.
func CreateAppOrder(ctx context.Context, db *store.DB, projects []string, in AppStart, workflowID func(string) string) (Order, error) {
	id := uuid.NewString()
	err := store.InTx(ctx, db, func(tx pgx.Tx) error {
		var project, equipment, station string
		var connector int
		err := tx.QueryRow(ctx, `select p.project_id::text, c.equipment_id, e.station_id, right(c.connector_id, 3)::int
			from charging_connectors c join ocpp_charge_points p on p.equipment_id=c.equipment_id
			join charging_equipment e on e.equipment_id=c.equipment_id
			where c.connector_id=$1 and p.project_id::text = any($2)`, in.ConnectorID, projects).
			Scan(&project, &equipment, &station, &connector)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("connector %s: %w", in.ConnectorID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		paused, err := network.Paused(ctx, tx, in.ConnectorID)
		if err != nil {
			return err
		}
		if paused {
			return fmt.Errorf("%w: connector %s is paused (暂停运营)", ErrPaused, in.ConnectorID)
		}
		py, err := findPayer(ctx, tx, in.CardNo)
		if err != nil {
			return err
		}
		if py.source != "card" || !py.active || (py.accountNo == "" && py.enterprise == nil) {
			return fmt.Errorf("%w: card %s is not an active card with an account", ErrCannotStart, in.CardNo)
		}
		if py.enterprise != nil {
			if err := py.enterprise.Funding.CheckStart(); err != nil {
				return fmt.Errorf("%w: card %s of enterprise %s: %w", ErrCannotStart, in.CardNo, py.enterprise.Code, err)
			}
		} else {
			bal, err := BalanceTx(ctx, tx, project, py.accountNo)
			if err != nil {
				return err
			}
			if !bal.IsPositive() {
				return fmt.Errorf("%w: card %s has no balance", ErrCannotStart, in.CardNo)
			}
		}
		var busy bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from charging_orders where equipment_id=$1 and connector_no=$2
			and status in ('starting','charging'))`, equipment, connector).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("%w: connector %s is busy", ErrCannotStart, in.ConnectorID)
		}
		_, err = tx.Exec(ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, card_no, customer_id,
			account_no, station_id, equipment_id, connector_no, status, enterprise_id, paid_by)
			values ($1,$2,$3,'app',$4,$4,nullif($5,'')::uuid,nullif($6,''),$7,$8,$9,'starting',nullif($10,'')::uuid,$11)`,
			id, project, workflowID(id), in.CardNo, py.customerID, py.accountNo, station, equipment, connector,
			py.enterpriseID(), string(py.paidBy()))
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return Get(ctx, db, projects, id)
}

// FailStart fails an order still starting.
func FailStart(ctx context.Context, db *store.DB, orderID, reason string) error {
	_, err := db.Exec(ctx, `update charging_orders set status='failed', failure_reason=$2, updated_at=now()
		where id=$1 and status='starting'`, orderID, reason)
	return err
}

// loadPricing reads the station's strategy version in force at start, the
// discounts, the customer's groups and this month's package.
func loadPricing(ctx context.Context, tx pgx.Tx, out *Opened, customerID string, startedAt time.Time) error {
	var versions []byte
	var code string
	err := tx.QueryRow(ctx, `select s.code, s.versions from station_pricing sp join pricing_strategies s on s.id=sp.strategy_id
		where sp.station_id=$1`, out.StationID).Scan(&code, &versions)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // no strategy: the order cannot be priced; Settle fails it
	}
	if err != nil {
		return fmt.Errorf("pricing of %s: %w", out.StationID, err)
	}
	st := chargeprice.Strategy{Code: code}
	if err := json.Unmarshal(versions, &st.Versions); err != nil {
		return fmt.Errorf("pricing %s: %w", code, err)
	}
	if v, err := st.VersionAt(startedAt); err == nil {
		out.Version = &v
	}
	rows, err := tx.Query(ctx, `select id::text, spec from charging_discounts where project_id=$1 order by created_at, id`, out.ProjectID)
	if err != nil {
		return err
	}
	out.Discounts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (chargeprice.Discount, error) {
		var id string
		var spec []byte
		var d chargeprice.Discount
		if err := r.Scan(&id, &spec); err != nil {
			return d, err
		}
		err := json.Unmarshal(spec, &d)
		d.ID = id
		return d, err
	})
	if err != nil {
		return fmt.Errorf("discounts: %w", err)
	}
	if customerID == "" {
		return nil
	}
	rows, err = tx.Query(ctx, `select group_id::text from customer_group_members where customer_id=$1 order by group_id`, customerID)
	if err != nil {
		return err
	}
	if out.Groups, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	var pk chargeprice.Package
	var quota, used decimal.Decimal
	err = tx.QueryRow(ctx, `select id::text, equipment_ids, quota_kwh, used_kwh from charging_packages
		where customer_id=$1 and month=$2`, customerID, startedAt.In(cst).Format("2006-01")).
		Scan(&pk.ID, &pk.EquipmentIDs, &quota, &used)
	if err == nil {
		pk.RemainingKWh = quota.Sub(used)
		out.Package = &pk
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("package: %w", err)
	}
	return nil
}

var cst = time.FixedZone("CST", 8*3600)
