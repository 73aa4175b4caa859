package credit

import (
	"net/http"
	"testing"

	"github.com/voltflow/voltflow/tests/harness"
)

// applyRecharge applies for an enterprise recharge and returns it with its task.
func applyRecharge(t *testing.T, c *harness.Client, enterpriseID, amount string) (created, harness.Task) {
	t.Helper()
	var r created
	if st, p := post(t, c, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": enterpriseID, "amount": amount,
		"transactionNo": uniq(t)}, &r); st != http.StatusAccepted || r.Status != "pending_approval" {
		t.Fatalf("apply recharge: %d %+v %+v", st, p, r)
	}
	return r, harness.PendingTask(t, c, r.WorkflowID, "")
}

func TestEnterpriseRechargeChain(t *testing.T) {
	stack.CheckLedger(t)
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	e := newEnterprise(t, cashier)
	wallet := "enterprise-wallet:" + e.Code

	// Only a cashier applies.
	if st, p := post(t, approver, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": e.ID, "amount": "10.00",
		"transactionNo": uniq(t)}, nil); st != http.StatusForbidden || p.Code != "forbidden" {
		t.Fatalf("approver applying: %d %+v", st, p)
	}

	// Bad input and a reused key are refused and change nothing.
	key := uniq(t)
	var first, again created
	if st, p := post(t, cashier, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": e.ID, "amount": "1.001",
		"transactionNo": key}, nil); st != http.StatusUnprocessableEntity || p.Code != "invalid_amount" || p.Field != "amount" {
		t.Fatalf("three places: %d %+v", st, p)
	}
	post(t, cashier, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": e.ID, "amount": "5.00", "transactionNo": key}, &first)
	if st, _ := post(t, cashier, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": e.ID, "amount": "5.00",
		"transactionNo": key}, &again); st != http.StatusAccepted || again.ID != first.ID || first.ID == "" {
		t.Fatalf("replay: %d %+v %+v", st, first, again)
	}
	if st, p := post(t, cashier, "/api/v1/enterprise-recharges", map[string]string{"enterpriseId": e.ID, "amount": "6.00",
		"transactionNo": key}, nil); st != http.StatusConflict || p.Code != "idempotency_key_reused" {
		t.Fatalf("reused key: %d %+v", st, p)
	}
	if st, p := decide(t, approver, harness.PendingTask(t, cashier, first.WorkflowID, "").ID, "reject"); st != http.StatusOK {
		t.Fatalf("reject the replayed one: %d %+v", st, p)
	}

	t.Run("reject", func(t *testing.T) {
		cash := balance(t, "cash")
		r, tk := applyRecharge(t, cashier, e.ID, "800.00")
		if tk.Kind != "enterprise_recharge_approval" || tk.Details["amount"] != "800.00" || balance(t, wallet) != "0.00" {
			t.Fatalf("task %+v wallet %s", tk, balance(t, wallet))
		}
		wrongRoleRefused(t, cashier, tk)
		if st, p := decide(t, approver, tk.ID, "reject"); st != http.StatusOK {
			t.Fatalf("reject: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/enterprise-recharges/"+r.ID, "rejected")
		secondDecisionRefused(t, approver, tk, "rejected")
		if got := task(t, approver, tk.ID); got.Comment != "checked" {
			t.Fatalf("decision not recorded: %+v", got)
		}
		if balance(t, wallet) != "0.00" || balance(t, "cash") != cash {
			t.Fatalf("a rejected recharge booked: wallet %s cash %s → %s", balance(t, wallet), cash, balance(t, "cash"))
		}
	})

	t.Run("approve and book", func(t *testing.T) {
		cash := balance(t, "cash")
		r, tk := applyRecharge(t, cashier, e.ID, "1234.56")
		wrongRoleRefused(t, cashier, tk)
		if balance(t, wallet) != "0.00" {
			t.Fatal("booked before review")
		}
		if st, p := decide(t, approver, tk.ID, "approve"); st != http.StatusOK {
			t.Fatalf("approve: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/enterprise-recharges/"+r.ID, "completed")
		secondDecisionRefused(t, approver, tk, "approved")
		if balance(t, wallet) != "1234.56" || enterprise(t, cashier, e.ID).Wallet != "1234.56" {
			t.Fatalf("wallet %s / %s", balance(t, wallet), enterprise(t, cashier, e.ID).Wallet)
		}
		if got := balance(t, "cash"); got == cash {
			t.Fatalf("cash did not move: %s", got)
		}
	})
}

// applyCredit applies for opening or adjusting credit and returns it with its task.
func applyCredit(t *testing.T, c *harness.Client, body map[string]string) (created, harness.Task) {
	t.Helper()
	body["applicationNo"] = uniq(t)
	var a created
	if st, p := post(t, c, "/api/v1/credit-applications", body, &a); st != http.StatusAccepted || a.Status != "pending_approval" {
		t.Fatalf("apply credit %v: %d %+v", body, st, p)
	}
	return a, harness.PendingTask(t, c, a.WorkflowID, "")
}

// openCredit walks an opening through approval.
func openCredit(t *testing.T, cashier, approver *harness.Client, enterpriseID string, body map[string]string) {
	t.Helper()
	body["enterpriseId"], body["kind"] = enterpriseID, "open"
	a, tk := applyCredit(t, cashier, body)
	if st, p := decide(t, approver, tk.ID, "approve"); st != http.StatusOK {
		t.Fatalf("approve opening: %d %+v", st, p)
	}
	waitStatus(t, cashier, "/api/v1/credit-applications/"+a.ID, "completed")
}

func TestCreditOpeningChain(t *testing.T) {
	stack.CheckLedger(t)
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	e := newEnterprise(t, cashier)

	if st, p := post(t, approver, "/api/v1/credit-applications", map[string]string{"enterpriseId": e.ID, "kind": "open",
		"limit": "100.00", "applicationNo": uniq(t)}, nil); st != http.StatusForbidden {
		t.Fatalf("approver applying: %d %+v", st, p)
	}
	if st, p := post(t, cashier, "/api/v1/credit-applications", map[string]string{"enterpriseId": e.ID, "kind": "adjust",
		"limit": "100.00", "applicationNo": uniq(t)}, nil); st != http.StatusConflict || p.Code != "credit_not_open" {
		t.Fatalf("adjusting without an account: %d %+v", st, p)
	}

	t.Run("reject", func(t *testing.T) {
		before := entries(t)
		a, tk := applyCredit(t, cashier, map[string]string{"enterpriseId": e.ID, "kind": "open", "limit": "5000.00"})
		if tk.Kind != "credit_open_approval" || tk.Details["limit"] != "5000.00" {
			t.Fatalf("task %+v", tk)
		}
		wrongRoleRefused(t, cashier, tk)
		if st, p := decide(t, approver, tk.ID, "reject"); st != http.StatusOK {
			t.Fatalf("reject: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/credit-applications/"+a.ID, "rejected")
		secondDecisionRefused(t, approver, tk, "rejected")
		if got := enterprise(t, cashier, e.ID); got.Credit != nil || entries(t) != before {
			t.Fatalf("rejected opening left credit %+v, entries %d → %d", got.Credit, before, entries(t))
		}
		if st, p := post(t, cashier, "/api/v1/enterprises/"+e.ID+"/consumptions", map[string]string{"key": uniq(t), "amount": "1.00"}, nil); st != http.StatusConflict || p.Code != "credit_not_open" {
			t.Fatalf("consumption without credit: %d %+v", st, p)
		}
	})

	t.Run("approve", func(t *testing.T) {
		before := entries(t)
		a, tk := applyCredit(t, cashier, map[string]string{"enterpriseId": e.ID, "kind": "open", "limit": "5000.00"})
		wrongRoleRefused(t, cashier, tk)
		if enterprise(t, cashier, e.ID).Credit != nil {
			t.Fatal("credit open before review")
		}
		if st, p := decide(t, approver, tk.ID, "approve"); st != http.StatusOK {
			t.Fatalf("approve: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/credit-applications/"+a.ID, "completed")
		secondDecisionRefused(t, approver, tk, "approved")
		got := enterprise(t, cashier, e.ID)
		if got.Credit == nil || got.Credit.Limit != "5000.00" || got.Credit.Available != "5000.00" || got.Credit.Status != "active" {
			t.Fatalf("credit %+v", got.Credit)
		}
		if entries(t) != before {
			t.Fatal("opening a limit booked money")
		}
		if st, p := post(t, cashier, "/api/v1/credit-applications", map[string]string{"enterpriseId": e.ID, "kind": "open",
			"limit": "100.00", "applicationNo": uniq(t)}, nil); st != http.StatusConflict || p.Code != "credit_already_open" {
			t.Fatalf("second opening: %d %+v", st, p)
		}
	})
}

func TestCreditAdjustmentChain(t *testing.T) {
	stack.CheckLedger(t)
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	e := newEnterprise(t, cashier)
	openCredit(t, cashier, approver, e.ID, map[string]string{"limit": "1000.00"})
	consume := func(amount string) (int, problem) {
		return post(t, cashier, "/api/v1/enterprises/"+e.ID+"/consumptions", map[string]string{"key": uniq(t), "amount": amount,
			"description": "charging order"}, nil)
	}
	if st, p := consume("600.00"); st != http.StatusCreated {
		t.Fatalf("consume: %d %+v", st, p)
	}
	receivable := "credit-receivable:" + e.Code
	if balance(t, receivable) != "600.00" {
		t.Fatalf("receivable %s", balance(t, receivable))
	}
	before := entries(t)
	if st, p := consume("400.01"); st != http.StatusUnprocessableEntity || p.Code != "credit_limit_exceeded" || entries(t) != before {
		t.Fatalf("beyond the limit: %d %+v", st, p)
	}

	t.Run("reject", func(t *testing.T) {
		a, tk := applyCredit(t, cashier, map[string]string{"enterpriseId": e.ID, "kind": "adjust", "limit": "2000.00"})
		if tk.Kind != "credit_adjust_approval" || tk.Details["previousLimit"] != "1000.00" {
			t.Fatalf("task %+v", tk)
		}
		wrongRoleRefused(t, cashier, tk)
		if st, p := decide(t, approver, tk.ID, "reject"); st != http.StatusOK {
			t.Fatalf("reject: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/credit-applications/"+a.ID, "rejected")
		secondDecisionRefused(t, approver, tk, "rejected")
		if got := enterprise(t, cashier, e.ID).Credit; got.Limit != "1000.00" || got.Available != "400.00" {
			t.Fatalf("credit after rejected adjustment %+v", got)
		}
		if st, p := consume("400.01"); st != http.StatusUnprocessableEntity {
			t.Fatalf("beyond the unchanged limit: %d %+v", st, p)
		}
	})

	t.Run("approve", func(t *testing.T) {
		a, tk := applyCredit(t, cashier, map[string]string{"enterpriseId": e.ID, "kind": "adjust", "limit": "2000.00"})
		wrongRoleRefused(t, cashier, tk)
		if st, p := decide(t, approver, tk.ID, "approve"); st != http.StatusOK {
			t.Fatalf("approve: %d %+v", st, p)
		}
		waitStatus(t, cashier, "/api/v1/credit-applications/"+a.ID, "completed")
		secondDecisionRefused(t, approver, tk, "approved")
		if got := enterprise(t, cashier, e.ID).Credit; got.Limit != "2000.00" || got.Used != "600.00" || got.Available != "1400.00" {
			t.Fatalf("credit after adjustment %+v", got)
		}
		if st, p := consume("1400.00"); st != http.StatusCreated {
			t.Fatalf("up to the new limit: %d %+v", st, p)
		}
		if st, p := consume("0.01"); st != http.StatusUnprocessableEntity || p.Code != "credit_limit_exceeded" {
			t.Fatalf("one cent beyond the new limit: %d %+v", st, p)
		}
		if balance(t, receivable) != "2000.00" || balance(t, "credit-sales") == "0.00" {
			t.Fatalf("receivable %s", balance(t, receivable))
		}
	})
}
