package api

import "testing"

// The worked examples of docs/open-api.zh.md, computed independently
// (Python's hmac), so the guide and the server sign alike.
func TestSignMatchesTheGuide(t *testing.T) {
	const key = "vfk_example0000000000000000000000000000000000"
	tests := []struct {
		name, method, path, nonce, body, want string
	}{
		{"recharge", "POST", "/api/v1/open/recharges", "3f9c2b7e5a1d4c08",
			`{"meterNo":"M0001","amount":"100.00","transactionNo":"ERP-20261207-0001"}`,
			"cb9244dc862c6ed3d9428837bdb271c29247052c38b5504542ebdd85e886a294"},
		{"get with query", "GET", "/api/v1/open/meters?remainingBelow=20.00&limit=50", "b71d0c2e9a4f5e63", "",
			"80a4dd410878d45271b76662f05868e6c1598fa59489774175148da99f684553"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign(key, tt.method, tt.path, "1765146000", tt.nonce, []byte(tt.body)); got != tt.want {
				t.Fatalf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}
