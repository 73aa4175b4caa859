package charging

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

// postOK posts JSON and fails unless the answer is want.
func postOK(t *testing.T, c *harness.Client, path string, body any, want int, out any) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, http.MethodPost, path, body)
	if code != want {
		t.Fatalf("POST %s: %d %s", path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
}

// TestEnterpriseCardOnCredit charges an enterprise card on a credit line of
// 20.00 at 平 (1.20/kWh = 0.70 energy + 0.50 service): a 6.00 session is
// booked on credit; a second one is stopped when its cost reaches the 14.00
// left (RemoteStop) and settles 18.00, past the limit; with nothing left an
// Authorize, a StartTransaction and an app start are refused; both orders
// are on the enterprise's next bill.
func TestEnterpriseCardOnCredit(t *testing.T) {
	stack.CheckLedger(t)
	admin := stack.Login(t, "admin", "admin")
	cashier, approver := stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver")
	const card = "E0000050"
	code := fmt.Sprintf("ENT%d", time.Now().UnixNano()%1e9)
	var e struct{ ID, Code string }
	postOK(t, cashier, "/api/v1/enterprises", map[string]string{"code": code, "name": "Fleet " + code,
		"email": "billing@" + strings.ToLower(code) + ".example"}, http.StatusCreated, &e)
	postOK(t, cashier, "/api/v1/enterprises/"+e.ID+"/staff", map[string]any{"name": "Driver Wang", "cards": []string{card}},
		http.StatusCreated, nil)
	var a struct{ ID, WorkflowID string }
	postOK(t, cashier, "/api/v1/credit-applications", map[string]string{"enterpriseId": e.ID, "kind": "open", "limit": "20.00",
		"cycle": "15s", "dueAfter": "10s", "grace": "10m", "applicationNo": "APP-" + code}, http.StatusAccepted, &a)
	tk := harness.PendingTask(t, cashier, a.WorkflowID, "")
	postOK(t, approver, "/api/v1/tasks/"+tk.ID+"/approve", map[string]string{"comment": "ok"}, http.StatusOK, nil)
	eventually.True(t, 30*time.Second, "credit open", func() (bool, string) {
		var v struct{ Status string }
		admin.Do(t, http.MethodGet, "/api/v1/credit-applications/"+a.ID, nil, &v)
		return v.Status == "completed", v.Status
	})

	cp := chargePoint(t)
	// Session 1: 5 kWh at 平 = 3.50 + 2.50 = 6.00 on credit.
	s, err := cp.StartSessionAt(6, card, at("09:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start: %v %v", s, err)
	}
	waitOrder(t, admin, card, "charging")
	if err := s.ChargeAt(5000, 60000, at("09:05")); err != nil {
		t.Fatal(err)
	}
	if err := s.StopAt(core.ReasonLocal, at("09:05")); err != nil {
		t.Fatal(err)
	}
	o1 := waitOrder(t, admin, card, "completed")
	var full struct {
		PaidBy       string
		EnterpriseID *string
		Amount       string
	}
	admin.Do(t, http.MethodGet, "/api/v1/charging-orders/"+o1.ID, nil, &full)
	if o1.Amount != "6.00" || full.PaidBy != "credit" || full.EnterpriseID == nil || *full.EnterpriseID != e.ID || len(o1.Abnormal) != 0 {
		t.Fatalf("order 1 %+v %+v", o1, full)
	}
	receivable := func() string {
		b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, "credit-receivable:"+code)
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got := receivable(); got != "6.00" {
		t.Fatalf("receivable after order 1: %s", got)
	}

	// Session 2: 14.00 left. At 10 kWh the cost is 12.00, at 15 kWh 18.00 ≥ 14.00: RemoteStop.
	s, err = cp.StartSessionAt(7, card, at("09:10"))
	if err != nil || s.Authorization != types.AuthorizationStatusAccepted {
		t.Fatalf("start 2: %v %v", s, err)
	}
	eventually.True(t, 60*time.Second, "order 2 charging", func() (bool, string) {
		o, _ := orderOf(t, admin, card)
		return o.ID != o1.ID && o.Status == "charging", o.Status
	})
	if err := s.ChargeAt(10000, 60000, at("09:20")); err != nil {
		t.Fatal(err)
	}
	if err := s.ChargeAt(5000, 60000, at("09:25")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cp.WaitCommand(ctx, core.RemoteStopTransactionFeatureName); err != nil {
		t.Fatalf("no RemoteStop: %v", err)
	}
	o2 := waitOrder(t, admin, card, "completed")
	if o2.ID == o1.ID || o2.Amount != "18.00" || o2.StopReason == nil || *o2.StopReason != "balance_exhausted" ||
		!slices.Contains(o2.Abnormal, "overdrawn") {
		t.Fatalf("order 2 %+v", o2)
	}
	if got := receivable(); got != "24.00" {
		t.Fatalf("receivable after order 2: %s", got)
	}

	// Exhausted: refused at Authorize, at StartTransaction and from the app.
	if st, err := cp.Authorize(card); err != nil || st != types.AuthorizationStatusBlocked {
		t.Fatalf("authorize exhausted: %v %v", st, err)
	}
	s, err = cp.StartSessionAt(8, card, at("10:00"))
	if err != nil || s.Authorization != types.AuthorizationStatusBlocked {
		t.Fatalf("start exhausted: %v %v", s, err)
	}
	o3 := waitOrder(t, admin, card, "failed")
	if o3.FailureReason == nil || *o3.FailureReason != "enterprise_funds_exhausted" {
		t.Fatalf("order 3 %+v", o3)
	}
	code2, raw, _ := admin.DoRaw(t, http.MethodPost, "/api/v1/charging-orders", map[string]string{"cardNo": card,
		"connectorId": registry.DemoEquipmentIDs[0] + "009"})
	if code2 != http.StatusConflict {
		t.Fatalf("app start exhausted: %d %s", code2, raw)
	}
	if got := receivable(); got != "24.00" {
		t.Fatalf("receivable after refusals: %s", got)
	}

	// Both orders are on the enterprise's bills, by their keys, to the cent.
	want := map[string]string{"charging/" + o1.ID: "6.00", "charging/" + o2.ID: "18.00"}
	eventually.True(t, 90*time.Second, "orders billed", func() (bool, string) {
		var list struct{ Items []struct{ ID string } }
		admin.Do(t, http.MethodGet, "/api/v1/enterprises/"+e.ID+"/bills", nil, &list)
		got := map[string]string{}
		for _, b := range list.Items {
			var bill struct {
				ConsumptionLines []struct{ Ref, Amount string }
			}
			admin.Do(t, http.MethodGet, "/api/v1/bills/"+b.ID, nil, &bill)
			for _, l := range bill.ConsumptionLines {
				got[l.Ref] = l.Amount
			}
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
	})
}
