package settlement_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	settlementdom "github.com/voltflow/voltflow/domain/settlement"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	settlementstore "github.com/voltflow/voltflow/store/settlement"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// bookAt books amount flowing from source to dest (as a person reads it:
// a recharge flows from cash into a wallet) as if the entry had been
// created at at: the fixture of months that have ended (the ledger stamps
// entries with now()).
func bookAt(t *testing.T, db *store.DB, projectID, key, kind string, at time.Time, source, dest ledgerdom.Posting, amount string) {
	t.Helper()
	e := ledgerdom.Transfer(key, kind, "", dest, source, money.MustParse(amount))
	err := store.InTx(context.Background(), db, func(tx pgx.Tx) error {
		ctx := context.Background()
		id := uuid.NewString()
		if _, err := tx.Exec(ctx, `insert into journal_entries(id, project_id, key, kind, created_at) values($1,$2,$3,$4,$5)`,
			id, projectID, key, kind, at); err != nil {
			return err
		}
		for _, p := range e.Postings {
			var acc string
			if err := tx.QueryRow(ctx, `insert into ledger_accounts(id, project_id, code, kind) values($1,$2,$3,$4)
				on conflict (project_id, code) do update set code=excluded.code returning id`,
				uuid.NewString(), projectID, p.Account, string(p.Kind)).Scan(&acc); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `insert into postings(entry_id, account_id, amount) values($1,$2,$3)`, id, acc, p.Amount); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `update ledger_accounts set balance = balance + $2 where id=$1`, acc, p.Amount); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("book %s: %v", key, err)
	}
}

func cst(m time.Month, d, h int) time.Time {
	return time.Date(2026, m, d, h, 0, 0, 0, settlementdom.China)
}

// TestSettleHandComputed settles October and November 2026 over a hand-made
// ledger: the figures, a rerun that changes nothing, a late entry that falls
// into November, and the refusals.
func TestSettleHandComputed(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.ProjectID
	w1 := ledgerdom.Posting{Account: ledgerdom.MeterWallet("S0001"), Kind: ledgerdom.Liability}
	w2 := ledgerdom.Posting{Account: ledgerdom.CustomerWallet("C-S2"), Kind: ledgerdom.Liability}
	cash := ledgerdom.Posting{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset}
	income := ledgerdom.Posting{Account: ledgerdom.ConsumptionIncome, Kind: ledgerdom.Income}
	payable := ledgerdom.Posting{Account: ledgerdom.PendingRefundCode, Kind: ledgerdom.Liability}
	fees := ledgerdom.Posting{Account: "fee-income", Kind: ledgerdom.Income}
	grant := ledgerdom.Posting{Account: "allowance", Kind: ledgerdom.Expense}

	bookAt(t, db, pid, "s/1", "recharge-delivered", cst(9, 20, 10), cash, w1, "100.00")
	bookAt(t, db, pid, "s/2", "recharge-delivered", cst(10, 5, 10), cash, w1, "50.00")
	bookAt(t, db, pid, "s/3", "consumption", cst(10, 10, 10), w1, income, "30.00")
	bookAt(t, db, pid, "s/4", "refund", cst(10, 20, 10), w1, payable, "20.00")
	bookAt(t, db, pid, "s/5", "property_fee", cst(10, 25, 10), w1, fees, "15.00")
	bookAt(t, db, pid, "s/6", "allowance", cst(10, 28, 10), grant, w1, "5.00")
	bookAt(t, db, pid, "s/7", "card-topup", cst(10, 15, 10), cash, w2, "200.00")
	bookAt(t, db, pid, "s/8", "consumption", time.Date(2026, 10, 31, 23, 59, 59, 0, settlementdom.China), w2, income, "40.00")
	bookAt(t, db, pid, "s/9", "consumption", cst(11, 1, 0), w2, income, "1.00") // November's first second

	oct, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-10"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !oct.Created || !oct.From.Equal(cst(10, 1, 0)) || !oct.To.Equal(cst(11, 1, 0)) || oct.Day != "last" {
		t.Fatalf("october %+v", oct)
	}
	want := map[string]string{
		// opening recharged refunded consumed fees other closing
		"meter-wallet:S0001":   "100.00 50.00 20.00 30.00 15.00 5.00 90.00",
		"customer-wallet:C-S2": "0.00 200.00 0.00 40.00 0.00 0.00 160.00",
	}
	check(t, db, pid, "2026-10", want)

	again, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-10"}, time.Now())
	if err != nil || again.Created || !again.SettledAt.Equal(oct.SettledAt) {
		t.Fatalf("second settlement %+v, %v: want the first one's, not created", again, err)
	}
	// Committed after October closed, though stamped in October: October
	// stays as settled, November carries it.
	bookAt(t, db, pid, "s/10", "consumption", cst(10, 30, 10), w1, income, "10.00")
	if _, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-10"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	check(t, db, pid, "2026-10", want)

	bookAt(t, db, pid, "s/11", "recharge-delivered", cst(11, 3, 10), cash, w2, "60.00")
	bookAt(t, db, pid, "s/12", "common-area", cst(11, 12, 10), w2, fees, "7.50")
	bookAt(t, db, pid, "s/13", "consumption", cst(12, 1, 0), w2, income, "3.00") // December
	if _, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-11"}, cst(12, 1, 0)); err != nil {
		t.Fatal(err)
	}
	check(t, db, pid, "2026-11", map[string]string{
		"meter-wallet:S0001":   "90.00 0.00 0.00 10.00 0.00 0.00 80.00",
		"customer-wallet:C-S2": "160.00 60.00 0.00 1.00 7.50 0.00 211.50",
	})
	if b, _ := ledgerstore.Balance(ctx, db, pid, w1.Account); b.String() != "80.00" {
		t.Fatalf("wallet S0001 = %s, want 80.00 (November's closing, nothing after)", b)
	}
	if err := ledgerstore.CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}

	if _, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-09"}, time.Now()); !errors.Is(err, settlementstore.ErrLaterSettled) {
		t.Fatalf("settling September after November: %v, want ErrLaterSettled", err)
	}
	if _, err := settlementstore.Settle(ctx, db, settlementstore.SettleInput{ProjectID: pid, Month: "2026-12"}, cst(12, 31, 23)); !errors.Is(err, settlementstore.ErrNotEnded) {
		t.Fatalf("settling December before its end: %v, want ErrNotEnded", err)
	}
	if _, err := db.Exec(ctx, `update month_settlement_accounts set closing = 0`); err == nil {
		t.Fatal("a settled month was rewritten")
	}
}

func check(t *testing.T, db *store.DB, projectID, month string, want map[string]string) {
	t.Helper()
	rows, err := settlementstore.Accounts(context.Background(), db, projectID, month)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if _, ok := want[r.Account]; !ok {
			continue // the demo's own wallets, booked now
		}
		got[r.Account] = r.Opening.String() + " " + r.Recharged.String() + " " + r.Refunded.String() + " " + r.Consumed.String() +
			" " + r.Fees.String() + " " + r.Other.String() + " " + r.Closing.String()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s = %q, want %q", month, k, got[k], v)
		}
	}
}
