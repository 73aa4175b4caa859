package chargeorder_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/domain/chargepay"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/enterprise"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
	"github.com/voltflow/voltflow/store/charger"
	creditstore "github.com/voltflow/voltflow/store/credit"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
)

type moneyFixture struct {
	ctx      context.Context
	db       *store.DB
	project  string
	operator string
}

func moneySetup(t *testing.T) moneyFixture {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.GatewayPorts, o.BcryptCost = 1, []int{15021}, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, p.ProjectID); err != nil {
		t.Fatal(err)
	}
	f := moneyFixture{ctx: ctx, db: db, project: p.ProjectID}
	if err := db.QueryRow(ctx, `select id::text from operators where username='cashier'`).Scan(&f.operator); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), db); err != nil {
			t.Error(err)
		}
	})
	return f
}

// order records a settled order directly (Settle needs a whole OCPP transaction).
func (f moneyFixture) order(t *testing.T, status string, paidBy chargepay.Mode, amount, voucher, pkg string) string {
	t.Helper()
	id := uuid.NewString()
	if _, err := f.db.Exec(f.ctx, `insert into charging_orders (id, project_id, workflow_id, source, id_tag, card_no,
		equipment_id, connector_no, status, amount, voucher_amount, package_waived, paid_by, started_at)
		values ($1,$2,$3,'card','K1','K1','EQ1',1,$4,$5,$6,$7,$8,now())`,
		id, f.project, "charging/"+id, status, amount, voucher, pkg, string(paidBy)); err != nil {
		t.Fatal(err)
	}
	return id
}

