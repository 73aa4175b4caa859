package voucher

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	ledgerdom "github.com/voltflow/voltflow/domain/ledger"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	refunddom "github.com/voltflow/voltflow/domain/refund"
	voucherdom "github.com/voltflow/voltflow/domain/voucher"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	rechargestore "github.com/voltflow/voltflow/store/recharge"
	refundstore "github.com/voltflow/voltflow/store/refund"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

type fixture struct {
	db                           *store.DB
	projectID, operator, meterID string
	rechargeID                   string
	customers                    []string
	ctx                          context.Context
}

// setup loads a demo project and completes a 100.00 recharge of M0001.
func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 2, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, projectID: p.ProjectID, ctx: ctx, rechargeID: uuid.NewString()}
	if err := db.QueryRow(ctx, `select m.id, o.id from meters m, operators o where m.meter_no='M0001' and o.username='cashier'`).
		Scan(&f.meterID, &f.operator); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Query(ctx, `select id::text from customers order by name limit 2`)
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		f.customers = append(f.customers, id)
	}
	rows.Close()
	hundred := money.MustParse("100.00")
	if _, _, err := rechargestore.Create(ctx, db, rechargestore.Recharge{ID: f.rechargeID, ProjectID: f.projectID, MeterID: f.meterID,
		MeterNo: "M0001", Amount: hundred, TransactionNo: "T1", Status: rechargedom.Approved, WorkflowID: "recharge/" + f.rechargeID,
		CreatedBy: f.operator}); err != nil {
		t.Fatal(err)
	}
	if err := rechargestore.BookRecharge(ctx, db, rechargestore.BookInput{RechargeID: f.rechargeID, ProjectID: f.projectID, MeterNo: "M0001", Amount: hundred}); err != nil {
		t.Fatal(err)
	}
	if err := rechargestore.SettleRecharge(ctx, db, rechargestore.SettleInput{RechargeID: f.rechargeID, ProjectID: f.projectID, MeterNo: "M0001", Amount: hundred, Counter: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), db); err != nil {
			t.Error(err)
		}
	})
	return f
}

// issued books an approved batch of 20.00 vouchers to both customers.
func (f fixture) issued(t *testing.T) Batch {
	t.Helper()
	id := uuid.NewString()
	b, _, err := CreateBatch(f.ctx, f.db, Batch{ID: id, ProjectID: f.projectID, TransactionNo: "B-" + id, Name: "Opening",
		FaceValue: money.MustParse("20.00"), Quantity: 5, ExpiresAt: time.Now().Add(time.Hour), Status: voucherdom.Approved,
		WorkflowID: "voucher-batch/" + id, CreatedBy: f.operator})
	if err != nil {
		t.Fatal(err)
	}
	if err := RecordIssuance(f.ctx, f.db, IssuanceInput{BatchID: b.ID, CustomerIDs: f.customers}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // issuing again books nothing new
		if n, err := IssueBatch(f.ctx, f.db, IssueInput{BatchID: b.ID, ProjectID: f.projectID}); err != nil || n != 2 {
			t.Fatalf("issue: %d %v", n, err)
		}
	}
	return b
}

