package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/voltflow/voltflow/api"
)

func TestGatewayAPI(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	const path = "/api/v1/projects/demo/gateways/GW-01"
	gateway := func(b []byte) api.Gateway {
		var g api.Gateway
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return g
	}
	code, body := send(t, srv, admin, "GET", path, "")
	if g := gateway(body); code != http.StatusOK || g.Protocol != "modbus-tcp" || g.Meters != 4 || g.MaxInFlight != nil ||
		g.Reachable != nil || g.Pipelining != "pipelined" || g.PipeliningDetectedAt != nil {
		t.Fatalf("get: %d %s", code, body)
	}
	// A sweep found it dropping the second request in flight (store/sweep
	// records it): the gateway says it is read one at a time, and since when.
	if _, err := db.Exec(ctx, `update gateways set pipelining='unsupported', pipelining_detected_at='2026-11-23T10:00:00Z'
		where code='GW-01'`); err != nil {
		t.Fatal(err)
	}
	code, body = send(t, srv, admin, "GET", path, "")
	if g := gateway(body); code != http.StatusOK || g.Pipelining != "unsupported" || g.PipeliningDetectedAt == nil ||
		g.PipeliningDetectedAt.UTC().Format("15:04") != "10:00" {
		t.Fatalf("get after detection: %d %s", code, body)
	}
	code, body = send(t, srv, admin, "PATCH", path, `{"address":"10.9.8.7:4001","maxInFlight":1}`)
	if g := gateway(body); code != http.StatusOK || g.Address != "10.9.8.7:4001" || g.MaxInFlight == nil || *g.MaxInFlight != 1 ||
		g.Pipelining != "one_at_a_time" || g.PipeliningDetectedAt != nil {
		t.Fatalf("patch: %d %s", code, body)
	}
	// Only the window, back to the default: the address stays.
	code, body = send(t, srv, admin, "PATCH", path, `{"maxInFlight":null}`)
	if g := gateway(body); code != http.StatusOK || g.Address != "10.9.8.7:4001" || g.MaxInFlight != nil {
		t.Fatalf("reset window: %d %s", code, body)
	}
	var address string
	var window *int
	if err := db.QueryRow(ctx, `select address, max_in_flight from gateways where code='GW-01' and project_id =
		(select id from projects where code='demo')`).Scan(&address, &window); err != nil || address != "10.9.8.7:4001" || window != nil {
		t.Fatalf("stored %s %v (%v)", address, window, err)
	}
	if _, err := db.Exec(ctx, `insert into gateways(id, project_id, code, protocol, address)
		select gen_random_uuid(), id, 'RTU-1', 'modbus-rtu-tcp', '10.0.0.5:4001' from projects where code='demo'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, path, body string
		status                  int
		code, field             string
	}{
		{"window too large", admin, path, `{"maxInFlight":300}`, 422, api.CodeInvalidField, "maxInFlight"},
		{"window on RTU over TCP", admin, "/api/v1/projects/demo/gateways/RTU-1", `{"maxInFlight":4}`, 422, api.CodeInvalidField, "maxInFlight"},
		{"not host:port", admin, path, `{"address":"10.9.8.7"}`, 422, api.CodeInvalidField, "address"},
		{"unknown field", admin, path, `{"protocol":"dlt645-tcp"}`, 400, api.CodeMalformed, ""},
		{"unknown gateway", admin, "/api/v1/projects/demo/gateways/NOPE", `{"maxInFlight":1}`, 404, api.CodeNotFound, ""},
		{"another tenant's project", other, path, `{"maxInFlight":1}`, 404, api.CodeNotFound, ""},
		{"a viewer", other, "/api/v1/projects/other/gateways/GW-01", `{"maxInFlight":1}`, 403, api.CodeForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := send(t, srv, c.token, "PATCH", c.path, c.body)
			var p api.Problem
			_ = json.Unmarshal(body, &p)
			if code != c.status || p.Code != c.code || p.Field != c.field {
				t.Errorf("%d %s, want %d %s %s", code, body, c.status, c.code, c.field)
			}
		})
	}
	code, body = send(t, srv, admin, "GET", path, "")
	if g := gateway(body); code != http.StatusOK || g.Address != "10.9.8.7:4001" || g.MaxInFlight != nil {
		t.Fatalf("after the refused changes: %d %s", code, body)
	}
}
