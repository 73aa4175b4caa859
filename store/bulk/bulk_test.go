package bulk_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	bulkdom "github.com/voltflow/voltflow/domain/bulk"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	bulkstore "github.com/voltflow/voltflow/store/bulk"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

// setup loads a demo of one gateway with three open meters, a hoarding cap
// of 100.00, and M0003's account undone (a meter to open).
func setup(t *testing.T) (*store.DB, string, string) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.GatewayPorts, o.MetersPerGW, o.BcryptCost = []int{1}, 3, bcrypt.MinCost
	o.Operators = o.Operators[:1]
	l, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	var op string
	if err := db.QueryRow(ctx, `select id from operators limit 1`).Scan(&op); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `update projects set hoarding_cap = 100.00 where id=$1;`, l.ProjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `update meters set account_id = null where meter_no = 'M0003'`); err != nil {
		t.Fatal(err)
	}
	return db, l.ProjectID, op
}

func sale(line int, meterNo, txn, amount string) bulkdom.Row {
	return bulkdom.Row{Line: line, MeterNo: meterNo, TransactionNo: txn, Amount: money.MustParse(amount)}
}

func TestRecharges(t *testing.T) {
	ctx := context.Background()
	db, pid, op := setup(t)
	check := func(rows []bulkdom.Row, want ...bulkdom.Problem) {
		t.Helper()
		got, err := bulkstore.Check(ctx, db, pid, bulkdom.Recharges, rows, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("problems %v; want %v", got, want)
		}
		for i := range got {
			if got[i].Line != want[i].Line || got[i].Column != want[i].Column {
				t.Errorf("problem %v; want row %d column %s", got[i], want[i].Line, want[i].Column)
			}
		}
	}
	// The hoarding cap bounds a meter's sales over the whole sheet.
	check([]bulkdom.Row{sale(2, "M0001", "T1", "60.00"), sale(3, "M0001", "T2", "50.00"), sale(4, "M0002", "T3", "50.00")},
		bulkdom.Problem{Line: 3, Column: bulkdom.ColAmount})
	check([]bulkdom.Row{sale(2, "M0003", "T1", "1.00"), sale(3, "M9", "T2", "1.00")},
		bulkdom.Problem{Line: 2, Column: bulkdom.ColMeterNo}, bulkdom.Problem{Line: 3, Column: bulkdom.ColMeterNo})

	rows := []bulkdom.Row{sale(2, "M0001", "T1", "60.00")}
	b := bulkstore.Batch{ID: "11111111-1111-1111-1111-111111111111", ProjectID: pid, Kind: bulkdom.Recharges,
		Hash: bulkdom.Hash(bulkdom.Recharges, rows), WorkflowID: "bulk/1", CreatedBy: op}
	got, created, err := bulkstore.Create(ctx, db, b, rows)
	if err != nil || !created || got.RowCount != 1 || got.Counts[bulkdom.Pending] != 1 {
		t.Fatalf("create: %+v %v %v", got, created, err)
	}
	again := b
	again.ID = "22222222-2222-2222-2222-222222222222"
	if got, created, err := bulkstore.Create(ctx, db, again, rows); err != nil || created || got.ID != b.ID {
		t.Fatalf("the same rows again: %+v %v %v; want batch %s", got, created, err, b.ID)
	}
	// A retried step is the same sale, still its own.
	in := bulkstore.RowInput{BatchID: b.ID, ProjectID: pid, Line: 2, OperatorID: op}
	p1, err := bulkstore.PrepareRecharge(ctx, db, in)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := bulkstore.PrepareRecharge(ctx, db, in)
	if err != nil || p1.RechargeID != p2.RechargeID || !p1.Owned || !p2.Owned {
		t.Fatalf("prepared %+v then %+v (%v); want one sale, owned", p1, p2, err)
	}
	// Another batch with the same transaction number finds the sale, not its own.
	rows2 := []bulkdom.Row{sale(2, "M0001", "T1", "60.00"), sale(3, "M0002", "T3", "10.00")}
	b2 := bulkstore.Batch{ID: "33333333-3333-3333-3333-333333333333", ProjectID: pid, Kind: bulkdom.Recharges,
		Hash: bulkdom.Hash(bulkdom.Recharges, rows2), WorkflowID: "bulk/3", CreatedBy: op}
	if _, created, err := bulkstore.Create(ctx, db, b2, rows2); err != nil || !created {
		t.Fatalf("second batch: %v %v", created, err)
	}
	p3, err := bulkstore.PrepareRecharge(ctx, db, bulkstore.RowInput{BatchID: b2.ID, ProjectID: pid, Line: 2, OperatorID: op})
	if err != nil || p3.RechargeID != p1.RechargeID || p3.Owned {
		t.Fatalf("same transaction number in another batch: %+v %v; want recharge %s, not owned", p3, err, p1.RechargeID)
	}
	// The stored sale counts against the cap; its number reused for another sale is refused.
	check([]bulkdom.Row{sale(2, "M0001", "T1", "70.00"), sale(3, "M0001", "T9", "50.00")},
		bulkdom.Problem{Line: 2, Column: bulkdom.ColTransactionNo}, bulkdom.Problem{Line: 3, Column: bulkdom.ColAmount})
}

func TestOpenings(t *testing.T) {
	ctx := context.Background()
	db, pid, op := setup(t)
	rows := []bulkdom.Row{{Line: 2, MeterNo: "M0001", CustomerName: "A"}, {Line: 3, MeterNo: "M0003", CustomerName: "B", Unit: "NOPE"}}
	problems, err := bulkstore.Check(ctx, db, pid, bulkdom.Openings, rows, nil)
	if err != nil || len(problems) != 2 || problems[0].Line != 2 || problems[1].Column != bulkdom.ColUnit {
		t.Fatalf("problems %v %v; want M0001 open and unit NOPE unknown", problems, err)
	}
	rows = []bulkdom.Row{{Line: 2, MeterNo: "M0003", CustomerName: "B", Phone: "13800000000", Unit: "SHOP-M0001"}}
	b := bulkstore.Batch{ID: "44444444-4444-4444-4444-444444444444", ProjectID: pid, Kind: bulkdom.Openings,
		Hash: bulkdom.Hash(bulkdom.Openings, rows), WorkflowID: "bulk/4", CreatedBy: op}
	if _, _, err := bulkstore.Create(ctx, db, b, rows); err != nil {
		t.Fatal(err)
	}
	in := bulkstore.RowInput{BatchID: b.ID, ProjectID: pid, Line: 2, OperatorID: op}
	o1, err := bulkstore.OpenRow(ctx, db, in)
	if err != nil || o1.State != bulkdom.Done || o1.AccountNo == "" {
		t.Fatalf("open: %+v %v", o1, err)
	}
	// Run again (a worker restart): the row is done, nothing more opened.
	o2, err := bulkstore.OpenRow(ctx, db, in)
	if err != nil || o2 != o1 {
		t.Fatalf("open again: %+v %v; want %+v", o2, err, o1)
	}
	var accounts int
	if err := db.QueryRow(ctx, `select count(*) from prepaid_accounts a join customers c on c.id=a.customer_id where c.name='B'`).Scan(&accounts); err != nil {
		t.Fatal(err)
	}
	if accounts != 1 {
		t.Fatalf("%d accounts opened; want 1", accounts)
	}
	counts, err := bulkstore.Finish(ctx, db, bulkstore.FinishInput{BatchID: b.ID})
	if err != nil || counts[bulkdom.Done] != 1 {
		t.Fatalf("finish: %v %v", counts, err)
	}
}
