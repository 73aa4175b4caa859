package report

import (
	"context"
	"errors"
	"fmt"
	"github.com/voltflow/voltflow/store"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/domain/money"
)

// Finance reports (财务管理, F7): account summary (账户信息汇总), recharge
// detail (账户充值明细), refund detail (账户退款明细), sales by day, month or
// year (财务销售报表) and the invoice register (发票管理). Every amount comes
// from the ledger or the projections the ledger was booked with.

// FinanceFilter selects the rows of a finance report.
type FinanceFilter struct {
	Projects []string
	Period   Period
	MeterNo  string // recharge and refund detail: "" = every meter
	// Granularity of the sales report: day, month or year.
	Granularity Granularity
	// Scope keeps a site-scoped caller to its meters: their wallets,
	// recharges, refunds and sales (customer wallets and the invoice
	// register, which are not a meter's, stay out of its view).
	Scope store.Scope
}

// AccountSummaryRow is one prepaid wallet over the period: its balance at the
// start and the end and what moved it, by kind of entry. Opening + recharged
// − consumed − refunded − voucherPaid + other = closing, to the cent.
type AccountSummaryRow struct {
	Account     string       `json:"account"`
	Opening     money.Amount `json:"opening"`
	Recharged   money.Amount `json:"recharged"`   // sales the meter took (售电)
	Consumed    money.Amount `json:"consumed"`    // consumption billed, and settled at closing (销户)
	Refunded    money.Amount `json:"refunded"`    // refunds and reversals (退电, 冲正)
	VoucherPaid money.Amount `json:"voucherPaid"` // sale value paid by vouchers, moved out of the cash wallet
	Other       money.Amount `json:"other"`
	Closing     money.Amount `json:"closing"`
}

// Cursor is the row's keyset position.
func (r AccountSummaryRow) Cursor() string { return r.Account }

// Headers names the columns.
func (AccountSummaryRow) Headers() []string {
	return []string{"账户 Account", "期初 Opening", "充值 Recharged", "消费 Consumed", "退款 Refunded", "代金券 Voucher paid", "其他 Other", "期末 Closing"}
}

// Cells are the spreadsheet row.
func (r AccountSummaryRow) Cells() []any {
	return []any{r.Account, num(r.Opening), num(r.Recharged), num(r.Consumed), num(r.Refunded), num(r.VoucherPaid), num(r.Other), num(r.Closing)}
}

func num(a money.Amount) float64 { f, _ := a.Decimal().Float64(); return f }

// Wallets are credit-normal liabilities: a posting of −x raises the balance by x.
var accountSummarySQL = `select a.code,
	coalesce(-sum(p.amount) filter (where e.created_at < $2), 0),
	coalesce(-sum(p.amount) filter (where e.created_at >= $2 and e.created_at < $3 and e.kind in ('recharge-delivered','card-topup')), 0),
	coalesce(sum(p.amount) filter (where e.created_at >= $2 and e.created_at < $3 and e.kind in ('consumption','account-closed')), 0),
	coalesce(sum(p.amount) filter (where e.created_at >= $2 and e.created_at < $3 and e.kind in ('refund','reversal')), 0),
	coalesce(sum(p.amount) filter (where e.created_at >= $2 and e.created_at < $3 and e.kind = 'voucher-redeemed'), 0),
	coalesce(-sum(p.amount) filter (where e.created_at >= $2 and e.created_at < $3 and e.kind not in
		('recharge-delivered','card-topup','consumption','account-closed','refund','reversal','voucher-redeemed')), 0),
	coalesce(-sum(p.amount) filter (where e.created_at < $3), 0)
from ledger_accounts a
left join postings p on p.account_id = a.id
left join journal_entries e on e.id = p.entry_id
where a.project_id::text = any($1) and (a.code like 'meter-wallet:%' or a.code like 'customer-wallet:%') and a.code > $4
	and (a.project_id::text <> all($6::text[]) or (a.code like 'meter-wallet:%'
		and ` + store.Scope{}.MeterNoSQL("a.project_id", "substr(a.code, 14)", 6) + `))
group by a.code order by a.code limit $5`

