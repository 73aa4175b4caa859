package refund

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// fixture is a demo project whose meter M0001 holds a paid wallet of 100.00.
func fixture(t *testing.T) (*store.DB, Refund) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	sale := ledgerdom.Transfer("recharge/seed/delivered", "recharge", "",
		ledgerdom.Posting{Account: ledgerdom.MeterWallet("M0001"), Kind: ledgerdom.Liability},
		ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}, money.MustParse("100.00"))
	if _, err := ledgerstore.Book(ctx, db, p.ProjectID, sale); err != nil {
		t.Fatal(err)
	}
	var base Refund
	if err := db.QueryRow(ctx, `select m.id, o.id from meters m, operators o where m.meter_no='M0001' and o.username='cashier'`).
		Scan(&base.MeterID, &base.CreatedBy); err != nil {
		t.Fatal(err)
	}
	base.ProjectID, base.MeterNo, base.Kind, base.Status = p.ProjectID, "M0001", refunddom.Refund, rechargedom.PendingApproval
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), db); err != nil {
			t.Error(err)
		}
	})
	return db, base
}

func application(base Refund, amount, key string) Refund {
	r := base
	r.ID, r.Amount, r.TransactionNo = uuid.NewString(), money.MustParse(amount), key
	r.WorkflowID = "refund/" + r.ID
	return r
}

func TestConcurrentApplicationsCannotSpendTheWalletTwice(t *testing.T) {
	db, base := fixture(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = Apply(context.Background(), db, application(base, "60.00", uuid.NewString()))
		}()
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, refunddom.ErrExceedsBalance):
			t.Fatalf("unexpected error %v", err)
		}
	}
	var rows int
	_ = db.QueryRow(context.Background(), `select count(*) from refunds`).Scan(&rows)
	if accepted != 1 || rows != 1 {
		t.Fatalf("%d of 8 refunds of 60.00 accepted, %d rows, from a wallet of 100.00; want 1", accepted, rows)
	}
}

func TestBookRefundChecksTheWalletAndIsIdempotent(t *testing.T) {
	db, base := fixture(t)
	ctx := context.Background()
	first, _, err := Apply(ctx, db, application(base, "70.00", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	in := BookInput{RefundID: first.ID, ProjectID: base.ProjectID, MeterNo: "M0001", Amount: first.Amount, Kind: refunddom.Refund}
	for range 2 { // a retried activity books once
		if err := BookRefund(ctx, db, in); err != nil {
			t.Fatal(err)
		}
	}
	if w, _ := ledgerstore.Balance(ctx, db, base.ProjectID, ledgerdom.MeterWallet("M0001")); w.String() != "30.00" {
		t.Fatalf("wallet %s after booking 70.00 of 100.00 twice; want 30.00", w)
	}
	// Written around the application check (as if the wallet had shrunk since):
	// booking refuses rather than overdraw the wallet.
	second := application(base, "40.00", "k2")
	if _, err := db.Exec(ctx, `insert into refunds(id, project_id, meter_id, meter_no, transaction_no, amount, kind, status,
		workflow_id, created_by) values($1,$2,$3,'M0001','k2',40.00,'refund','approved',$4,$5)`,
		second.ID, base.ProjectID, base.MeterID, second.WorkflowID, base.CreatedBy); err != nil {
		t.Fatal(err)
	}
	err = BookRefund(ctx, db, BookInput{RefundID: second.ID, ProjectID: base.ProjectID, MeterNo: "M0001", Amount: second.Amount, Kind: refunddom.Refund})
	var short *BalanceError
	if !errors.As(err, &short) || !errors.Is(err, refunddom.ErrExceedsBalance) {
		t.Fatalf("booking 40.00 from 30.00: %v", err)
	}
	if w, _ := ledgerstore.Balance(ctx, db, base.ProjectID, ledgerdom.MeterWallet("M0001")); w.String() != "30.00" {
		t.Fatalf("wallet %s after a refused booking; want 30.00", w)
	}
	if err := SettleRefund(ctx, db, SettleInput{RefundID: first.ID, ProjectID: base.ProjectID, MeterNo: "M0001",
		Amount: first.Amount, Kind: refunddom.Refund, Counter: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := Get(ctx, db, []string{base.ProjectID}, first.ID)
	if err != nil || got.Status != rechargedom.Completed || got.MeterCounter == nil || *got.MeterCounter != 2 {
		t.Fatalf("settled refund %+v, %v", got, err)
	}
	if p, _ := ledgerstore.Balance(ctx, db, base.ProjectID, ledgerdom.PendingRefundCode); !p.IsZero() {
		t.Fatalf("refund payable %s after settling", p)
	}
}
