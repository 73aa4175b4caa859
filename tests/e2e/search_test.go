package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/voltflow/voltflow/internal/eventually"
)

// An operator filters recharges in the Web UI by project and status: the
// same query through the SDK and through the UI server's own HTTP API.
func TestRechargesFilterableInTemporalUI(t *testing.T) {
	cashier := stack.Login(t, "cashier", "cashier")
	r := create(t, cashier, "M0014", "12.00", txNo(t))
	waitStatus(t, cashier, r.ID, "completed", 30*time.Second)
	query := fmt.Sprintf(`VoltflowProject="demo" AND VoltflowKind="recharge" AND VoltflowStatus="completed" AND VoltflowSubject="M0014" AND WorkflowId=%q`, r.WorkflowID)

	eventually.True(t, 30*time.Second, "visibility lists the recharge", func() (bool, string) {
		resp, err := stack.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return false, err.Error()
		}
		return len(resp.Executions) == 1, fmt.Sprint(len(resp.Executions), " executions")
	})
	// A filter that must not match: the recharge is not pending.
	resp, err := stack.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf(`VoltflowStatus="pending_approval" AND WorkflowId=%q`, r.WorkflowID)})
	if err != nil || len(resp.Executions) != 0 {
		t.Fatalf("status filter: %v, %d executions", err, len(resp.GetExecutions()))
	}

	uiURL := stack.UIURL + "/api/v1/namespaces/default/workflows?query=" + url.QueryEscape(query)
	res, err := http.Get(uiURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var list struct {
		Executions []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
		} `json:"executions"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &list) != nil || len(list.Executions) != 1 || list.Executions[0].Execution.WorkflowID != r.WorkflowID {
		t.Fatalf("UI API %s: %d %s", uiURL, res.StatusCode, body)
	}
	if res, err := http.Get(stack.UIURL + "/"); err != nil || res.StatusCode != 200 {
		t.Fatalf("UI page: %v", err)
	}
}