// AccountSummary walks the prepaid wallets in account order.
func AccountSummary(ctx context.Context, q Querier, f FinanceFilter, p Page, fn func(AccountSummaryRow) error) error {
	if err := f.Period.Validate(); err != nil {
		return err
	}
	return walk(ctx, q, func(rows pgx.Rows) (AccountSummaryRow, error) {
		var r AccountSummaryRow
		err := rows.Scan(&r.Account, &r.Opening, &r.Recharged, &r.Consumed, &r.Refunded, &r.VoucherPaid, &r.Other, &r.Closing)
		return r, err
	}, fn, accountSummarySQL, f.Projects, f.Period.From, f.Period.To, p.After, p.limitArg(),
		f.Scope.Args()[0], f.Scope.Args()[1])
}

// MoneyDetailRow is one recharge or refund (充值明细 / 退款明细).
type MoneyDetailRow struct {
	ID            string       `json:"id"`
	CreatedAt     time.Time    `json:"createdAt"`
	MeterNo       string       `json:"meterNo"`
	Customer      string       `json:"customer"`
	TransactionNo string       `json:"transactionNo"`
	Kind          string       `json:"kind"`
	Amount        money.Amount `json:"amount"`
	VoucherPaid   money.Amount `json:"voucherPaid"` // recharges: the part vouchers paid
	Status        string       `json:"status"`
	CompletedAt   *time.Time   `json:"completedAt"`
	InvoiceNo     string       `json:"invoiceNo"` // recharges: the issued invoice, if any
	Operator      string       `json:"operator"`
}

// Cursor is the row's keyset position.
func (r MoneyDetailRow) Cursor() string { return timeCursor(r.CreatedAt, r.ID) }

// Headers names the columns.
func (MoneyDetailRow) Headers() []string {
	return []string{"时间 Time", "表号 Meter", "客户 Customer", "流水号 Transaction", "类型 Kind", "金额 Amount", "代金券 Voucher paid",
		"状态 Status", "完成 Completed", "发票 Invoice", "操作员 Operator"}
}

// Cells are the spreadsheet row.
func (r MoneyDetailRow) Cells() []any {
	completed := ""
	if r.CompletedAt != nil {
		completed = r.CompletedAt.In(china).Format(time.DateTime)
	}
	return []any{r.CreatedAt.In(china).Format(time.DateTime), r.MeterNo, r.Customer, r.TransactionNo, r.Kind, num(r.Amount),
		num(r.VoucherPaid), r.Status, completed, r.InvoiceNo, r.Operator}
}

var rechargeDetailSQL = `select x.id::text, x.created_at, x.meter_no, coalesce(c.name, ''), x.transaction_no, 'recharge', x.amount,
	coalesce((select sum(amount) from voucher_redemptions v where v.recharge_id = x.id), 0), x.status, x.completed_at,
	coalesce((select i.invoice_no from invoice_lines l join invoices i on i.id = l.invoice_id
		where l.recharge_id = x.id and not l.released and i.status = 'issued'), ''), o.username
from recharges x join meters m on m.id = x.meter_id join operators o on o.id = x.created_by
left join prepaid_accounts pa on pa.id = m.account_id left join customers c on c.id = pa.customer_id
where x.project_id::text = any($1) and x.created_at >= $2 and x.created_at < $3 and ($4 = '' or x.meter_no = $4)
	and ($5::timestamptz is null or (x.created_at, x.id::text) > ($5, $6))
	and ` + store.Scope{}.SQL("x.meter_id", 8) + `
order by x.created_at, x.id::text limit $7`

var refundDetailSQL = `select x.id::text, x.created_at, x.meter_no, coalesce(c.name, ''), x.transaction_no, x.kind, x.amount,
	0::numeric, x.status, x.completed_at, '', o.username
from refunds x join meters m on m.id = x.meter_id join operators o on o.id = x.created_by
left join prepaid_accounts pa on pa.id = m.account_id left join customers c on c.id = pa.customer_id
where x.project_id::text = any($1) and x.created_at >= $2 and x.created_at < $3 and ($4 = '' or x.meter_no = $4)
	and ($5::timestamptz is null or (x.created_at, x.id::text) > ($5, $6))
	and ` + store.Scope{}.SQL("x.meter_id", 8) + `
order by x.created_at, x.id::text limit $7`

