// Package wallet drives card wallets (F2) end to end: recharges and refunds
// of a charging card's prepaid wallet through the HTTP API, their
// wallet-recharge/<id> and wallet-refund/<id> workflows with an approver in
// the task inbox, a charging session on a simulated OCPP charge point
// spending the money, and the ledger.
package wallet

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/devices/chargersim"
	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "wallet", harness.Options{Gateways: 1, MetersPerGW: 1, OCPP: true, UpdateTimeout: 30 * time.Second}, &stack)
}

type request struct {
	ID, Kind, CardNo, Method, TransactionNo, Amount, Status, WorkflowID, Failure string
	NeedsApproval                                                                bool
}

func balance(t *testing.T, c *harness.Client, cardNo string) string {
	var card struct{ Balance string }
	if code := c.Do(t, http.MethodGet, "/api/v1/cards/"+cardNo, nil, &card); code != http.StatusOK {
		t.Fatalf("GET card: %d", code)
	}
	return card.Balance
}

// apply posts a wallet request and answers its 202.
func apply(t *testing.T, c *harness.Client, cardNo, kind string, body map[string]any) request {
	t.Helper()
	var out request
	if code := c.Do(t, http.MethodPost, "/api/v1/cards/"+cardNo+"/wallet-"+kind+"s", body, &out); code != http.StatusAccepted {
		t.Fatalf("POST wallet-%ss %v: %d", kind, body, code)
	}
	return out
}

// waitStatus waits for a wallet request to reach status.
func waitStatus(t *testing.T, c *harness.Client, kind, id, status string) request {
	t.Helper()
	var got request
	eventually.True(t, 60*time.Second, "wallet "+kind+" "+id+" "+status, func() (bool, string) {
		c.Do(t, http.MethodGet, "/api/v1/wallet-"+kind+"s/"+id, nil, &got)
		return got.Status == status, got.Status + " " + got.Failure
	})
	return got
}

func decide(t *testing.T, c *harness.Client, workflowID, taskKind, verb string) {
	t.Helper()
	task := harness.PendingTask(t, c, workflowID, taskKind)
	if code := c.Do(t, http.MethodPost, "/api/v1/tasks/"+task.ID+"/"+verb, map[string]string{"comment": "checked"}, nil); code != http.StatusOK {
		t.Fatalf("%s %s: %d", verb, task.ID, code)
	}
}

// setAutoApproveUpTo changes the project's approval limit through the API.
func setAutoApproveUpTo(t *testing.T, c *harness.Client, limit string) {
	var settings map[string]any
	if code := c.Do(t, http.MethodGet, "/api/v1/projects/demo/settings", nil, &settings); code != http.StatusOK {
		t.Fatalf("GET settings: %d", code)
	}
	settings["autoApproveUpTo"] = limit
	if code := c.Do(t, http.MethodPut, "/api/v1/projects/demo/settings", settings, nil); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("PUT settings: %d", code)
	}
}

