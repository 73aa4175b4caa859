package ledger

import (
	"context"
	"testing"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func TestBookIdempotentAndBalanced(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	cash := ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}
	wallet := ledgerdom.Posting{Account: ledgerdom.MeterWallet("M0001"), Kind: ledgerdom.Liability}
	e := ledgerdom.Transfer("recharge/1", "recharge", "", wallet, cash, money.MustParse("100.00"))

	first, err := Book(ctx, db, p.ProjectID, e)
	if err != nil || !first.Created {
		t.Fatalf("first Book = %+v, %v", first, err)
	}
	again, err := Book(ctx, db, p.ProjectID, e)
	if err != nil || again.Created || again.EntryID != first.EntryID {
		t.Fatalf("replay Book = %+v, %v; want the same entry, not created", again, err)
	}
	if b, _ := Balance(ctx, db, p.ProjectID, ledgerdom.MeterWallet("M0001")); b.String() != "100.00" {
		t.Fatalf("wallet balance = %s, want 100.00 (booked once)", b)
	}
	if b, _ := Balance(ctx, db, p.ProjectID, ledgerdom.CashAccount); b.String() != "100.00" {
		t.Fatalf("cash balance = %s", b)
	}
	if err := CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}

	bad := ledgerdom.Entry{Key: "bad", Kind: "x", Postings: []ledgerdom.Posting{
		{Account: "a", Kind: ledgerdom.Asset, Amount: money.MustParse("1")},
		{Account: "b", Kind: ledgerdom.Asset, Amount: money.MustParse("-2")}}}
	if _, err := Book(ctx, db, p.ProjectID, bad); err == nil {
		t.Fatal("unbalanced entry booked")
	}
	// The database refuses an unbalanced entry even when code skips Validate.
	_, err = db.Exec(ctx, `with e as (insert into journal_entries(id, project_id, key, kind) values(gen_random_uuid(), $1, 'raw', 'x') returning id)
		insert into postings(entry_id, account_id, amount) select e.id, a.id, 5 from e, ledger_accounts a where a.code='cash'`, p.ProjectID)
	if err == nil {
		t.Fatal("database accepted an unbalanced entry")
	}
	if _, err := db.Exec(ctx, `update postings set amount = amount + 1`); err == nil {
		t.Fatal("postings are mutable")
	}
	if _, err := db.Exec(ctx, `delete from journal_entries`); err == nil {
		t.Fatal("journal entries can be deleted")
	}
	if err := CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}
	// The invariant check itself notices a tampered balance.
	if _, err := db.Exec(ctx, `update ledger_accounts set balance = balance + 1 where code='cash'`); err != nil {
		t.Fatal(err)
	}
	if err := CheckInvariant(ctx, db); err == nil {
		t.Fatal("CheckInvariant missed a balance that differs from its postings")
	}
}
