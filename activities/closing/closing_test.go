package closing

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	closingstore "github.com/voltflow/voltflow/store/closing"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func TestOpenRefusalsAndSettlementOnce(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), db); err != nil {
			t.Error(err)
		}
	})
	var meterID, operator string
	if err := db.QueryRow(ctx, `select m.id, o.id from meters m, operators o where m.meter_no='M0001' and o.username='cashier'`).
		Scan(&meterID, &operator); err != nil {
		t.Fatal(err)
	}
	// 30.00 of cash the meter used up, 20.00 of voucher value.
	for _, e := range []ledgerdom.Entry{
		ledgerdom.Transfer("seed/cash", "recharge-delivered", "", ledgerdom.Posting{Account: ledgerdom.MeterWallet("M0001"), Kind: ledgerdom.Liability},
			ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, money.MustParse("30.00")),
		ledgerdom.Transfer("seed/voucher", "voucher-redeemed", "", ledgerdom.Posting{Account: voucherdom.MeterAccount("M0001"), Kind: ledgerdom.Liability},
			ledgerdom.Posting{Account: voucherdom.PromotionAccount, Kind: ledgerdom.Expense}, money.MustParse("20.00")),
	} {
		if _, err := ledgerstore.Book(ctx, db, p.ProjectID, e); err != nil {
			t.Fatal(err)
		}
	}
	open := func(key string) (closingstore.Closing, bool, error) {
		id := uuid.NewString()
		return closingstore.Open(ctx, db, closingstore.Closing{ID: id, ProjectID: p.ProjectID, MeterID: meterID, MeterNo: "M0001", TransactionNo: key,
			WorkflowID: "account-closing/" + id, CreatedBy: operator})
	}
	// A sale under way blocks the closing.
	rid := uuid.NewString()
	if _, err := db.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status, needs_approval,
		workflow_id, created_by) values($1,$2,$3,'M0001','R1',10,'dispatching',false,'recharge/x',$4)`, rid, p.ProjectID, meterID, operator); err != nil {
		t.Fatal(err)
	}
	if _, _, err := open("C0"); !errors.Is(err, closingstore.ErrBusy) {
		t.Fatalf("closing with a sale under way: %v", err)
	}
	if _, err := db.Exec(ctx, `update recharges set status='completed' where id=$1`, rid); err != nil {
		t.Fatal(err)
	}
	c, created, err := open("C1")
	if err != nil || !created {
		t.Fatalf("open: %v %v", created, err)
	}
	if again, created, err := open("C1"); err != nil || created || again.ID != c.ID {
		t.Fatalf("replay: %v %v", created, err)
	}
	if _, _, err := open("C2"); !errors.Is(err, closingstore.ErrAlreadyClosed) {
		t.Fatalf("second closing: %v", err)
	}
	if closed, _ := closingstore.IsClosed(ctx, db, meterID); !closed {
		t.Fatal("a closing under way must stop sales")
	}
	a := &Activities{DB: db}
	for range 2 {
		s, err := a.SettleClosing(ctx, SettleInput{ClosingID: c.ID, ProjectID: p.ProjectID, MeterID: meterID, MeterNo: "M0001"})
		if err != nil || s.FinalBalance.String() != "50.00" || s.WrittenOff.String() != "50.00" {
			t.Fatalf("settled %+v %v", s, err)
		}
	}
	for code, want := range map[string]string{ledgerdom.MeterWallet("M0001"): "0.00", voucherdom.MeterAccount("M0001"): "0.00",
		platformbillingacts.ConsumptionIncome: "50.00"} {
		if got, _ := ledgerstore.Balance(ctx, db, p.ProjectID, code); got.String() != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	var status string
	_ = db.QueryRow(ctx, `select pa.status from prepaid_accounts pa join meters m on m.account_id=pa.id where m.id=$1`, meterID).Scan(&status)
	if status != "closed" {
		t.Fatalf("prepaid account %s", status)
	}
}
