package harness

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestContractCheck shows the check refuses what the document does not
// allow, on both sides of an exchange, and passes what it does.
func TestContractCheck(t *testing.T) {
	const base = "http://127.0.0.1:1"
	k, err := newContract(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	recharge := `{"meterNo":"M0001","amount":"10.00","transactionNo":"T-1"}`
	accepted := `{"id":"0a8faa9e-0736-41dd-8958-ec18eeb528c5","status":"pending_approval","workflowId":"recharge/x"}`
	problem := func(code string) string {
		return `{"type":"about:blank","title":"t","status":422,"code":"` + code + `"}`
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		contentType, answer      string
		wantErr                  string // "" when the exchange is as documented
	}{
		{"documented exchange", "POST", "/api/v1/recharges", recharge, 202, "application/json", accepted, ""},
		{"refused request refused", "POST", "/api/v1/recharges", `{"meterNo":"M0001","amount":10,"transactionNo":"T-1"}`,
			422, "application/problem+json", problem("invalid_amount"), ""},
		{"refused request accepted", "POST", "/api/v1/recharges", `{"meterNo":"M0001","amount":10,"transactionNo":"T-1"}`,
			202, "application/json", accepted, "request refused by the document but answered 202"},
		{"answer off its schema", "POST", "/api/v1/recharges", recharge, 202, "application/json", `{"status":"lost"}`, "answer"},
		{"undocumented problem code", "POST", "/api/v1/recharges", recharge,
			422, "application/problem+json", problem("made_up"), "answer"},
		{"undocumented path", "GET", "/api/v1/nowhere", "", 200, "application/json", `{}`, "no documented operation"},
		{"undocumented path not served", "GET", "/api/v1/nowhere", "", 404, "application/problem+json", problem("not_found"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			err = k.check(req, []byte(tt.body), tt.status, http.Header{"Content-Type": {tt.contentType}}, []byte(tt.answer))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("want no error, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("want an error with %q, got %v", tt.wantErr, err)
			}
		})
	}
}
