package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/store/demo"
	"github.com/voltflow/voltflow/tests/harness"
)

type recharge struct {
	ID           string `json:"id"`
	MeterNo      string `json:"meterNo"`
	Amount       string `json:"amount"`
	Status       string `json:"status"`
	WorkflowID   string `json:"workflowId"`
	MeterCounter *int   `json:"meterCounter"`
	Failure      string `json:"failure"`
}

type problem struct {
	Type, Title, Detail, Code string
	Status                    int
}

// meterRegisters reads what the meter itself holds (harness.Stack.MeterRegisters).
func meterRegisters(t *testing.T, meterNo string) (cents int64, counter uint16) {
	t.Helper()
	return stack.MeterRegisters(t, meterNo)
}

func create(t *testing.T, c *harness.Client, meterNo, amount, txNo string) recharge {
	t.Helper()
	var r recharge
	body := fmt.Sprintf(`{"meterNo":%q,"amount":%q,"transactionNo":%q}`, meterNo, amount, txNo)
	if code := c.Do(t, "POST", "/api/v1/recharges", body, &r); code != http.StatusAccepted {
		t.Fatalf("create recharge %s %s: status %d", meterNo, amount, code)
	}
	return r
}

func waitStatus(t *testing.T, c *harness.Client, id, want string, within time.Duration) recharge {
	t.Helper()
	var r recharge
	eventually.True(t, within, "recharge "+id+" "+want, func() (bool, string) {
		r = recharge{}
		c.Do(t, "GET", "/api/v1/recharges/"+id, nil, &r)
		return r.Status == want, r.Status + " " + r.Failure
	})
	return r
}

func txNo(t *testing.T) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + fmt.Sprint(time.Now().UnixNano())
}

func TestRechargeCompletesAndCreditsMeterOnce(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	before, counter := meterRegisters(t, "M0005")
	r := create(t, cashier, "M0005", "100.00", txNo(t))
	if r.Status != "approved" || r.WorkflowID != "recharge/"+r.ID {
		t.Fatalf("created %+v; want approved and workflow recharge/<id>", r)
	}
	done := waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
	after, counterAfter := meterRegisters(t, "M0005")
	if after-before != 10000 || counterAfter != counter+1 {
		t.Fatalf("meter: remaining %d→%d, counter %d→%d; want +10000 cents and +1", before, after, counter, counterAfter)
	}
	if done.MeterCounter == nil || *done.MeterCounter != int(counterAfter) {
		t.Fatalf("recharge counter %v, meter %d", done.MeterCounter, counterAfter)
	}
	var m struct {
		Remaining     string `json:"remaining"`
		PurchaseCount int    `json:"purchaseCount"`
		Relay         string `json:"relay"`
		LastReadAt    string `json:"lastReadAt"`
	}
	cashier.Do(t, "GET", "/api/v1/meters/M0005", nil, &m)
	if m.Remaining != fmt.Sprintf("%d.%02d", after/100, after%100) || m.PurchaseCount != int(counterAfter) || m.LastReadAt == "" {
		t.Fatalf("GET meter = %+v; meter shows %d cents, counter %d", m, after, counterAfter)
	}
}

func TestRechargeAboveLimitWaitsForApprover(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	before, _ := meterRegisters(t, "M0006")
	r := create(t, cashier, "M0006", "600.00", txNo(t))
	if r.Status != "pending_approval" {
		t.Fatalf("status %s, want pending_approval", r.Status)
	}
	task := harness.PendingTask(t, approver, r.WorkflowID, "")
	if task.Kind != "recharge_approval" || task.Status != "pending" {
		t.Fatalf("task %+v", task)
	}
	// The cashier sees the task but may not decide it; nothing changes.
	var p problem
	if code := cashier.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{"comment":"me"}`, &p); code != http.StatusForbidden || p.Code != "forbidden" {
		t.Fatalf("cashier approve: %d %+v", code, p)
	}
	var decided harness.Task
	if code := approver.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{"comment":"checked the receipt"}`, &decided); code != http.StatusOK {
		t.Fatalf("approve: status %d", code)
	}
	if decided.Status != "approved" || decided.DecidedByName != "approver" || decided.Comment != "checked the receipt" || decided.DecidedAt == "" {
		t.Fatalf("decided task %+v", decided)
	}
	if code := approver.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{}`, &p); code != http.StatusConflict || p.Code != "task_already_decided" {
		t.Fatalf("second approve: %d %+v", code, p)
	}
	waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
	if after, _ := meterRegisters(t, "M0006"); after-before != 60000 {
		t.Fatalf("meter credited %d cents, want 60000", after-before)
	}
	var audits int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from audit_log where subject=$1 and action='task.approve'`, task.ID).Scan(&audits); err != nil || audits != 3 {
		t.Fatalf("audit records for the task: %d, %v; want 3 (refused, approved, refused)", audits, err)
	}
}

