package invoice

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	invoicedom "github.com/voltflow/voltflow/domain/invoice"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/store/storetest"
)

var pg *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, &pg) }

func TestATransactionIsInvoicedOnce(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	o := demo.Defaults()
	o.MetersPerGW, o.BcryptCost = 1, 4
	p, err := demo.Load(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	var meterID, operator string
	if err := db.QueryRow(ctx, `select m.id, o.id from meters m, operators o where m.meter_no='M0001' and o.username='cashier'`).
		Scan(&meterID, &operator); err != nil {
		t.Fatal(err)
	}
	recharge := func(amount, status string) string {
		id := uuid.NewString()
		if _, err := db.Exec(ctx, `insert into recharges(id, project_id, meter_id, meter_no, transaction_no, amount, status, needs_approval,
			workflow_id, created_by) values($1,$2,$3,'M0001',$7,$4,$5,false,'recharge/'||$7,$6)`, id, p.ProjectID, meterID, amount, status, operator, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	paid1, paid2, open := recharge("100.00", "completed"), recharge("20.50", "completed"), recharge("30.00", "dispatching")
	apply := func(key string, ids ...string) (Invoice, bool, error) {
		id := uuid.NewString()
		return Apply(ctx, db, Invoice{ID: id, ProjectID: p.ProjectID, TransactionNo: key, Title: "ACME", TaxID: "91440300MA5XXXXX1X",
			RechargeIDs: ids, WorkflowID: "invoice/" + id, CreatedBy: operator})
	}
	footprint := func() string {
		var n, l int
		_ = db.QueryRow(ctx, `select (select count(*) from invoices), (select count(*) from invoice_lines)`).Scan(&n, &l)
		return fmt.Sprintf("invoices=%d lines=%d", n, l)
	}

	first, created, err := apply("I1", paid1, paid2)
	if err != nil || !created || first.Amount.String() != "120.50" {
		t.Fatalf("apply: %+v %v %v", first, created, err)
	}
	before := footprint()
	if _, _, err := apply("I2", paid2); !errors.Is(err, invoicedom.ErrInvoiced) {
		t.Fatalf("second invoice of a held recharge: %v", err)
	}
	if _, _, err := apply("I3", open); !errors.Is(err, invoicedom.ErrNotPaid) {
		t.Fatalf("unpaid recharge: %v", err)
	}
	if _, _, err := apply("I4", uuid.NewString()); !errors.Is(err, ErrUnknownRecharges) {
		t.Fatalf("unknown recharge: %v", err)
	}
	if got := footprint(); got != before {
		t.Fatalf("refusals wrote: %s → %s", before, got)
	}
	if again, created, err := apply("I1", paid1, paid2); err != nil || created || again.ID != first.ID {
		t.Fatalf("replay: %v %v", created, err)
	}

	// A rejection releases the recharges for another application...
	if err := RejectInvoice(ctx, db, DecideInput{InvoiceID: first.ID, Reason: "wrong title"}); err != nil {
		t.Fatal(err)
	}
	second, _, err := apply("I5", paid2)
	if err != nil {
		t.Fatalf("after rejection: %v", err)
	}
	// ...an issue keeps them invoiced for good, with one number.
	no, err := IssueInvoice(ctx, db, DecideInput{InvoiceID: second.ID})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := IssueInvoice(ctx, db, DecideInput{InvoiceID: second.ID}); again != no {
		t.Fatalf("reissue gave %s, then %s", no, again)
	}
	got, err := Get(ctx, db, []string{p.ProjectID}, second.ID)
	if err != nil || got.Status != invoicedom.Issued || got.InvoiceNo == nil || *got.InvoiceNo != no || !got.Amount.Equal(money.MustParse("20.50")) {
		t.Fatalf("issued: %+v %v", got, err)
	}
	if _, _, err := apply("I6", paid2); !errors.Is(err, invoicedom.ErrInvoiced) {
		t.Fatalf("invoiced twice: %v", err)
	}
}
