package wallet

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// TestApplyBookStatement: an application is recorded once per transaction
// number and kind; booking is idempotent; a refund the wallet does not
// cover is refused and books nothing; the statement runs the balance.
func TestApplyBookStatement(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := charger.IssueCard(ctx, db, charger.NewCard{ProjectID: p.ProjectID, CardNo: "S0000001", Holder: "s",
		Opening: money.MustParse("5.00")}); err != nil {
		t.Fatal(err)
	}
	const account = "C-S0000001"
	req := func(kind card.WalletKind, tx, amount string) Request {
		id := uuid.NewString()
		return Request{ID: id, ProjectID: p.ProjectID, Kind: kind, CardNo: "S0000001", AccountNo: account, TransactionNo: tx,
			Amount: money.MustParse(amount), Status: rechargedom.PendingApproval, NeedsApproval: true, WorkflowID: "w/" + id}
	}
	rec := req(card.WalletRecharge, "T1", "30.00")
	rec.Method = card.Cash
	got, created, err := Apply(ctx, db, rec)
	if err != nil || !created || !got.Same(rec) {
		t.Fatalf("apply %+v %v %v", got, created, err)
	}
	again := req(card.WalletRecharge, "T1", "31.00")
	if first, created, err := Apply(ctx, db, again); err != nil || created || first.ID != rec.ID || first.Same(again) {
		t.Fatalf("repeat %+v %v %v", first, created, err)
	}
	// The same number for a refund is another request.
	ref := req(card.WalletRefund, "T1", "40.00")
	if _, created, err := Apply(ctx, db, ref); err != nil || !created {
		t.Fatalf("refund T1: %v %v", created, err)
	}
	in := BookInput{RequestID: rec.ID, ProjectID: p.ProjectID, Kind: card.WalletRecharge, Method: card.Cash, AccountNo: account,
		Amount: rec.Amount}
	for range 2 {
		if err := Book(ctx, db, in); err != nil {
			t.Fatal(err)
		}
	}
	var short *BalanceError
	if err := Book(ctx, db, BookInput{RequestID: ref.ID, ProjectID: p.ProjectID, Kind: card.WalletRefund, AccountNo: account,
		Amount: ref.Amount}); !errors.As(err, &short) {
		t.Fatalf("refund of 40.00 from 35.00: %v", err)
	}
	if err := Book(ctx, db, BookInput{RequestID: ref.ID, ProjectID: p.ProjectID, Kind: card.WalletRefund, AccountNo: account,
		Amount: money.MustParse("35.00")}); err != nil {
		t.Fatal(err)
	}
	lines, err := Statement(ctx, db, p.ProjectID, account)
	if err != nil || len(lines) != 3 {
		t.Fatalf("statement %+v %v", lines, err)
	}
	for i, want := range []struct{ kind, amount, balance string }{
		{"card-topup", "5.00", "5.00"}, {"card-wallet-recharge", "30.00", "35.00"}, {"card-wallet-refund", "-35.00", "0.00"},
	} {
		if l := lines[i]; l.Kind != want.kind || l.Amount.String() != want.amount || l.Balance.String() != want.balance {
			t.Errorf("line %d: %+v, want %+v", i, l, want)
		}
	}
	if got, err := Get(ctx, db, []string{p.ProjectID}, card.WalletRecharge, rec.ID); err != nil || got.Status != rechargedom.Completed {
		t.Fatalf("booked recharge %+v %v", got, err)
	}
	if _, err := Get(ctx, db, []string{p.ProjectID}, card.WalletRefund, rec.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a recharge read as a refund: %v", err)
	}
	if err := ledgerstore.CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}
}
