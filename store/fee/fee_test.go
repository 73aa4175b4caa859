package fee_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	feedom "github.com/voltflow/voltflow/domain/fee"
	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store"
	feestore "github.com/voltflow/voltflow/store/fee"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// fixture is a project with a site holding n units of 50 m², each with an
// electricity meter on an open account; unit i's wallet holds i yuan.
type fixture struct {
	project, site string
	units         []string
}

func setup(t *testing.T, db *store.DB, n int) fixture {
	f := fixture{project: uuid.NewString(), site: uuid.NewString()}
	org, gw, customer := uuid.NewString(), uuid.NewString(), uuid.NewString()
	exec(t, db, `insert into organisations(id, code, name) values($1,'o','o')`, org)
	exec(t, db, `insert into projects(id, organisation_id, code, name) values($1,$2,'fees','fees')`, f.project, org)
	exec(t, db, `insert into sites(id, project_id, level, name) values($1,$2,1,'Tower')`, f.site, f.project)
	exec(t, db, `insert into gateways(id, project_id, code, protocol, address) values($1,$2,'GW','modbus-tcp','127.0.0.1:1')`, gw, f.project)
	exec(t, db, `insert into customers(id, project_id, name, phone) values($1,$2,'Tenant','13800000000')`, customer, f.project)
	for i := range n {
		unit, account := uuid.NewString(), uuid.NewString()
		f.units = append(f.units, unit)
		exec(t, db, `insert into units(id, project_id, site_id, name, area) values($1,$2,$3,$4,50)`, unit, f.project, f.site,
			"U"+string(rune('A'+i)))
		exec(t, db, `insert into prepaid_accounts(id, project_id, customer_id, account_no) values($1,$2,$3,$4)`,
			account, f.project, customer, "A"+string(rune('A'+i)))
		meterNo := "M" + string(rune('A'+i))
		exec(t, db, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id, unit_id)
			values($1,$2,$3,$4,$5,'ref-prepaid-v1',1.2,$6,$7)`, uuid.NewString(), f.project, meterNo, gw, i+1, account, unit)
		if i > 0 {
			if _, err := ledgerstore.Book(context.Background(), db, f.project, ledgerdom.Entry{Key: "seed:" + meterNo, Kind: "seed",
				Postings: []ledgerdom.Posting{
					{Account: ledgerdom.CashAccount, Kind: ledgerdom.Asset, Amount: money.FromCents(int64(i) * 10000)},
					{Account: ledgerdom.MeterWallet(meterNo), Kind: ledgerdom.Liability, Amount: money.FromCents(-int64(i) * 10000)},
				}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// TestBookOnceUnderConcurrentRuns: two runs of the same day (the
// schedule's and one resumed after a crash) book every unit's fee once;
// arrears are what the wallet lacked, and the ledger balances.
func TestBookOnceUnderConcurrentRuns(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	f := setup(t, db, 6)
	exec(t, db, `update projects set fee_arrears_cut_off=true where id=$1`, f.project)
	// 2.50/m² × 50 m² = 125.00, due on the 31st: the 30th in April.
	s, err := feestore.CreateSchedule(ctx, db, feestore.Schedule{ProjectID: f.project, SiteID: f.site, Kind: feedom.Management,
		Basis: feedom.PerM2, Amount: money.MustParse("2.50"), DayOfMonth: 31}, "")
	if err != nil {
		t.Fatal(err)
	}
	notDue, err := feestore.ListDue(ctx, db, feestore.DueInput{ProjectID: f.project, Day: time.Date(2026, 4, 29, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(notDue.Fees) != 0 {
		t.Fatalf("due on the 29th: %v %v", notDue, err)
	}
	day := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
	due, err := feestore.ListDue(ctx, db, feestore.DueInput{ProjectID: f.project, Day: day})
	if err != nil || len(due.Fees) != len(f.units) {
		t.Fatalf("due: %v %v", due, err)
	}
	// Pages of one (keyset by unit, schedule) list the same fees in the
	// same order.
	var paged []feestore.Due
	for in := (feestore.DueInput{ProjectID: f.project, Day: day, Limit: 1}); ; {
		page, err := feestore.ListDue(ctx, db, in)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page.Fees...)
		if len(page.Fees) < in.Limit {
			break
		}
		in.AfterUnit, in.AfterSchedule = page.Fees[0].UnitID, page.Fees[0].ScheduleID
	}
	if fmt.Sprint(paged) != fmt.Sprint(due.Fees) {
		t.Fatalf("paged %v, want %v", paged, due.Fees)
	}
	var wg sync.WaitGroup
	created := make(chan feestore.Booked, 3*len(due.Fees))
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range due.Fees {
				b, err := feestore.Book(ctx, db, feestore.BookInput{ProjectID: f.project, ScheduleID: d.ScheduleID, UnitID: d.UnitID, Day: day})
				if err != nil {
					t.Error(err)
					return
				}
				if b.Created {
					created <- b
				}
			}
		}()
	}
	wg.Wait()
	close(created)
	n := 0
	for b := range created {
		n++
		if b.Amount.String() != "125.00" {
			t.Errorf("amount %s", b.Amount)
		}
	}
	if n != len(f.units) {
		t.Fatalf("%d bookings created, want %d", n, len(f.units))
	}
	var entries int
	if err := db.QueryRow(ctx, `select count(*) from journal_entries where key like 'fee:' || $1 || ':%'`, s.ID).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if entries != len(f.units) {
		t.Fatalf("%d ledger entries, want %d", entries, len(f.units))
	}
	if err := ledgerstore.CheckInvariant(ctx, db); err != nil {
		t.Fatal(err)
	}
	again, err := feestore.ListDue(ctx, db, feestore.DueInput{ProjectID: f.project, Day: day})
	if err != nil || len(again.Fees) != 0 {
		t.Fatalf("due after booking: %v %v", again, err)
	}
	lines, err := feestore.List(ctx, db, f.project, "2026-04")
	if err != nil {
		t.Fatal(err)
	}
	// Unit i's wallet held i×100.00: unit 0 owes all 125.00, unit 1 owes 25.00, the rest nothing.
	want := []string{"125.00", "25.00", "0.00", "0.00", "0.00", "0.00"}
	for i, l := range lines {
		if l.Mgmt.String() != "125.00" || l.Total.String() != "125.00" || l.Arrears.String() != want[i] {
			t.Errorf("line %d: %+v", i, l)
		}
	}
	bal, err := ledgerstore.Balance(ctx, db, f.project, ledgerdom.MeterWallet("MA"))
	if err != nil || bal.String() != "-125.00" {
		t.Fatalf("MA wallet %s %v", bal, err)
	}
	var cut int
	if err := db.QueryRow(ctx, `select count(*) from fee_charges where cut_off`).Scan(&cut); err != nil || cut != 2 {
		t.Fatalf("cut off %d %v", cut, err)
	}
}