func (f fixture) balance(t *testing.T, code string) string {
	t.Helper()
	b, err := ledgerstore.Balance(f.ctx, f.db, f.projectID, code)
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (f fixture) vouchers(t *testing.T, batchID string) []Voucher {
	t.Helper()
	vs, err := ListVouchers(f.ctx, f.db, VoucherFilter{Projects: []string{f.projectID}, BatchID: batchID})
	if err != nil || len(vs) != 2 {
		t.Fatalf("vouchers: %v %v", vs, err)
	}
	return vs
}

func TestRedeemedValueIsNeverRefundableCash(t *testing.T) {
	f := setup(t)
	b := f.issued(t)
	if got := f.balance(t, voucherdom.PromotionAccount); got != "40.00" {
		t.Fatalf("promotion after issue %s", got)
	}
	vs := f.vouchers(t, b.ID)
	redeem := func(v Voucher, amount, key string) (Redemption, bool, error) {
		return Redeem(f.ctx, f.db, RedeemInput{ID: uuid.NewString(), ProjectID: f.projectID, VoucherID: v.ID, RechargeID: f.rechargeID,
			Amount: money.MustParse(amount), Key: key, CreatedBy: f.operator, Now: time.Now()})
	}
	if _, created, err := redeem(vs[0], "15.00", "R1"); err != nil || !created {
		t.Fatalf("redeem: %v %v", created, err)
	}
	want := map[string]string{ledgerdom.CashAccount: "85.00", ledgerdom.MeterWallet("M0001"): "85.00",
		voucherdom.MeterAccount("M0001"): "15.00", voucherdom.Account(vs[0].VoucherNo): "5.00"}
	for code, w := range want {
		if got := f.balance(t, code); got != w {
			t.Errorf("%s = %s, want %s", code, got, w)
		}
	}
	// The refund rules see only the cash wallet: 85.00, not 100.00.
	bal, err := refundstore.Balance(f.ctx, f.db, f.projectID, f.meterID, "M0001")
	if err != nil {
		t.Fatal(err)
	}
	if got := bal.Refundable().String(); got != "85.00" {
		t.Fatalf("refundable %s, want 85.00", got)
	}
	if err := bal.Check(money.MustParse("85.01")); !errors.Is(err, refunddom.ErrExceedsBalance) {
		t.Fatalf("refund above cash: %v", err)
	}

	// Replays and refusals change nothing.
	entries := f.count(t)
	if _, created, err := redeem(vs[0], "15.00", "R1"); err != nil || created {
		t.Fatalf("replay: %v %v", created, err)
	}
	if _, _, err := redeem(vs[0], "1.00", "R1"); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	if _, _, err := redeem(vs[0], "5.01", "R2"); !errors.Is(err, voucherdom.ErrExceedsValue) {
		t.Fatalf("above unused: %v", err)
	}
	if got := f.count(t); got != entries {
		t.Fatalf("refusals wrote: %s → %s", entries, got)
	}
	if _, _, err := redeem(vs[0], "5.00", "R3"); err != nil {
		t.Fatal(err)
	}
	if v, _ := GetVoucher(f.ctx, f.db, []string{f.projectID}, vs[0].ID); v.Status != voucherdom.Used || !v.Unused.IsZero() {
		t.Fatalf("spent voucher: %+v", v)
	}

	// Expiry: the second voucher is refused and its value goes back.
	if _, err := f.db.Exec(f.ctx, `update vouchers set expires_at = now() - interval '1 second' where batch_id=$1`, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := redeem(vs[1], "1.00", "R4"); !errors.Is(err, voucherdom.ErrNotRedeemable) {
		t.Fatalf("expired voucher redeemed: %v", err)
	}
	for want := 1; want >= 0; want-- { // expiring again finds nothing
		if n, err := ExpireBatch(f.ctx, f.db, ExpireInput{BatchID: b.ID, ProjectID: f.projectID}); err != nil || n != want {
			t.Fatalf("expire: %d %v", n, err)
		}
	}
	if got := f.balance(t, voucherdom.PromotionAccount); got != "20.00" {
		t.Fatalf("promotion after expiry %s, want the 20.00 redeemed", got)
	}
	if got, _ := GetBatch(f.ctx, f.db, []string{f.projectID}, b.ID); got.Status != voucherdom.BatchExpired {
		t.Fatalf("batch %s", got.Status)
	}
}

func (f fixture) count(t *testing.T) string {
	t.Helper()
	var entries, redemptions int
	if err := f.db.QueryRow(f.ctx, `select (select count(*) from journal_entries), (select count(*) from voucher_redemptions)`).
		Scan(&entries, &redemptions); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("entries=%d redemptions=%d", entries, redemptions)
}

func TestVoidBooksTheUnusedValueBackOnce(t *testing.T) {
	f := setup(t)
	b := f.issued(t)
	v := f.vouchers(t, b.ID)[0]
	apply := func() (Void, error) {
		id := uuid.NewString()
		return ApplyVoid(f.ctx, f.db, Void{ID: id, ProjectID: f.projectID, VoucherID: v.ID, Reason: "mistake",
			WorkflowID: "voucher-void/" + id, CreatedBy: f.operator})
	}
	d, err := apply()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply(); !errors.Is(err, ErrVoidUnderWay) {
		t.Fatalf("second void: %v", err)
	}
	for range 2 {
		if st, err := VoidVoucher(f.ctx, f.db, VoidInput{VoidID: d.ID}); err != nil || (st != voucherdom.Voided) {
			t.Fatalf("void: %s %v", st, err)
		}
	}
	if got := f.balance(t, voucherdom.PromotionAccount); got != "20.00" {
		t.Fatalf("promotion %s", got)
	}
	if got := f.balance(t, voucherdom.Account(v.VoucherNo)); got != "0.00" {
		t.Fatalf("voided voucher holds %s", got)
	}
	if _, err := apply(); !errors.Is(err, voucherdom.ErrNotVoidable) {
		t.Fatalf("void of a voided voucher: %v", err)
	}
	_, _, err = Redeem(f.ctx, f.db, RedeemInput{ID: uuid.NewString(), ProjectID: f.projectID, VoucherID: v.ID, RechargeID: f.rechargeID,
		Amount: money.MustParse("1.00"), Key: "RV", CreatedBy: f.operator, Now: time.Now()})
	if !errors.Is(err, voucherdom.ErrNotRedeemable) {
		t.Fatalf("voided voucher redeemed: %v", err)
	}
}

// Vouchers are listed by number a page at a time, each page after the
// last number of the one before.
func TestListVouchersPaged(t *testing.T) {
	f := setup(t)
	b := f.issued(t)
	all := f.vouchers(t, b.ID)
	var got []string
	after := ""
	for range 3 {
		page, err := ListVouchers(f.ctx, f.db, VoucherFilter{Projects: []string{f.projectID}, BatchID: b.ID, Limit: 1, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) != 1 {
			t.Fatalf("a page of %d, want 1", len(page))
		}
		after = page[0].VoucherNo
		got = append(got, after)
	}
	if len(got) != 2 || got[0] != all[0].VoucherNo || got[1] != all[1].VoucherNo || got[0] >= got[1] {
		t.Fatalf("pages %q, want %q then %q", got, all[0].VoucherNo, all[1].VoucherNo)
	}
}
