package chargeorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/chargeprice"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
)

// Order is a charging order as the API shows it.
type Order struct {
	ID            string             `json:"id"`
	ProjectID     string             `json:"projectId"`
	WorkflowID    string             `json:"workflowId"`
	Source        string             `json:"source"`
	IdTag         string             `json:"idTag"`
	CardNo        *string            `json:"cardNo"`
	VIN           *string            `json:"vin"`
	StationID     string             `json:"stationId"`
	EquipmentID   string             `json:"equipmentId"`
	Connector     int                `json:"connector"`
	TransactionID *int               `json:"transactionId"`
	Status        string             `json:"status"`
	FailureReason *string            `json:"failureReason"`
	StopReason    *string            `json:"stopReason"`
	StartedAt     *time.Time         `json:"startedAt"`
	StoppedAt     *time.Time         `json:"stoppedAt"`
	EnergyKWh     *string            `json:"energyKwh"`
	EnergyFee     *money.Amount      `json:"energyFee"`
	ServiceFee    *money.Amount      `json:"serviceFee"`
	Discount      *money.Amount      `json:"discount"`
	Amount        *money.Amount      `json:"amount"`
	StrategyVer   *int               `json:"strategyVersion"`
	Periods       []chargeprice.Line `json:"periods"`
	Abnormal      []string           `json:"abnormal"`
	CreatedAt     time.Time          `json:"createdAt"`
	// Who paid (wallet, credit, enterprise_wallet), the enterprise of an
	// enterprise card, what a voucher took off, what the package waived
	// and the invoice the order is on.
	PaidBy        string       `json:"paidBy"`
	EnterpriseID  *string      `json:"enterpriseId"`
	VoucherAmount money.Amount `json:"voucherAmount"`
	PackageWaived money.Amount `json:"packageWaived"`
	InvoiceID     *string      `json:"invoiceId"`
}

// Query filters orders.
type Query struct {
	Projects  []string
	CardNo    string
	VIN       string
	StationID string
	Status    string // completed, failed, charging
	From, To  *time.Time
	Limit     int
	Before    *time.Time
	BeforeID  string
	Scope     store.StationScope // a station-scoped caller sees its stations' orders only
}

const orderCols = `id::text, coalesce(project_id::text,''), workflow_id, source, id_tag, card_no, vin, coalesce(station_id,''),
	equipment_id, connector_no, transaction_id, status, failure_reason, stop_reason, started_at, stopped_at,
	energy_kwh::text, energy_fee, service_fee, discount, amount, strategy_version, lines, abnormal, created_at,
	paid_by, enterprise_id::text, voucher_amount, package_waived,
	(select invoice_id::text from charging_invoice_orders i where i.order_id=charging_orders.id)`

func scanOrder(r pgx.CollectableRow) (Order, error) {
	var o Order
	var lines []byte
	err := r.Scan(&o.ID, &o.ProjectID, &o.WorkflowID, &o.Source, &o.IdTag, &o.CardNo, &o.VIN, &o.StationID,
		&o.EquipmentID, &o.Connector, &o.TransactionID, &o.Status, &o.FailureReason, &o.StopReason, &o.StartedAt,
		&o.StoppedAt, &o.EnergyKWh, &o.EnergyFee, &o.ServiceFee, &o.Discount, &o.Amount, &o.StrategyVer, &lines,
		&o.Abnormal, &o.CreatedAt, &o.PaidBy, &o.EnterpriseID, &o.VoucherAmount, &o.PackageWaived, &o.InvoiceID)
	if err != nil {
		return o, err
	}
	o.Periods = []chargeprice.Line{}
	if len(lines) > 0 {
		err = json.Unmarshal(lines, &o.Periods)
	}
	return o, err
}

// List lists orders newest first.
func List(ctx context.Context, db *store.DB, q Query) ([]Order, error) {
	rows, err := db.Query(ctx, `select `+orderCols+` from charging_orders
		where project_id::text = any($1) and ($2 = '' or card_no=$2) and ($3 = '' or station_id=$3)
		and ($4 = '' or status=$4) and ($5::timestamptz is null or started_at >= $5) and ($6::timestamptz is null or started_at < $6)
		and ($7::timestamptz is null or (created_at, id::text) < ($7, $8))
		and ($10 = '' or vin=$10)
		and `+q.Scope.SQL("project_id", "station_id", 11)+`
		order by created_at desc, id desc limit $9`,
		q.Projects, q.CardNo, q.StationID, q.Status, q.From, q.To, q.Before, q.BeforeID, q.Limit, q.VIN, q.Scope.Args()[0], q.Scope.Args()[1])
	if err != nil {
		return nil, fmt.Errorf("charging orders: %w", err)
	}
	return pgx.CollectRows(rows, scanOrder)
}

// Get loads one order among the projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Order, error) {
	rows, err := db.Query(ctx, `select `+orderCols+` from charging_orders where id::text=$1 and project_id::text = any($2)`, id, projects)
	if err != nil {
		return Order{}, err
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, err
}