// An enterprise card charges on the enterprise's wallet until a credit
// account opens, then on credit; either way only while something is left.
func TestEnterpriseFunding(t *testing.T) {
	f := moneySetup(t)
	e, err := creditstore.CreateEnterprise(f.ctx, f.db, f.project, enterprise.Enterprise{Code: "FLEET", Name: "Fleet", Email: "ap@fleet.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creditstore.AddStaff(f.ctx, f.db, e.ID, enterprise.Staff{Name: "Wang", Cards: []string{"EC01"}}); err != nil {
		t.Fatal(err)
	}
	check := func(want chargepay.Mode, available string, startErr error) {
		t.Helper()
		ec, ok, err := chargeorderstore.EnterpriseOf(f.ctx, f.db, "EC01")
		if err != nil || !ok || ec.EnterpriseID != e.ID || ec.Funding.Mode != want || ec.Funding.Available.String() != available ||
			!errors.Is(ec.Funding.CheckStart(), startErr) {
			t.Fatalf("EnterpriseOf = %+v %v %v; want %s %s %v", ec, ok, err, want, available, startErr)
		}
	}
	if _, ok, err := chargeorderstore.EnterpriseOf(f.ctx, f.db, charger.DemoCard); ok || err != nil {
		t.Fatalf("the demo card is no enterprise's: %v %v", ok, err)
	}
	check(chargepay.EnterpriseWallet, "0.00", chargepay.ErrExhausted)
	if _, err := ledgerstore.Book(f.ctx, f.db, f.project, enterprise.RechargeEntry("t/1", "FLEET", money.MustParse("50.00"))); err != nil {
		t.Fatal(err)
	}
	check(chargepay.EnterpriseWallet, "50.00", nil)

	id := uuid.NewString()
	a, _, err := creditstore.Apply(f.ctx, f.db, creditstore.Application{ID: id, ProjectID: f.project, EnterpriseID: e.ID,
		EnterpriseCode: "FLEET", ApplicationNo: "A1", Kind: creditline.Open, RequestedLimit: money.MustParse("20.00"),
		Cycle: bill.Cycle{Length: time.Hour, DueAfter: time.Hour, SuspendWait: time.Hour}, Status: rechargedom.PendingApproval,
		WorkflowID: "credit-limit/" + id, CreatedBy: f.operator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creditstore.ApplyCreditLimit(f.ctx, f.db, creditstore.ApplyLimitInput{ApplicationID: a.ID}); err != nil {
		t.Fatal(err)
	}
	check(chargepay.Credit, "20.00", nil)
	if _, _, err := creditstore.Consume(f.ctx, f.db, creditstore.ConsumeInput{ProjectID: f.project, EnterpriseID: e.ID, Key: "k1",
		Amount: money.MustParse("20.00")}); err != nil {
		t.Fatal(err)
	}
	check(chargepay.Credit, "0.00", chargepay.ErrExhausted)
}

// An order is invoiced once: a second invoice naming it is refused whole,
// even when two race for it.
func TestInvoiceChargingOrders(t *testing.T) {
	f := moneySetup(t)
	projects := []string{f.project}
	o1 := f.order(t, "completed", chargepay.Wallet, "7.00", "5.00", "0")
	o2 := f.order(t, "completed", chargepay.Credit, "18.00", "0", "1.20")
	inv, err := chargeorderstore.CreateInvoice(f.ctx, f.db, chargeorderstore.InvoiceRequest{Projects: projects, Title: "Fleet",
		TaxID: "91440300MA5G1234XY", OrderIDs: []string{o1, o2}, CreatedBy: f.operator})
	if err != nil || inv.Amount.String() != "25.00" || len(inv.OrderIDs) != 2 {
		t.Fatalf("invoice %+v %v", inv, err)
	}
	tests := []struct {
		name   string
		orders []string
		want   error
	}{
		{"invoiced again", []string{o1}, chargepay.ErrAlreadyInvoiced},
		{"with a new order", []string{f.order(t, "completed", chargepay.Wallet, "1.00", "0", "0"), o2}, chargepay.ErrAlreadyInvoiced},
		{"failed order", []string{f.order(t, "failed", chargepay.Wallet, "0", "0", "0")}, chargepay.ErrNotInvoiceable},
		{"unknown order", []string{uuid.NewString()}, chargeorderstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chargeorderstore.CreateInvoice(f.ctx, f.db, chargeorderstore.InvoiceRequest{Projects: projects, Title: "Fleet",
				TaxID: "91440300MA5G1234XY", OrderIDs: tt.orders})
			if !errors.Is(err, tt.want) {
				t.Fatalf("CreateInvoice = %v, want %v", err, tt.want)
			}
		})
	}
	race := f.order(t, "completed", chargepay.Wallet, "2.00", "0", "0")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := chargeorderstore.CreateInvoice(f.ctx, f.db, chargeorderstore.InvoiceRequest{Projects: projects, Title: "Fleet",
				TaxID: "91440300MA5G1234XY", OrderIDs: []string{race}})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if !errors.Is(err, chargepay.ErrAlreadyInvoiced) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d invoices of one order", ok)
	}

	// 订单扣费明细 of the two first orders.
	rows, err := chargeorderstore.Deductions(f.ctx, f.db, chargeorderstore.DeductionQuery{Projects: projects, CardNo: "K1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]chargeorderstore.DeductionRow{}
	for _, r := range rows {
		got[r.OrderID] = r
	}
	if d := got[o1]; d.Total.String() != "12.00" || d.Wallet.String() != "7.00" || d.Voucher.String() != "5.00" || d.Credit.String() != "0.00" {
		t.Fatalf("deduction of o1 %+v", d)
	}
	if d := got[o2]; d.Total.String() != "18.00" || d.Credit.String() != "18.00" || d.Package.String() != "1.20" || d.Wallet.String() != "0.00" {
		t.Fatalf("deduction of o2 %+v", d)
	}
}

// The package fee is booked from the card's wallet when bought, once; it
// cannot change afterwards.
func TestPackageFeeBookedOnce(t *testing.T) {
	f := moneySetup(t)
	c, err := charger.GetCard(f.ctx, f.db, []string{f.project}, charger.DemoCard)
	if err != nil {
		t.Fatal(err)
	}
	req := chargeorderstore.PackageRequest{CardNo: charger.DemoCard, Month: "2026-12", QuotaKWh: decimal.NewFromInt(100), Fee: money.MustParse("30.00")}
	for range 2 {
		p, err := chargeorderstore.SavePackage(f.ctx, f.db, []string{f.project}, req)
		if err != nil || p.Fee.String() != "30.00" {
			t.Fatalf("save: %+v %v", p, err)
		}
	}
	after, err := ledgerstore.Balance(f.ctx, f.db, f.project, ledgerdom.CustomerWallet(c.AccountNo))
	if err != nil {
		t.Fatal(err)
	}
	if c.Balance.Sub(after).String() != "30.00" {
		t.Fatalf("wallet %s → %s", c.Balance, after)
	}
	req.Fee = money.MustParse("10.00")
	var fe chargeorderstore.PackageField
	if _, err := chargeorderstore.SavePackage(f.ctx, f.db, []string{f.project}, req); !errors.As(err, &fe) || fe.Field != "fee" {
		t.Fatalf("changed fee: %v", err)
	}
}
