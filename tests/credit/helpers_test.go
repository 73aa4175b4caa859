package credit

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

type created struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflowId"`
}

type enterpriseView struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Wallet string `json:"walletBalance"`
	Credit *struct {
		Limit, Used, Available, Status string
	} `json:"credit"`
}

func uniq(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-", "_", "-").Replace(t.Name())
	return fmt.Sprintf("%.30s-%d", name, time.Now().UnixNano()%1e9)
}

// post sends JSON; a 2xx answer is decoded into out, anything else into the problem.
func post(t *testing.T, c *harness.Client, path string, body any, out any) (int, problem) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, "POST", path, body)
	var p problem
	if code/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("POST %s: %v: %s", path, err, raw)
			}
		}
	} else {
		_ = json.Unmarshal(raw, &p)
	}
	return code, p
}

func get(t *testing.T, c *harness.Client, path string, out any) {
	t.Helper()
	if code := c.Do(t, "GET", path, nil, out); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
}

func newEnterprise(t *testing.T, c *harness.Client) enterpriseView {
	t.Helper()
	code := strings.ToUpper(uniq(t))
	code = code[len(code)-20:]
	var e enterpriseView
	if st, p := post(t, c, "/api/v1/enterprises", map[string]string{"code": code, "name": "Enterprise " + code,
		"email": "billing@" + strings.ToLower(code) + ".example"}, &e); st != http.StatusCreated {
		t.Fatalf("create enterprise: %d %+v", st, p)
	}
	return e
}

func enterprise(t *testing.T, c *harness.Client, id string) enterpriseView {
	t.Helper()
	var e enterpriseView
	get(t, c, "/api/v1/enterprises/"+id, &e)
	return e
}

func task(t *testing.T, c *harness.Client, id string) harness.Task {
	t.Helper()
	var v harness.Task
	get(t, c, "/api/v1/tasks/"+id, &v)
	return v
}

func decide(t *testing.T, c *harness.Client, taskID, verb string) (int, problem) {
	t.Helper()
	return post(t, c, "/api/v1/tasks/"+taskID+"/"+verb, map[string]string{"comment": "checked"}, nil)
}

func waitStatus(t *testing.T, c *harness.Client, path, want string) map[string]any {
	t.Helper()
	var v map[string]any
	eventually.True(t, 20*time.Second, path+" "+want, func() (bool, string) {
		v = map[string]any{}
		c.Do(t, "GET", path, nil, &v)
		return v["status"] == want, fmt.Sprint(v["status"], " ", v["failure"])
	})
	return v
}

func balance(t *testing.T, code string) string {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, code)
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func entries(t *testing.T) int {
	t.Helper()
	var n int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from journal_entries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedDecisions checks that a cashier's decision is 403 and changes nothing.
func wrongRoleRefused(t *testing.T, cashier *harness.Client, tk harness.Task) {
	t.Helper()
	before := entries(t)
	if st, p := decide(t, cashier, tk.ID, "approve"); st != http.StatusForbidden || p.Code != "forbidden" {
		t.Fatalf("cashier approving: %d %+v", st, p)
	}
	if got := task(t, cashier, tk.ID); got.Status != "pending" || entries(t) != before {
		t.Fatalf("after a refused decision: task %s, entries %d → %d", got.Status, before, entries(t))
	}
}

// secondDecisionRefused checks that deciding a decided task is 409 and changes nothing.
func secondDecisionRefused(t *testing.T, approver *harness.Client, tk harness.Task, status string) {
	t.Helper()
	before := entries(t)
	for _, verb := range []string{"approve", "reject"} {
		if st, p := decide(t, approver, tk.ID, verb); st != http.StatusConflict || p.Code != "task_already_decided" {
			t.Fatalf("second decision (%s): %d %+v", verb, st, p)
		}
	}
	if got := task(t, approver, tk.ID); got.Status != status || entries(t) != before {
		t.Fatalf("after a second decision: task %s (want %s), entries %d → %d", got.Status, status, before, entries(t))
	}
}
