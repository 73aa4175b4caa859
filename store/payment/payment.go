// Package payment keeps online payment orders (WeChat Pay, Alipay) in
// PostgreSQL and turns a paid one into an ordinary recharge, idempotent by
// the order number (the recharge's transaction number): however often a
// provider says an order is paid, it is credited once.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
	paymentdom "github.com/voltflow/voltflow/domain/payment"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
)

// Statuses of a payment.
const (
	Created        = "created"         // ordered at the provider, not known paid
	Credited       = "credited"        // paid and turned into a recharge
	Closed         = "closed"          // never paid within its time
	AmountMismatch = "amount_mismatch" // paid, but not the amount ordered: finance decides
)

// Providers.
const (
	WeChat = "wechat"
	Alipay = "alipay"
)

// Payment is one order.
type Payment struct {
	ID            string        `json:"id"`
	OrderNo       string        `json:"orderNo"`
	ProjectID     string        `json:"-"`
	MeterID       string        `json:"-"`
	MeterNo       string        `json:"meterNo"`
	Provider      string        `json:"provider"`
	Channel       string        `json:"channel"`
	Amount        money.Amount  `json:"amount"`
	Status        string        `json:"status"`
	ProviderTxnID string        `json:"providerTransactionId,omitempty"`
	PaidAmount    *money.Amount `json:"paidAmount,omitempty"`
	PaidAt        *time.Time    `json:"paidAt,omitempty"`
	RechargeID    string        `json:"rechargeId,omitempty"`
	CodeURL       string        `json:"codeUrl,omitempty"`
	PrepayID      string        `json:"prepayId,omitempty"`
	Payer         string        `json:"-"`
	WorkflowID    string        `json:"workflowId"`
	CreatedAt     time.Time     `json:"createdAt"`
}

// ErrNotFound is an unknown order.
var ErrNotFound = errors.New("payment not found")

const columns = `id::text, order_no, project_id::text, meter_id::text, meter_no, provider, channel, amount, status,
	provider_txn_id, paid_amount, paid_at, coalesce(recharge_id::text, ''), code_url, prepay_id, payer, workflow_id, created_at`

