package tenant

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	tenantstore "github.com/voltflow/voltflow/store/tenant"
)

// TestTenantBalanceBench (make bench-tenant; not a timed test) loads
// 100,000 tenants, each with a meter whose state the sweep would have kept,
// and measures GET /api/v1/tenant/meters with 64 concurrent clients on the
// API process next to GET /healthz on the same server; one line each:
// `tenant-balance meters=… clients=64 requests=… rate=…/s p50_ms=… p99_ms=…`.
func TestTenantBalanceBench(t *testing.T) {
	if os.Getenv("VOLTFLOW_BENCH_TENANT") == "" {
		t.Skip("set VOLTFLOW_BENCH_TENANT=1 (make bench-tenant)")
	}
	const meters, clients = 100_000, 64
	ctx := context.Background()
	pay := stack.StartPayments(t)
	// A project of its own: no sweep Schedule reads these meters.
	project := uuid.NewString()
	for _, q := range []string{
		`insert into projects(id, organisation_id, code, name) select $1, organisation_id, 'bench', 'Bench' from projects where code='demo'`,
		`insert into gateways(id, project_id, code, protocol, address)
			select gen_random_uuid(), $1, 'BG-' || g, 'modbus-tcp', '127.0.0.1:' || (30000 + g) from generate_series(1, 100) g`,
		`insert into customers(id, project_id, name, phone)
			select gen_random_uuid(), $1, 'Bench ' || i, '150' || lpad(i::text, 8, '0') from generate_series(1, 100000) i`,
		`insert into prepaid_accounts(id, project_id, customer_id, account_no)
			select gen_random_uuid(), $1, c.id, 'BA' || substr(c.phone, 4) from customers c where c.project_id = $1`,
		`insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id)
			select gen_random_uuid(), $1, 'B' || substr(c.phone, 4), g.id, (substr(c.phone, 4)::int % 1000) + 1, 'ref-prepaid-v1', 1.2, a.id
			from customers c join prepaid_accounts a on a.customer_id = c.id
			join gateways g on g.project_id = $1 and g.code = 'BG-' || ((substr(c.phone, 4)::int - 1) / 1000 + 1)
			where c.project_id = $1`,
		`insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh, relay, mode, status_flags, read_at)
			select id, 50, 0, 0, 100, 1, 0, 0, now() from meters where project_id = $1`,
		`analyze customers; analyze prepaid_accounts; analyze meters; analyze meter_state`,
	} {
		var err error
		if q[:7] == "analyze" {
			_, err = stack.DB.Exec(ctx, q)
		} else {
			_, err = stack.DB.Exec(ctx, q, project)
		}
		if err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("vt_bench%02d%s", i, uuid.NewString())
		phone := fmt.Sprintf("150%08d", 1+i*(meters/clients))
		if err := tenantstore.CreateSession(ctx, stack.DB, phone, tokens[i], time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 10 * time.Second}
	run := func(name, path string, auth bool) {
		var mu sync.Mutex
		var lat []time.Duration
		var failed int
		deadline := time.Now().Add(10 * time.Second)
		var wg sync.WaitGroup
		start := time.Now()
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				bad := 0
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest(http.MethodGet, pay.API+path, nil)
					if auth {
						req.Header.Set("Authorization", "Bearer "+tokens[c])
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err == nil {
						_, _ = drain(resp)
						if resp.StatusCode != 200 {
							bad++
						}
					} else {
						bad++
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat, failed = append(lat, mine...), failed+bad
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		fmt.Printf("%s meters=%d clients=%d requests=%d failed=%d rate=%.0f/s p50_ms=%.2f p99_ms=%.2f\n",
			name, meters, clients, len(lat), failed, float64(len(lat))/elapsed.Seconds(), pct(0.50), pct(0.99))
		if failed > 0 {
			t.Errorf("%s: %d requests failed", name, failed)
		}
	}
	run("tenant-balance", "/api/v1/tenant/meters", true)
	run("healthz", "/healthz", false)
}

func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
