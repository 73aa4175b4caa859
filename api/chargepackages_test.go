package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/voltflow/voltflow/interconnect/registry"
	"github.com/voltflow/voltflow/store/charger"
)

// TestChargingPackagesAPI grants a monthly terminal package (终端包月) to the
// demo card's customer, refuses bad ones with their field (changing
// nothing), changes the quota in place and keeps other tenants out.
func TestChargingPackagesAPI(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	var projectID string
	if err := db.QueryRow(ctx, `select id::text from projects where code = 'demo'`).Scan(&projectID); err != nil {
		t.Fatal(err)
	}
	if err := registry.LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := charger.LoadDemo(ctx, db, projectID); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.QueryRow(ctx, `select count(*) from charging_packages`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	type problem struct{ Code, Field string }
	for _, tc := range []struct {
		name, token, body string
		status            int
		code, field       string
	}{
		{"month", admin, `{"cardNo":"D0000001","month":"2026-13","quotaKwh":"100"}`, 422, "invalid_field", "month"},
		{"negative quota", admin, `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"-1"}`, 422, "invalid_field", "quotaKwh"},
		{"quota places", admin, `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"1.0005"}`, 422, "invalid_field", "quotaKwh"},
		{"charger", admin, `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"100","equipmentIds":["4403000000000000000099"]}`, 422, "invalid_field", "equipmentIds"},
		{"no card", admin, `{"month":"2026-11","quotaKwh":"100"}`, 422, "invalid_field", "cardNo"},
		{"unknown card", admin, `{"cardNo":"NOPE","month":"2026-11","quotaKwh":"100"}`, 404, "not_found", "cardNo"},
		{"other tenant", other, `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"100"}`, 404, "not_found", "cardNo"},
		{"malformed quota", admin, `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"lots"}`, 400, "malformed_request", ""},
	} {
		code, b := send(t, srv, tc.token, "POST", "/api/v1/charging-packages", tc.body)
		var p problem
		_ = json.Unmarshal(b, &p)
		if code != tc.status || p.Code != tc.code || p.Field != tc.field {
			t.Errorf("%s: %d %s, want %d %s on %q", tc.name, code, b, tc.status, tc.code, tc.field)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("refused packages stored: %d", n)
	}
	type pkg struct {
		ID, Month, QuotaKwh, UsedKwh, CustomerID string
		EquipmentIDs                             []string
	}
	var first, second pkg
	code, b := send(t, srv, admin, "POST", "/api/v1/charging-packages",
		`{"cardNo":"D0000001","month":"2026-11","quotaKwh":"100","equipmentIds":["`+registry.DemoEquipmentIDs[0]+`"]}`)
	if err := json.Unmarshal(b, &first); code != http.StatusCreated || err != nil || first.QuotaKwh != "100" || first.UsedKwh != "0" ||
		len(first.EquipmentIDs) != 1 || first.CustomerID == "" {
		t.Fatalf("grant: %d %s", code, b)
	}
	// The month's usage stays when the quota changes.
	if _, err := db.Exec(ctx, `update charging_packages set used_kwh = 12.5 where id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	code, b = send(t, srv, admin, "POST", "/api/v1/charging-packages", `{"cardNo":"D0000001","month":"2026-11","quotaKwh":"50.5"}`)
	if err := json.Unmarshal(b, &second); code != http.StatusCreated || err != nil || second.ID != first.ID ||
		second.QuotaKwh != "50.5" || second.UsedKwh != "12.5" || len(second.EquipmentIDs) != 0 {
		t.Fatalf("change: %d %s", code, b)
	}
	resp, b := get(t, srv, admin, "/api/v1/charging-packages?cardNo=D0000001&month=2026-11")
	var list struct{ Items []pkg }
	if err := json.Unmarshal(b, &list); resp.StatusCode != 200 || err != nil || len(list.Items) != 1 || list.Items[0].ID != first.ID {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, srv, other, "/api/v1/charging-packages")
	if err := json.Unmarshal(b, &list); resp.StatusCode != 200 || err != nil || len(list.Items) != 0 {
		t.Fatalf("other tenant sees %d %s", resp.StatusCode, b)
	}
}