func moneyDetail(ctx context.Context, q Querier, sql string, f FinanceFilter, p Page, fn func(MoneyDetailRow) error) error {
	if err := f.Period.Validate(); err != nil {
		return err
	}
	after, key, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	return walk(ctx, q, func(rows pgx.Rows) (MoneyDetailRow, error) {
		var r MoneyDetailRow
		err := rows.Scan(&r.ID, &r.CreatedAt, &r.MeterNo, &r.Customer, &r.TransactionNo, &r.Kind, &r.Amount, &r.VoucherPaid,
			&r.Status, &r.CompletedAt, &r.InvoiceNo, &r.Operator)
		return r, err
	}, fn, sql, f.Projects, f.Period.From, f.Period.To, f.MeterNo, after, key, p.limitArg(),
		f.Scope.Args()[0], f.Scope.Args()[1])
}

// RechargeDetail walks the recharges applied for in the period, oldest first.
func RechargeDetail(ctx context.Context, q Querier, f FinanceFilter, p Page, fn func(MoneyDetailRow) error) error {
	return moneyDetail(ctx, q, rechargeDetailSQL, f, p, fn)
}

// RefundDetail walks the refunds and reversals applied for in the period.
func RefundDetail(ctx context.Context, q Querier, f FinanceFilter, p Page, fn func(MoneyDetailRow) error) error {
	return moneyDetail(ctx, q, refundDetailSQL, f, p, fn)
}

// SalesRow is one day, month or year of sales (China time): what the meters
// took, what went back, and what vouchers paid. Net = recharged − refunded −
// reversed; Cash = Net − VoucherPaid.
type SalesRow struct {
	Period      string       `json:"period"`
	Recharges   int          `json:"recharges"`
	Recharged   money.Amount `json:"recharged"`
	Refunded    money.Amount `json:"refunded"`
	Reversed    money.Amount `json:"reversed"`
	VoucherPaid money.Amount `json:"voucherPaid"`
	Net         money.Amount `json:"net"`
	Cash        money.Amount `json:"cash"`
}

// Cursor is the row's keyset position.
func (r SalesRow) Cursor() string { return r.Period }

// Headers names the columns.
func (SalesRow) Headers() []string {
	return []string{"期间 Period", "笔数 Recharges", "售电 Recharged", "退电 Refunded", "冲正 Reversed", "代金券 Voucher paid", "净额 Net", "现金 Cash"}
}

// Cells are the spreadsheet row.
func (r SalesRow) Cells() []any {
	return []any{r.Period, r.Recharges, num(r.Recharged), num(r.Refunded), num(r.Reversed), num(r.VoucherPaid), num(r.Net), num(r.Cash)}
}

var salesFormats = map[Granularity]string{Day: "YYYY-MM-DD", Month: "YYYY-MM", Year: "YYYY"}

// ErrGranularity refuses a sales granularity other than day, month or year.
var ErrGranularity = errors.New("granularity must be day, month or year")

// Money counts when the meter took it (completed_at), as in the statement.
var salesSQL = `with m as (
	select to_char(completed_at at time zone '` + Location + `', $4) as period, amount, 'recharge' as kind,
		coalesce((select sum(amount) from voucher_redemptions v where v.recharge_id = x.id), 0) as voucher
	from recharges x where project_id::text = any($1) and status = 'completed' and completed_at >= $2 and completed_at < $3
		and ` + store.Scope{}.SQL("x.meter_id", 7) + `
	union all
	select to_char(completed_at at time zone '` + Location + `', $4), amount, kind, 0
	from refunds x where project_id::text = any($1) and status = 'completed' and completed_at >= $2 and completed_at < $3
		and ` + store.Scope{}.SQL("x.meter_id", 7) + `)
select period, count(*) filter (where kind = 'recharge'),
	coalesce(sum(amount) filter (where kind = 'recharge'), 0),
	coalesce(sum(amount) filter (where kind = 'refund'), 0),
	coalesce(sum(amount) filter (where kind = 'reversal'), 0),
	coalesce(sum(voucher), 0)
from m where period > $5 group by period order by period limit $6`

