package voucher

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

type problem struct {
	Type, Title, Detail, Code, Field string
	Status                           int
}

// actors are the three demo operators.
type actors struct{ cashier, approver, admin *harness.Client }

func login(t *testing.T) actors {
	t.Helper()
	return actors{stack.Login(t, "cashier", "cashier"), stack.Login(t, "approver", "approver"), stack.Login(t, "admin", "admin")}
}

func key(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("%.40s-%d", name, time.Now().UnixNano())
}

// call sends body and decodes a 2xx answer into out, anything else into a problem.
func call(t *testing.T, c *harness.Client, method, path string, body any, out any) (int, problem) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, method, path, body)
	var p problem
	if code/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, raw)
			}
		}
	} else {
		_ = json.Unmarshal(raw, &p)
	}
	return code, p
}

func mustCall(t *testing.T, c *harness.Client, method, path string, body any, want int, out any) {
	t.Helper()
	if code, p := call(t, c, method, path, body, out); code != want {
		t.Fatalf("%s %s: %d %+v, want %d", method, path, code, p, want)
	}
}

// refused checks a refusal's status and code.
func refused(t *testing.T, what string, code int, p problem, wantCode int, wantProblem string) {
	t.Helper()
	if code != wantCode || p.Code != wantProblem {
		t.Fatalf("%s: %d %+v, want %d %s", what, code, p, wantCode, wantProblem)
	}
}

func taskStatus(t *testing.T, c *harness.Client, id string) harness.Task {
	t.Helper()
	var tk harness.Task
	mustCall(t, c, "GET", "/api/v1/tasks/"+id, nil, http.StatusOK, &tk)
	return tk
}

// decideChecked runs the refusals every decision must survive — the cashier
// deciding (403), nothing changed — then decides as the approver, checks the
// inbox, and checks a second decision is refused (409) with nothing changed.
func decideChecked(t *testing.T, a actors, tk harness.Task, approve bool) {
	t.Helper()
	verb, want := "reject", "rejected"
	if approve {
		verb, want = "approve", "approved"
	}
	before := footprint(t)
	code, p := call(t, a.cashier, "POST", "/api/v1/tasks/"+tk.ID+"/"+verb, map[string]string{"comment": "not mine"}, nil)
	refused(t, "cashier decides", code, p, http.StatusForbidden, "forbidden")
	if got := taskStatus(t, a.approver, tk.ID); got.Status != "pending" || footprint(t) != before {
		t.Fatalf("a refused decision changed something: task %s, %s → %s", got.Status, before, footprint(t))
	}
	var decided harness.Task
	mustCall(t, a.approver, "POST", "/api/v1/tasks/"+tk.ID+"/"+verb, map[string]string{"comment": "checked"}, http.StatusOK, &decided)
	if decided.Status != want || decided.DecidedBy == nil {
		t.Fatalf("decided task %+v", decided)
	}
	if got := taskStatus(t, a.approver, tk.ID); got.Status != want {
		t.Fatalf("inbox shows %s, want %s", got.Status, want)
	}
	for _, v := range []string{"approve", "reject"} {
		code, p := call(t, a.admin, "POST", "/api/v1/tasks/"+tk.ID+"/"+v, map[string]string{"comment": "again"}, nil)
		refused(t, "second decision", code, p, http.StatusConflict, "task_already_decided")
	}
	if got := taskStatus(t, a.approver, tk.ID); got.Status != want {
		t.Fatalf("second decision changed the task to %s", got.Status)
	}
}

// footprint counts rows a refused request could have written.
func footprint(t *testing.T) string {
	t.Helper()
	var out string
	if err := stack.DB.QueryRow(context.Background(), `select format('entries=%s tasks=%s decided=%s vouchers=%s voids=%s invoices=%s closings=%s refunds=%s',
		(select count(*) from journal_entries), (select count(*) from tasks), (select count(*) from tasks where status <> 'pending'),
		(select count(*) from vouchers), (select count(*) from voucher_voids), (select count(*) from invoices),
		(select count(*) from account_closings), (select count(*) from refunds))`).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// books reads the balances of the named accounts.
func books(t *testing.T, codes ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range codes {
		b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, c)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = b.String()
	}
	return out
}

// moved checks the accounts moved by exactly delta since before.
func moved(t *testing.T, step string, before map[string]string, delta map[string]string) map[string]string {
	t.Helper()
	codes := make([]string, 0, len(before))
	for c := range before {
		codes = append(codes, c)
	}
	now := books(t, codes...)
	for _, c := range codes {
		want := before[c]
		if d, ok := delta[c]; ok {
			want = add(t, before[c], d)
		}
		if now[c] != want {
			t.Errorf("%s: %s = %s, want %s (before %s)", step, c, now[c], want, before[c])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return now
}

func add(t *testing.T, a, b string) string {
	t.Helper()
	var x, y float64
	if _, err := fmt.Sscanf(a, "%f", &x); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(b, "%f", &y); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%.2f", x+y)
}

type applied struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflowId"`
}

// statusOf waits until GET path shows status want.
func statusOf(t *testing.T, c *harness.Client, path, want string) map[string]any {
	t.Helper()
	var v map[string]any
	eventually.True(t, 20*time.Second, path+" "+want, func() (bool, string) {
		v = map[string]any{}
		c.Do(t, "GET", path, nil, &v)
		return v["status"] == want, fmt.Sprint(v["status"], " ", v["failure"], v["reason"])
	})
	return v
}

// recharged sells amount to a meter and waits until the meter took it.
func recharged(t *testing.T, c *harness.Client, meterNo, amount string) string {
	t.Helper()
	var r applied
	mustCall(t, c, "POST", "/api/v1/recharges", map[string]string{"meterNo": meterNo, "amount": amount, "transactionNo": key(t)}, http.StatusAccepted, &r)
	statusOf(t, c, "/api/v1/recharges/"+r.ID, "completed")
	return r.ID
}

func customers(t *testing.T, n int) []string {
	t.Helper()
	rows, err := stack.DB.Query(context.Background(), `select id::text from customers where project_id=$1 order by name limit $2`, stack.ProjectID, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		out = append(out, id)
	}
	return out
}
