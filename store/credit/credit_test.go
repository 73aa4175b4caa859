package credit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	mailacts "github.com/voltflow/voltflow/activities/mail"
	"github.com/voltflow/voltflow/domain/bill"
	"github.com/voltflow/voltflow/domain/creditline"
	"github.com/voltflow/voltflow/domain/enterprise"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/demo"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

type fixture struct {
	db       *store.DB
	send     Send
	project  string
	operator string
	e        Enterprise
}

// setup is a demo project with enterprise ACME and a credit account of limit.
func setup(t *testing.T, limit string) fixture {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	// Bills go out through the mail activities, as they do in the worker.
	mailer := &mailacts.Activities{DB: db}
	send := func(ctx context.Context, m Mail) error {
		return mailer.SendMail(ctx, mailacts.SendInput{ProjectID: m.ProjectID, Ref: m.Ref,
			Message: mailacts.Message{To: m.To, Subject: m.Subject, Body: m.Body}})
	}
	f := fixture{db: db, send: send, project: p.ProjectID}
	if err := db.QueryRow(ctx, `select id from operators where username='cashier'`).Scan(&f.operator); err != nil {
		t.Fatal(err)
	}
	if f.e, err = CreateEnterprise(ctx, db, p.ProjectID, enterprise.Enterprise{Code: "ACME", Name: "Acme", Email: "ap@acme.example"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ledgerstore.CheckInvariant(context.Background(), db); err != nil {
			t.Error(err)
		}
	})
	if limit != "" {
		a := f.apply(t, creditline.Open, limit)
		if res, err := ApplyCreditLimit(ctx, f.db, ApplyLimitInput{ApplicationID: a.ID}); err != nil || res.Status != rechargedom.Completed {
			t.Fatalf("open credit: %+v %v", res, err)
		}
	}
	return f
}

func (f fixture) apply(t *testing.T, kind creditline.Kind, limit string) Application {
	t.Helper()
	id := uuid.NewString()
	a, created, err := Apply(context.Background(), f.db, Application{ID: id, ProjectID: f.project, EnterpriseID: f.e.ID,
		EnterpriseCode: f.e.Code, ApplicationNo: "A-" + id[:8], Kind: kind, RequestedLimit: money.MustParse(limit),
		Status: rechargedom.PendingApproval, WorkflowID: "credit-limit/" + id, CreatedBy: f.operator})
	if err != nil || !created {
		t.Fatalf("apply %s %s: %v", kind, limit, err)
	}
	return a
}

func (f fixture) consume(key, amount string) error {
	_, _, err := Consume(context.Background(), f.db, ConsumeInput{ProjectID: f.project, EnterpriseID: f.e.ID, Key: key,
		Amount: money.MustParse(amount)})
	return err
}

func (f fixture) owed(t *testing.T) string {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), f.db, f.project, creditline.Receivable("ACME"))
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Twenty concurrent charges of 10.00 against a limit of 100.00: the row
// lock lets exactly ten through, never an eleventh.
func TestConcurrentConsumptionStopsAtTheLimit(t *testing.T) {
	f := setup(t, "100.00")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.consume(fmt.Sprintf("order-%d", i), "10.00")
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, creditline.ErrExceedsLimit):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 10 || refused != 10 || f.owed(t) != "100.00" {
		t.Fatalf("ok %d refused %d owed %s", ok, refused, f.owed(t))
	}
}

