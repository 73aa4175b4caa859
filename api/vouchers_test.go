package api_test

import (
	"net/http"
	"testing"
)

// /vouchers is paged like every list: limit 1..500, a checked cursor.
func TestVoucherListPaging(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	for _, c := range []struct {
		query  string
		status int
	}{
		{"", http.StatusOK},
		{"?limit=1", http.StatusOK},
		{"?limit=500&cursor=MDAwMS0wMS0wMVQwMDowMDowMFp8VjAwMDE", http.StatusOK}, // 0001-01-01T00:00:00Z|V0001
		{"?limit=0", http.StatusUnprocessableEntity},
		{"?limit=501", http.StatusUnprocessableEntity},
		{"?limit=-1", http.StatusUnprocessableEntity}, // the guard refuses it before the handler
		{"?limit=abc", http.StatusBadRequest},
		{"?cursor=AAAAAAAAAAAAAAAA", http.StatusBadRequest},
		{"?cursor=%21%21", http.StatusBadRequest},
	} {
		code, _, body := request(t, srv, admin, "GET", "/api/v1/vouchers"+c.query, "", nil)
		if code != c.status {
			t.Errorf("%s: %d %s, want %d", c.query, code, body, c.status)
		}
	}
}