func TestRejectedRechargeBooksNothing(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	before, counter := meterRegisters(t, "M0007")
	r := create(t, cashier, "M0007", "700.00", txNo(t))
	task := harness.PendingTask(t, approver, r.WorkflowID, "")
	if code := approver.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/reject", `{"comment":"no payment"}`, nil); code != http.StatusOK {
		t.Fatalf("reject: %d", code)
	}
	waitStatus(t, cashier, r.ID, "rejected", 30*time.Second)
	var entries int
	_ = stack.DB.QueryRow(context.Background(), `select count(*) from journal_entries where key like $1`, "recharge/"+r.ID+"/%").Scan(&entries)
	if entries != 0 {
		t.Fatalf("%d journal entries for a rejected recharge", entries)
	}
	if after, c := meterRegisters(t, "M0007"); after != before || c != counter {
		t.Fatal("rejected recharge reached the meter")
	}
}

func TestTransactionNoIsIdempotent(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	key := txNo(t)
	before, counter := meterRegisters(t, "M0008")
	first := create(t, cashier, "M0008", "50.00", key)
	again := create(t, cashier, "M0008", "50.00", key)
	if again.ID != first.ID {
		t.Fatalf("same key gave %s and %s", first.ID, again.ID)
	}
	waitStatus(t, cashier, first.ID, "completed", 30*time.Second)
	if third := create(t, cashier, "M0008", "50", key); third.ID != first.ID {
		t.Fatal("same key after completion made a new recharge")
	}
	var p problem
	code := cashier.Do(t, "POST", "/api/v1/recharges", fmt.Sprintf(`{"meterNo":"M0008","amount":"51.00","transactionNo":%q}`, key), &p)
	if code != http.StatusConflict || p.Code != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %+v", code, p)
	}
	// Wait for the recharge's workflow to end rather than for a while: once
	// it has, nothing more of this key can reach the meter.
	if err := stack.Temporal.GetWorkflow(context.Background(), first.WorkflowID, "").Get(context.Background(), nil); err != nil {
		t.Fatalf("workflow %s: %v", first.WorkflowID, err)
	}
	var n int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from recharges where transaction_no=$1`, key).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d recharges under one key (%v)", n, err)
	}
	if after, c := meterRegisters(t, "M0008"); after-before != 5000 || c != counter+1 {
		t.Fatalf("meter credited %d cents in %d recharges; want 5000 in 1", after-before, c-counter)
	}
}

func TestBadAmountsAreRefusedAndChangeNothing(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	count := func() (n int) {
		_ = stack.DB.QueryRow(context.Background(), `select count(*) from recharges`).Scan(&n)
		return n
	}
	before := count()
	for _, amount := range []string{`"-5"`, `"abc"`, `"1.234"`, `"0"`, `-5`, `0`, `1.234`, `null`, `""`, `"1e3"`} {
		t.Run(amount, func(t *testing.T) {
			code, raw, ctype := cashier.DoRaw(t, "POST", "/api/v1/recharges",
				fmt.Sprintf(`{"meterNo":"M0012","amount":%s,"transactionNo":"bad-%d"}`, amount, time.Now().UnixNano()))
			var p problem
			_ = json.Unmarshal(raw, &p)
			if code != http.StatusUnprocessableEntity || ctype != "application/problem+json" || p.Code != "invalid_amount" || p.Status != 422 || p.Type == "" || p.Title == "" {
				t.Fatalf("amount %s: %d %s %s", amount, code, ctype, raw)
			}
		})
	}
	if code, _, ctype := cashier.DoRaw(t, "POST", "/api/v1/recharges", `{"meterNo":`); code != 400 || ctype != "application/problem+json" {
		t.Fatalf("malformed JSON: %d %s", code, ctype)
	}
	if n := count(); n != before {
		t.Fatalf("%d recharges written by refused requests", n-before)
	}
}

func TestOtherProjectSeesNothing(t *testing.T) {
	stack.CheckLedger(t)
	o := demo.Defaults()
	o.Project, o.Organisation, o.MeterPrefix, o.MetersPerGW, o.BcryptCost = "other", "other-group", "X", 2, 4
	o.GatewayPorts = []int{1}
	o.Operators = []demo.Operator{{Username: "other-cashier", Password: "pw", Roles: []string{"cashier", "approver", "viewer"}}}
	if _, err := demo.Load(context.Background(), stack.DB, o); err != nil {
		t.Fatal(err)
	}
	cashier := stack.Login(t, "cashier", "cashier")
	mine := create(t, cashier, "M0013", "10.00", txNo(t))
	other := stack.Login(t, "other-cashier", "pw")
	var p problem
	for _, path := range []string{"/api/v1/meters/M0013", "/api/v1/recharges/" + mine.ID} {
		if code := other.Do(t, "GET", path, nil, &p); code != http.StatusNotFound || p.Code != "not_found" {
			t.Fatalf("GET %s as other project: %d", path, code)
		}
	}
	if code := other.Do(t, "POST", "/api/v1/recharges", `{"meterNo":"M0013","amount":"10.00","transactionNo":"x1"}`, &p); code != http.StatusNotFound {
		t.Fatalf("recharge another project's meter: %d", code)
	}
	var list struct{ Items []recharge }
	other.Do(t, "GET", "/api/v1/recharges", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("other project lists %d recharges", len(list.Items))
	}
	if code := other.Do(t, "GET", "/api/v1/meters/X0001", nil, nil); code != http.StatusOK {
		t.Fatalf("own meter: %d", code)
	}
	waitStatus(t, cashier, mine.ID, "completed", 30*time.Second)
}

func TestWorkerKilledBetweenBookingAndDispatch(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	before, counter := meterRegisters(t, "M0009")
	// Only the business queue is served: the sale is booked, the dispatch waits.
	stack.StopWorker()
	if err := stack.StartWorker("main"); err != nil {
		t.Fatal(err)
	}
	r := create(t, cashier, "M0009", "30.00", txNo(t))
	waitStatus(t, cashier, r.ID, "dispatching", 30*time.Second)
	var booked int
	_ = stack.DB.QueryRow(context.Background(), `select count(*) from journal_entries where key=$1`, "recharge/"+r.ID+"/sale").Scan(&booked)
	if booked != 1 {
		t.Fatalf("sale booked %d times before the kill", booked)
	}
	stack.KillWorker() // SIGKILL
	if after, _ := meterRegisters(t, "M0009"); after != before {
		t.Fatal("meter credited before dispatch")
	}
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
	if after, c := meterRegisters(t, "M0009"); after-before != 3000 || c != counter+1 {
		t.Fatalf("meter credited %d cents, counter +%d; want 3000 once", after-before, c-counter)
	}
}

func TestMeterDownThenRedispatchCreditsOnce(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	gw := stack.Fleet.Gateway(3) // M0097–M0128
	before, counter := meterRegisters(t, "M0100")
	if err := gw.Stop(); err != nil {
		t.Fatal(err)
	}
	r := create(t, cashier, "M0100", "40.00", txNo(t))
	failed := waitStatus(t, cashier, r.ID, "dispatch_failed", dispatchWindow+30*time.Second)
	if failed.Failure == "" {
		t.Fatal("dispatch_failed without a reason")
	}
	// Re-dispatch while the meter is still down fails again, harmlessly.
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var accepted recharge
	if code := cashier.Do(t, "POST", "/api/v1/recharges/"+r.ID+"/redispatch", nil, &accepted); code != http.StatusAccepted {
		t.Fatalf("redispatch: %d", code)
	}
	waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
	var p problem
	if code := cashier.Do(t, "POST", "/api/v1/recharges/"+r.ID+"/redispatch", nil, &p); code != http.StatusConflict || p.Code != "not_redispatchable" {
		t.Fatalf("redispatch of a completed recharge: %d %+v", code, p)
	}
	if after, c := meterRegisters(t, "M0100"); after-before != 4000 || c != counter+1 {
		t.Fatalf("meter credited %d cents, counter +%d; want 4000 once", after-before, c-counter)
	}
}

func TestDecisionWithoutWorkerIs503(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	approver := stack.Login(t, "approver", "approver")
	r := create(t, cashier, "M0011", "800.00", txNo(t))
	task := harness.PendingTask(t, approver, r.WorkflowID, "")
	stack.StopWorker()
	var p problem
	code := approver.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{}`, &p)
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || p.Code != "worker_unavailable" {
		t.Fatalf("approve without worker: %d %+v", code, p)
	}
	// The decision that timed out must not land later, when the worker is back.
	time.Sleep(2 * time.Second)
	var still harness.Task
	approver.Do(t, "GET", "/api/v1/tasks/"+task.ID, nil, &still)
	if still.Status != "pending" {
		t.Fatalf("task is %s after a 503", still.Status)
	}
	eventually.True(t, 30*time.Second, "approve after the worker is back", func() (bool, string) {
		code := approver.Do(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{}`, nil)
		return code == http.StatusOK, fmt.Sprint(code)
	})
	// Generous: the restarted worker first replays the workflow.
	waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
}