func TestConsumeIsIdempotentByKey(t *testing.T) {
	f := setup(t, "100.00")
	for range 2 {
		if err := f.consume("order-1", "12.34"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.consume("order-1", "12.35"); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("same key, other amount: %v", err)
	}
	if f.owed(t) != "12.34" {
		t.Fatalf("owed %s", f.owed(t))
	}
}

func TestOpeningTwiceOpensOnce(t *testing.T) {
	f := setup(t, "")
	ctx := context.Background()
	a1, a2 := f.apply(t, creditline.Open, "100.00"), f.apply(t, creditline.Open, "200.00") // both pass: no account yet
	r1, err1 := ApplyCreditLimit(ctx, f.db, ApplyLimitInput{ApplicationID: a1.ID})
	r2, err2 := ApplyCreditLimit(ctx, f.db, ApplyLimitInput{ApplicationID: a2.ID})
	again, err3 := ApplyCreditLimit(ctx, f.db, ApplyLimitInput{ApplicationID: a1.ID})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if r1.Status != rechargedom.Completed || r2.Status != rechargedom.Rejected || r2.Failure == "" || again.Status != rechargedom.Completed {
		t.Fatalf("first %+v second %+v again %+v", r1, r2, again)
	}
	e, err := GetEnterprise(ctx, f.db, []string{f.project}, f.e.ID)
	if err != nil || e.Credit == nil || e.Credit.Limit.String() != "100.00" {
		t.Fatalf("credit %+v %v", e.Credit, err)
	}
	if _, _, err := Apply(ctx, f.db, Application{ID: uuid.NewString(), ProjectID: f.project, EnterpriseID: f.e.ID, EnterpriseCode: "ACME",
		ApplicationNo: "A-3", Kind: creditline.Open, RequestedLimit: money.MustParse("1.00")}); !errors.Is(err, creditline.ErrAlreadyOpen) {
		t.Fatalf("opening an open account: %v", err)
	}
}

// A cycle's bill, its write-off by repayments and the escalation of an
// unpaid one, at the activity level.
func TestBillRepayAndEscalate(t *testing.T) {
	f := setup(t, "1000.00")
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for key, amount := range map[string]string{"o1": "0.10", "o2": "0.20", "o3": "99.99"} {
		if err := f.consume(key, amount); err != nil {
			t.Fatal(err)
		}
	}
	in := CloseInput{ProjectID: f.project, EnterpriseID: f.e.ID, CycleNo: 1, PeriodStart: t0, PeriodEnd: t0.Add(time.Hour),
		DueAt: t0.Add(2 * time.Hour), SuspendAt: t0.Add(3 * time.Hour)}
	b, err := CloseCycle(ctx, f.db, in)
	if err != nil {
		t.Fatal(err)
	}
	if b.Closing.String() != "100.29" || b.AmountDue.String() != "100.29" || len(b.Lines) != 3 || b.Status != bill.Issued {
		t.Fatalf("bill %+v", b)
	}
	if again, err := CloseCycle(ctx, f.db, in); err != nil || again.ID != b.ID {
		t.Fatalf("closing again: %+v %v", again, err)
	}
	if err := EmailBill(ctx, f.db, BillInput{BillID: b.ID}, f.send); err != nil {
		t.Fatal(err)
	}
	var mails int
	if err := f.db.QueryRow(ctx, `select count(*) from mail_messages where ref=$1 and recipient='ap@acme.example' and status='sent'`, "bill/"+b.ID).Scan(&mails); err != nil || mails != 1 {
		t.Fatalf("bill mail: %d %v", mails, err)
	}

	repay := func(tx, amount string) Repayment {
		r, _, err := Repay(ctx, f.db, RepayInput{ProjectID: f.project, EnterpriseID: f.e.ID, TransactionNo: tx, Amount: money.MustParse(amount)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := repay("p1", "50.00"); len(r.WrittenOff) != 0 || r.Owed.String() != "50.29" {
		t.Fatalf("partial repayment %+v", r)
	}
	// Past due and past grace: reminder and suspension in one check.
	esc, err := Escalate(ctx, f.db, EscalateInput{EnterpriseID: f.e.ID, At: in.SuspendAt}, f.send)
	if err != nil || !esc.Suspended || len(esc.Reminded) != 1 {
		t.Fatalf("escalate %+v %v", esc, err)
	}
	if err := f.consume("o4", "1.00"); !errors.Is(err, creditline.ErrSuspended) {
		t.Fatalf("consumption while suspended: %v", err)
	}
	if _, _, err := Repay(ctx, f.db, RepayInput{ProjectID: f.project, EnterpriseID: f.e.ID, TransactionNo: "p2", Amount: money.MustParse("50.30")}); !errors.Is(err, creditline.ErrRepayTooLarge) {
		t.Fatalf("overpayment: %v", err)
	}
	r := repay("p2", "50.29")
	if len(r.WrittenOff) != 1 || r.WrittenOff[0] != 1 || r.Credit != creditline.Active || !r.Owed.IsZero() || r.ReceiptNo != "RC-ACME-00002" {
		t.Fatalf("final repayment %+v", r)
	}
	if again := repay("p2", "50.29"); again.ID != r.ID {
		t.Fatal("a repeated transactionNo booked twice")
	}
	// The next cycle lists both payments and opens with the last closing.
	b2, err := CloseCycle(ctx, f.db, CloseInput{ProjectID: f.project, EnterpriseID: f.e.ID, CycleNo: 2, PeriodStart: in.PeriodEnd,
		PeriodEnd: in.PeriodEnd.Add(time.Hour), DueAt: in.DueAt.Add(time.Hour), SuspendAt: in.SuspendAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if b2.Opening.String() != "100.29" || b2.Payments.String() != "100.29" || !b2.Closing.IsZero() || b2.Status != bill.WrittenOff {
		t.Fatalf("bill 2 %+v", b2)
	}
}
