package salekinds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voltflow/voltflow/devices/simulator"
	"github.com/voltflow/voltflow/internal/eventually"
	ledgerstore "github.com/voltflow/voltflow/store/ledger"
	"github.com/voltflow/voltflow/tests/harness"
)

// view is a recharge or refund as the API shows it.
type view struct {
	ID           string `json:"id"`
	MeterNo      string `json:"meterNo"`
	Amount       string `json:"amount"`
	KWh          string `json:"kwh"`
	Price        string `json:"price"`
	Ratio        int    `json:"ratio"`
	Kind         string `json:"kind"`
	Reason       string `json:"reason"`
	Full         bool   `json:"full"`
	KeepPower    bool   `json:"keepPower"`
	Status       string `json:"status"`
	WorkflowID   string `json:"workflowId"`
	MeterCounter *int   `json:"meterCounter"`
	Failure      string `json:"failure"`
}

type problem struct {
	Detail, Code, Field string
	Status              int
}

func txNo(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("%.40s-%d", name, time.Now().UnixNano())
}

func post(t *testing.T, c *harness.Client, path, body string) (int, view, problem) {
	t.Helper()
	code, raw, _ := c.DoRaw(t, "POST", path, body)
	var v view
	var p problem
	if code/100 == 2 {
		_ = json.Unmarshal(raw, &v)
	} else {
		_ = json.Unmarshal(raw, &p)
	}
	return code, v, p
}

func wait(t *testing.T, c *harness.Client, prefix, id, want string) view {
	t.Helper()
	var v view
	eventually.True(t, 45*time.Second, prefix+id+" "+want, func() (bool, string) {
		v = view{}
		c.Do(t, "GET", prefix+id, nil, &v)
		return v.Status == want, v.Status + " " + v.Failure
	})
	return v
}

func approve(t *testing.T, approver *harness.Client, workflowID string) harness.Task {
	t.Helper()
	task := harness.PendingTask(t, approver, workflowID, "")
	if code, raw, _ := approver.DoRaw(t, "POST", "/api/v1/tasks/"+task.ID+"/approve", `{"comment":"checked"}`); code != http.StatusOK {
		t.Fatalf("approve %s: %d %s", workflowID, code, raw)
	}
	return task
}

// cents reads a ledger account's balance as a person reads it, in cents.
func cents(t *testing.T, account string) int64 {
	t.Helper()
	b, err := ledgerstore.Balance(context.Background(), stack.DB, stack.ProjectID, account)
	if err != nil {
		t.Fatal(err)
	}
	return b.Cents()
}

// meter is the demo meter's simulator (32 meters a gateway, M0001 first).
func meter(t *testing.T, meterNo string) *simulator.Meter {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(meterNo, "M%d", &n); err != nil {
		t.Fatal(err)
	}
	return stack.Fleet.Gateway((n - 1) / 32).Meter(uint8((n-1)%32 + 1))
}

// pdfText fetches a PDF and extracts its text with pdftotext (poppler-utils,
// installed by deploy/install-deps.sh).
func pdfText(t *testing.T, c *harness.Client, path string) string {
	t.Helper()
	code, raw, ctype := c.DoRaw(t, "GET", path, nil)
	if code != http.StatusOK || ctype != "application/pdf" || !strings.HasPrefix(string(raw), "%PDF-") {
		t.Fatalf("GET %s: %d %s %.200s", path, code, ctype, raw)
	}
	return extract(t, raw)
}

func extract(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext missing: run deploy/install-deps.sh (poppler-utils)")
	}
	p := filepath.Join(t.TempDir(), "paper.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func contains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func yuan(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func projectName(t *testing.T) string {
	t.Helper()
	var name string
	if err := stack.DB.QueryRow(context.Background(), `select name from projects where id=$1`, stack.ProjectID).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}
