package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/api"
)

// zeros is an endless body of one repeated byte, so the client side of the
// test allocates nothing for a 200 MB upload.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestHugeBodyIs413: a 200 MB JSON body is refused 413 after the first MiB,
// and the server allocates a few MB for it, not 200.
func TestHugeBodyIs413(t *testing.T) {
	srv, _, _, _ := reportsAPI(t)
	const size = 200 << 20
	body := io.MultiReader(strings.NewReader(`{"username":"`), io.LimitReader(zeros{}, size))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/login", body)
	req.ContentLength = size + 13
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	var p api.Problem
	_ = json.Unmarshal(raw, &p)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("200 MB body: %d %s; allocated %.1f MB while serving it", resp.StatusCode, p.Detail, float64(allocated)/(1<<20))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%d %s", resp.StatusCode, raw)
	}
	if allocated > 10<<20 {
		t.Errorf("allocated %d bytes for a refused body, want under 10 MB", allocated)
	}
}