// TestRechargeChargeRefund: a new card with an empty wallet is recharged
// 100.00 by transfer through the approval chain (the project approves up to
// 50.00 by policy) and 20.00 in cash by policy; a session of 10 kWh at 平
// (1.20/kWh by the demo strategy: 12.00) is paid from it; a refund through
// its chain takes the remaining 108.00 back to zero. The statement lists
// every movement with its running balance; the ledger balances throughout.
func TestRechargeChargeRefund(t *testing.T) {
	stack.CheckLedger(t)
	ctx := context.Background()
	admin := stack.Login(t, "admin", "admin")
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	const card = "W0000001"
	if err := charger.IssueCard(ctx, stack.DB, charger.NewCard{ProjectID: stack.ProjectID, CardNo: card, Holder: "Wallet test",
		Opening: money.Zero}); err != nil {
		t.Fatal(err)
	}
	setAutoApproveUpTo(t, admin, "50.00")

	// Above the limit: an approver reviews it.
	big := map[string]any{"amount": "100.00", "method": "transfer", "transactionNo": "W-R-1"}
	rec := apply(t, cashier, card, "recharge", big)
	if rec.Status != "pending_approval" || !strings.HasPrefix(rec.WorkflowID, "wallet-recharge/") {
		t.Fatalf("recharge %+v", rec)
	}
	// Idempotent by transactionNo: the same body is the same answer, another is 409.
	if again := apply(t, cashier, card, "recharge", big); again.ID != rec.ID {
		t.Fatalf("replay %+v, first %+v", again, rec)
	}
	if code := cashier.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/wallet-recharges",
		map[string]any{"amount": "90.00", "method": "transfer", "transactionNo": "W-R-1"}, nil); code != http.StatusConflict {
		t.Fatalf("reused transactionNo: %d", code)
	}
	for _, bad := range []map[string]any{
		{"amount": "10.00", "method": "cheque", "transactionNo": "W-R-X"},
		{"amount": "0.00", "method": "cash", "transactionNo": "W-R-Y"},
		{"amount": 10, "method": "cash", "transactionNo": "W-R-Z"},
	} {
		if code := cashier.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/wallet-recharges", bad, nil); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
			t.Fatalf("bad recharge %v: %d", bad, code)
		}
	}
	if code := cashier.Do(t, http.MethodPost, "/api/v1/cards/NOPE0001/wallet-recharges", big, nil); code != http.StatusNotFound {
		t.Fatalf("unknown card: %d", code)
	}
	if got := balance(t, cashier, card); got != "0.00" {
		t.Fatalf("balance before approval %s", got)
	}
	decide(t, approver, rec.WorkflowID, "wallet_recharge_approval", "approve")
	waitStatus(t, cashier, "recharge", rec.ID, "completed")

	// Up to the limit: approved by policy, no task.
	small := apply(t, cashier, card, "recharge", map[string]any{"amount": "20.00", "method": "cash", "transactionNo": "W-R-2"})
	if small.Status != "approved" {
		t.Fatalf("small recharge %+v", small)
	}
	waitStatus(t, cashier, "recharge", small.ID, "completed")
	// A rejected recharge books nothing.
	no := apply(t, cashier, card, "recharge", map[string]any{"amount": "60.00", "method": "cash", "transactionNo": "W-R-3"})
	decide(t, approver, no.WorkflowID, "wallet_recharge_approval", "reject")
	waitStatus(t, cashier, "recharge", no.ID, "rejected")
	if got := balance(t, cashier, card); got != "120.00" {
		t.Fatalf("balance after recharges %s", got)
	}

	// The money funds a session: 10 kWh at 平, 12.00.
	cp, err := chargersim.Connect(ctx, chargersim.Config{URL: stack.OCPP.URL(), Password: charger.DemoPassword}, registry.DemoEquipmentIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	at := func(hhmm string) time.Time {
		ts, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-20 "+hhmm, cst)
		return ts
	}
	s, err := cp.StartSessionAt(1, card, at("09:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start: %v %v", s, err)
	}
	if err := s.ChargeAt(10000, 60000, at("09:10")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonLocal, at("09:10")); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 60*time.Second, "session paid from the wallet", func() (bool, string) {
		got := balance(t, cashier, card)
		return got == "108.00", got
	})

	// A refund always needs an approver; more than the wallet holds is refused.
	if code := cashier.Do(t, http.MethodPost, "/api/v1/cards/"+card+"/wallet-refunds",
		map[string]any{"amount": "108.01", "transactionNo": "W-F-0"}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("refund above the balance: %d", code)
	}
	ref := apply(t, cashier, card, "refund", map[string]any{"amount": "108.00", "transactionNo": "W-F-1"})
	if ref.Status != "pending_approval" || !strings.HasPrefix(ref.WorkflowID, "wallet-refund/") {
		t.Fatalf("refund %+v", ref)
	}
	decide(t, approver, ref.WorkflowID, "wallet_refund_approval", "approve")
	waitStatus(t, cashier, "refund", ref.ID, "completed")
	if got := balance(t, cashier, card); got != "0.00" {
		t.Fatalf("balance after the refund %s", got)
	}

	var st struct {
		Balance string
		Items   []struct{ Kind, Amount, Balance string }
	}
	if code := cashier.Do(t, http.MethodGet, "/api/v1/cards/"+card+"/wallet-statement", nil, &st); code != http.StatusOK {
		t.Fatalf("statement: %d", code)
	}
	var lines []string
	for _, m := range st.Items {
		lines = append(lines, m.Kind+" "+m.Amount+" "+m.Balance)
	}
	want := "card-wallet-recharge 100.00 100.00|card-wallet-recharge 20.00 120.00|charging -12.00 108.00|card-wallet-refund -108.00 0.00"
	if got := strings.Join(lines, "|"); got != want || st.Balance != "0.00" {
		t.Fatalf("statement %s (balance %s)\nwant %s", got, st.Balance, want)
	}
	code, body, ctype := cashier.DoRaw(t, http.MethodGet, "/api/v1/cards/"+card+"/wallet-statement?format=xlsx", nil)
	if code != http.StatusOK || !strings.Contains(ctype, "spreadsheetml") || len(body) < 100 {
		t.Fatalf("xlsx statement: %d %s %d bytes", code, ctype, len(body))
	}
}