func scan(row pgx.Row) (Payment, error) {
	var p Payment
	err := row.Scan(&p.ID, &p.OrderNo, &p.ProjectID, &p.MeterID, &p.MeterNo, &p.Provider, &p.Channel, &p.Amount, &p.Status,
		&p.ProviderTxnID, &p.PaidAmount, &p.PaidAt, &p.RechargeID, &p.CodeURL, &p.PrepayID, &p.Payer, &p.WorkflowID, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// Create inserts a new order.
func Create(ctx context.Context, db *store.DB, p Payment) error {
	_, err := db.Exec(ctx, `insert into payments(id, order_no, project_id, meter_id, meter_no, provider, channel, amount, payer, workflow_id)
		values($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, p.ID, p.OrderNo, p.ProjectID, p.MeterID, p.MeterNo, p.Provider, p.Channel, p.Amount, p.Payer, p.WorkflowID)
	if err != nil {
		return fmt.Errorf("create payment %s: %w", p.OrderNo, err)
	}
	return nil
}

// SetProviderRefs keeps what the provider answered to the order: the QR
// code's URL (Native) or the prepay id (JSAPI).
func SetProviderRefs(ctx context.Context, db *store.DB, orderNo, codeURL, prepayID string) error {
	_, err := db.Exec(ctx, `update payments set code_url=$2, prepay_id=$3, updated_at=now() where order_no=$1`, orderNo, codeURL, prepayID)
	return err
}

// ByOrderNo reads an order by its number.
func ByOrderNo(ctx context.Context, db *store.DB, orderNo string) (Payment, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from payments where order_no=$1`, orderNo))
}

// Get reads an order within the given projects.
func Get(ctx context.Context, db *store.DB, projects []string, id string) (Payment, error) {
	return scan(db.QueryRow(ctx, `select `+columns+` from payments where id::text=$1 and project_id::text = any($2)`, id, projects))
}

// ForMeter lists a meter's orders, newest first.
func ForMeter(ctx context.Context, db *store.DB, meterID string, limit int) ([]Payment, error) {
	rows, err := db.Query(ctx, `select `+columns+` from payments where meter_id=$1 order by created_at desc limit $2`, meterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Payment{}
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ForDay lists a provider's orders created or paid on a day (from ≤ t < to).
func ForDay(ctx context.Context, db *store.DB, provider string, from, to time.Time) ([]Payment, error) {
	rows, err := db.Query(ctx, `select `+columns+` from payments where provider=$1
		and ((paid_at >= $2 and paid_at < $3) or (created_at >= $2 and created_at < $3)) order by order_no`, provider, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Payment{}
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RecordNotification keeps one received callback and what became of it.
func RecordNotification(ctx context.Context, db *store.DB, provider, orderNo string, verified bool, outcome string) error {
	_, err := db.Exec(ctx, `insert into payment_notifications(provider, order_no, verified, outcome) values($1,$2,$3,$4)`,
		provider, orderNo, verified, outcome)
	return err
}

// CreditInput is a provider's word that an order is paid.
type CreditInput struct {
	OrderNo       string    `json:"orderNo"`
	ProviderTxnID string    `json:"providerTxnId"`
	PaidCents     int64     `json:"paidCents"`
	PaidAt        time.Time `json:"paidAt"`
}

// Credit is what crediting did: the recharge to run (Status credited), or
// amount_mismatch and nothing credited.
type Credit struct {
	Status      string       `json:"status"`
	RechargeID  string       `json:"rechargeId"`
	WorkflowID  string       `json:"workflowId"`
	ProjectID   string       `json:"projectId"`
	ProjectCode string       `json:"projectCode"`
	MeterID     string       `json:"meterId"`
	MeterNo     string       `json:"meterNo"`
	Amount      money.Amount `json:"amount"`
	Platform    bool         `json:"platform"`
}

// CreditPayment turns a paid order into a recharge (status approved: the
// money is in; transaction number = order number), once: a second call
// finds the same recharge. A paid amount other than the ordered one
// credits nothing and marks the order amount_mismatch.
func CreditPayment(ctx context.Context, db *store.DB, in CreditInput) (Credit, error) {
	p, err := ByOrderNo(ctx, db, in.OrderNo)
	if err != nil {
		return Credit{}, fmt.Errorf("credit payment %s: %w", in.OrderNo, err)
	}
	c := Credit{ProjectID: p.ProjectID, MeterID: p.MeterID, MeterNo: p.MeterNo, Amount: p.Amount}
	if err := db.QueryRow(ctx, `select p.code, m.prepaid_mode = 'platform' from projects p, meters m where p.id=$1 and m.id=$2`,
		p.ProjectID, p.MeterID).Scan(&c.ProjectCode, &c.Platform); err != nil {
		return c, fmt.Errorf("project of payment %s: %w", in.OrderNo, err)
	}
	paid := money.FromCents(in.PaidCents)
	if !paid.Equal(p.Amount) {
		_, err := db.Exec(ctx, `update payments set status=$2, paid_amount=$3, paid_at=$4, provider_txn_id=$5, updated_at=now()
			where order_no=$1 and status <> 'credited'`, in.OrderNo, AmountMismatch, paid, in.PaidAt, in.ProviderTxnID)
		c.Status = AmountMismatch
		return c, err
	}
	operatorID, err := systemOperator(ctx, db, p.ProjectID)
	if err != nil {
		return c, err
	}
	id := uuid.NewString()
	rec, _, err := rechargestore.Create(ctx, db, rechargestore.Recharge{ID: id, ProjectID: p.ProjectID, MeterID: p.MeterID,
		MeterNo: p.MeterNo, Amount: p.Amount, TransactionNo: p.OrderNo, Status: rechargedom.Approved,
		WorkflowID: "recharge/" + id, CreatedBy: operatorID, Kind: rechargedom.Sale})
	if err != nil {
		return c, fmt.Errorf("recharge of payment %s: %w", in.OrderNo, err)
	}
	if _, err := db.Exec(ctx, `update payments set status='credited', recharge_id=$2, paid_amount=$3, paid_at=coalesce(paid_at, $4),
		provider_txn_id=$5, updated_at=now() where order_no=$1`, in.OrderNo, rec.ID, paid, in.PaidAt, in.ProviderTxnID); err != nil {
		return c, fmt.Errorf("mark payment %s credited: %w", in.OrderNo, err)
	}
	c.Status, c.RechargeID, c.WorkflowID = Credited, rec.ID, rec.WorkflowID
	return c, nil
}

// systemOperator is the operator a payment's recharge is recorded by: one
// per organisation, "online-payment:<organisation code>", with a password
// hash nothing matches (it never logs in).
func systemOperator(ctx context.Context, db *store.DB, projectID string) (string, error) {
	var id string
	err := db.QueryRow(ctx, `with org as (select o.id, o.code from organisations o join projects p on p.organisation_id=o.id where p.id=$1),
		ins as (insert into operators(id, organisation_id, username, display_name, password_hash)
			select $2, org.id, 'online-payment:' || org.code, '在线支付', '!' from org
			on conflict (username) do nothing returning id)
		select id::text from ins union all
		select op.id::text from operators op, org where op.username = 'online-payment:' || org.code limit 1`,
		projectID, uuid.NewString()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("online payment operator of project %s: %w", projectID, err)
	}
	return id, nil
}

// CloseInput ends an order never paid.
type CloseInput struct {
	OrderNo string `json:"orderNo"`
}

// ClosePayment marks an unpaid order closed (a paid one stays as it is).
func ClosePayment(ctx context.Context, db *store.DB, in CloseInput) error {
	_, err := db.Exec(ctx, `update payments set status='closed', updated_at=now() where order_no=$1 and status='created'`, in.OrderNo)
	return err
}

// QueryInput asks the provider about an order (the active query).
type QueryInput struct {
	Provider string `json:"provider"`
	OrderNo  string `json:"orderNo"`
}

// QueryResult is the provider's answer: State is SUCCESS, NOTPAY, CLOSED
// (or another provider state, treated as not paid yet).
type QueryResult struct {
	State         string    `json:"state"`
	ProviderTxnID string    `json:"providerTxnId"`
	PaidCents     int64     `json:"paidCents"`
	PaidAt        time.Time `json:"paidAt"`
}

// ReconcileInput reconciles one provider's bill of one day (YYYY-MM-DD,
// China Standard Time, as the providers' bills are).
type ReconcileInput struct {
	Provider string `json:"provider"`
	Day      string `json:"day"`
}

// DayOrders are the provider's orders created or paid on the CST day, as
// reconciliation compares them.
func DayOrders(ctx context.Context, db *store.DB, provider, day string) ([]paymentdom.Order, error) {
	from, err := time.ParseInLocation(time.DateOnly, day, time.FixedZone("CST", 8*3600))
	if err != nil {
		return nil, fmt.Errorf("day %q: %w", day, err)
	}
	ps, err := ForDay(ctx, db, provider, from, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	out := make([]paymentdom.Order, 0, len(ps))
	for _, p := range ps {
		cents := p.Amount.Cents()
		if p.PaidAmount != nil {
			cents = p.PaidAmount.Cents()
		}
		out = append(out, paymentdom.Order{OrderNo: p.OrderNo, ProjectID: p.ProjectID, Cents: cents, Credited: p.Status == Credited})
	}
	return out, nil
}
