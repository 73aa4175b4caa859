package credit

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

type billLine struct {
	Ref    string `json:"ref"`
	Amount string `json:"amount"`
}

type billView struct {
	ID               string     `json:"id"`
	CycleNo          int        `json:"cycleNo"`
	Opening          string     `json:"openingBalance"`
	Consumption      string     `json:"consumption"`
	Payments         string     `json:"payments"`
	Closing          string     `json:"closingBalance"`
	AmountDue        string     `json:"amountDue"`
	Paid             string     `json:"paid"`
	Status           string     `json:"status"`
	EmailedAt        *time.Time `json:"emailedAt"`
	RemindedAt       *time.Time `json:"remindedAt"`
	SuspendedAt      *time.Time `json:"suspendedAt"`
	ConsumptionLines []billLine `json:"consumptionLines"`
	PaymentLines     []billLine `json:"paymentLines"`
}

// waitBill waits for the bill of a cycle and reads it with its lines.
func waitBill(t *testing.T, c *harness.Client, enterpriseID string, cycle int, within time.Duration) billView {
	t.Helper()
	var found billView
	eventually.True(t, within, fmt.Sprintf("bill %d", cycle), func() (bool, string) {
		var list struct{ Items []billView }
		c.Do(t, "GET", "/api/v1/enterprises/"+enterpriseID+"/bills", nil, &list)
		for _, b := range list.Items {
			if b.CycleNo == cycle && b.EmailedAt != nil {
				found = b
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d bills", len(list.Items))
	})
	get(t, c, "/api/v1/bills/"+found.ID, &found)
	return found
}

// checkBalanced recomputes a bill from its lines to the cent.
func checkBalanced(t *testing.T, b billView, opening string) {
	t.Helper()
	sum := func(ls []billLine) money.Amount {
		s := money.Zero
		for _, l := range ls {
			s = s.Add(money.MustParse(l.Amount))
		}
		return s
	}
	cons, pays := sum(b.ConsumptionLines), sum(b.PaymentLines)
	closing := money.MustParse(b.Opening).Add(cons).Sub(pays)
	if b.Opening != opening || cons.String() != b.Consumption || pays.String() != b.Payments || closing.String() != b.Closing {
		t.Fatalf("bill %d does not balance: %+v (opening want %s, lines %s − %s)", b.CycleNo, b, opening, cons, pays)
	}
}

type repaid struct {
	ReceiptNo    string `json:"receiptNo"`
	Owed         string `json:"owed"`
	CreditStatus string `json:"creditStatus"`
	WrittenOff   []int  `json:"writtenOff"`
}

func TestBillingCyclesOnAnAcceleratedClock(t *testing.T) {
	stack.CheckLedger(t)
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	e := newEnterprise(t, cashier)
	const cycle = 8 * time.Second
	openCredit(t, cashier, approver, e.ID, map[string]string{"limit": "1000.00", "cycle": "8s", "dueAfter": "2s", "grace": "3s"})
	receivable := "credit-receivable:" + e.Code
	consume := func(key, amount string) (int, problem) {
		return post(t, cashier, "/api/v1/enterprises/"+e.ID+"/consumptions", map[string]string{"key": e.Code + "-" + key,
			"amount": amount, "description": "charging order " + key}, nil)
	}
	repay := func(amount string) repaid {
		var r repaid
		if st, p := post(t, cashier, "/api/v1/repayments", map[string]string{"enterpriseId": e.ID, "amount": amount,
			"transactionNo": uniq(t)}, &r); st != http.StatusCreated {
			t.Fatalf("repay %s: %d %+v", amount, st, p)
		}
		return r
	}

	// Cycle 1: two charges on credit.
	for key, amount := range map[string]string{"c1": "100.10", "c2": "200.25"} {
		if st, p := consume(key, amount); st != http.StatusCreated {
			t.Fatalf("consume %s: %d %+v", key, st, p)
		}
	}
	b1 := waitBill(t, cashier, e.ID, 1, cycle+20*time.Second)
	checkBalanced(t, b1, "0.00")
	if b1.Closing != "300.35" || b1.AmountDue != "300.35" || len(b1.ConsumptionLines) != 2 || b1.Closing != balance(t, receivable) {
		t.Fatalf("bill 1 %+v, receivable %s", b1, balance(t, receivable))
	}

	// Cycle 2: the repayment writes bill 1 off (核销); one more charge stays unpaid.
	r := repay("300.35")
	if len(r.WrittenOff) != 1 || r.WrittenOff[0] != 1 || r.Owed != "0.00" || !strings.HasPrefix(r.ReceiptNo, "RC-"+e.Code) {
		t.Fatalf("repayment %+v", r)
	}
	var after billView
	get(t, cashier, "/api/v1/bills/"+b1.ID, &after)
	if after.Status != "written_off" || after.Paid != "300.35" {
		t.Fatalf("bill 1 after repayment %+v", after)
	}
	if st, p := consume("c3", "50.05"); st != http.StatusCreated {
		t.Fatalf("consume c3: %d %+v", st, p)
	}
	// A worker crash mid-cycle: the new worker replays the cycle's timer and closes it.
	stack.KillWorker()
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	b2 := waitBill(t, cashier, e.ID, 2, cycle+30*time.Second)
	checkBalanced(t, b2, "300.35")
	if b2.Consumption != "50.05" || b2.Payments != "300.35" || b2.Closing != "50.05" || b2.AmountDue != "50.05" {
		t.Fatalf("bill 2 %+v", b2)
	}

	// Bill 2 unpaid: a reminder when due, credit suspended after the grace.
	eventually.True(t, 30*time.Second, "credit suspended", func() (bool, string) {
		c := enterprise(t, cashier, e.ID).Credit
		return c.Status == "suspended", c.Status
	})
	get(t, cashier, "/api/v1/bills/"+b2.ID, &b2)
	if b2.Status != "overdue" || b2.RemindedAt == nil || b2.SuspendedAt == nil {
		t.Fatalf("bill 2 after its grace %+v", b2)
	}
	before := entries(t)
	if st, p := consume("c4", "1.00"); st != http.StatusConflict || p.Code != "credit_suspended" || entries(t) != before {
		t.Fatalf("consumption on suspended credit: %d %+v", st, p)
	}

	// Cycle 3: nothing consumed; the bill carries the unpaid balance.
	b3 := waitBill(t, cashier, e.ID, 3, cycle+20*time.Second)
	checkBalanced(t, b3, "50.05")
	if b3.Closing != "50.05" || b3.Consumption != "0.00" || b3.Closing != balance(t, receivable) {
		t.Fatalf("bill 3 %+v", b3)
	}

	// Mail: every bill and the reminder went to the enterprise's address.
	var mails struct {
		Items []struct{ Ref, Recipient, Subject, Body, Status string }
	}
	get(t, cashier, "/api/v1/mail?limit=500", &mails)
	got := map[string]bool{}
	for _, m := range mails.Items {
		if m.Recipient == "billing@"+strings.ToLower(e.Code)+".example" && m.Status == "sent" {
			got[m.Ref] = true
		}
	}
	for _, ref := range []string{"bill/" + b1.ID, "bill/" + b2.ID, "bill/" + b3.ID, "bill-reminder/" + b2.ID} {
		if !got[ref] {
			t.Errorf("no mail %s among %v", ref, got)
		}
	}

	// Repaying the overdue bill writes it off and reinstates credit.
	r = repay("50.05")
	if len(r.WrittenOff) != 1 || r.WrittenOff[0] != 2 || r.CreditStatus != "active" || r.Owed != "0.00" {
		t.Fatalf("repayment of the overdue bill %+v", r)
	}
	if st, p := consume("c5", "1.00"); st != http.StatusCreated {
		t.Fatalf("consumption after reinstatement: %d %+v", st, p)
	}
	if st, p := post(t, cashier, "/api/v1/repayments", map[string]string{"enterpriseId": e.ID, "amount": "1.01",
		"transactionNo": uniq(t)}, nil); st != http.StatusUnprocessableEntity || p.Code != "repayment_exceeds_owed" {
		t.Fatalf("overpayment: %d %+v", st, p)
	}
	if balance(t, receivable) != "1.00" {
		t.Fatalf("receivable %s", balance(t, receivable))
	}
}