// Sales walks the periods with any completed sale, refund or reversal.
func Sales(ctx context.Context, q Querier, f FinanceFilter, p Page, fn func(SalesRow) error) error {
	if err := f.Period.Validate(); err != nil {
		return err
	}
	format, ok := salesFormats[f.Granularity]
	if !ok {
		return fmt.Errorf("%q: %w", f.Granularity, ErrGranularity)
	}
	return walk(ctx, q, func(rows pgx.Rows) (SalesRow, error) {
		var r SalesRow
		err := rows.Scan(&r.Period, &r.Recharges, &r.Recharged, &r.Refunded, &r.Reversed, &r.VoucherPaid)
		r.Net = r.Recharged.Sub(r.Refunded).Sub(r.Reversed)
		r.Cash = r.Net.Sub(r.VoucherPaid)
		return r, err
	}, fn, salesSQL, f.Projects, f.Period.From, f.Period.To, format, p.After, p.limitArg(),
		f.Scope.Args()[0], f.Scope.Args()[1])
}

// InvoiceRow is one invoice of the register (发票管理).
type InvoiceRow struct {
	ID        string       `json:"id"`
	CreatedAt time.Time    `json:"createdAt"`
	InvoiceNo string       `json:"invoiceNo"`
	Title     string       `json:"title"`
	TaxID     string       `json:"taxId"`
	Amount    money.Amount `json:"amount"`
	Lines     int          `json:"lines"`
	Status    string       `json:"status"`
	IssuedAt  *time.Time   `json:"issuedAt"`
}

// Cursor is the row's keyset position.
func (r InvoiceRow) Cursor() string { return timeCursor(r.CreatedAt, r.ID) }

// Headers names the columns.
func (InvoiceRow) Headers() []string {
	return []string{"申请时间 Applied", "发票号 Invoice no", "抬头 Title", "税号 Tax id", "金额 Amount", "笔数 Transactions", "状态 Status", "开票时间 Issued"}
}

// Cells are the spreadsheet row.
func (r InvoiceRow) Cells() []any {
	issued := ""
	if r.IssuedAt != nil {
		issued = r.IssuedAt.In(china).Format(time.DateTime)
	}
	return []any{r.CreatedAt.In(china).Format(time.DateTime), r.InvoiceNo, r.Title, r.TaxID, num(r.Amount), r.Lines, r.Status, issued}
}

const invoicesSQL = `select i.id::text, i.created_at, coalesce(i.invoice_no, ''), i.title, i.tax_id, i.amount,
	(select count(*) from invoice_lines l where l.invoice_id = i.id), i.status, i.issued_at
from invoices i where i.project_id::text = any($1)
	and ($2::timestamptz is null or (i.created_at >= $2 and i.created_at < $3))
	and ($4::timestamptz is null or (i.created_at, i.id::text) > ($4, $5))
	and i.project_id::text <> all($7::text[])
order by i.created_at, i.id::text limit $6`

// Invoices walks the invoice register oldest first (period optional).
func Invoices(ctx context.Context, q Querier, f FinanceFilter, p Page, fn func(InvoiceRow) error) error {
	after, key, err := parseTimeCursor(p.After)
	if err != nil {
		return err
	}
	var from, to *time.Time
	if !f.Period.From.IsZero() {
		from, to = &f.Period.From, &f.Period.To
	}
	return walk(ctx, q, func(rows pgx.Rows) (InvoiceRow, error) {
		var r InvoiceRow
		err := rows.Scan(&r.ID, &r.CreatedAt, &r.InvoiceNo, &r.Title, &r.TaxID, &r.Amount, &r.Lines, &r.Status, &r.IssuedAt)
		return r, err
	}, fn, invoicesSQL, f.Projects, from, to, after, key, p.limitArg(), f.Scope.Args()[0])
}
