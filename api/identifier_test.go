package api_test

import (
	"encoding/json"
	"testing"

	"github.com/voltflow/voltflow/api"
)

// TestBusinessNumberFormats: a malformed VIN, plate, card or meter number
// in a body is 422 invalid_field naming the field; a well-formed but
// unknown one still gets past the format to its lookup (404).
func TestBusinessNumberFormats(t *testing.T) {
	srv, _, admin, _ := reportsAPI(t)
	const vin = "LVVDB11B0ND000001"
	for _, c := range []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"recharge, meter with a space", "/api/v1/recharges", `{"meterNo":"M 0001","amount":"1.00","transactionNo":"t-1"}`, 422, api.CodeInvalidField, "meterNo"},
		{"recharge, meter with a slash", "/api/v1/recharges", `{"meterNo":"M/0001","amount":"1.00","transactionNo":"t-1"}`, 422, api.CodeInvalidField, "meterNo"},
		{"recharge, meter of 33 characters", "/api/v1/recharges", `{"meterNo":"M00000000000000000000000000000001","amount":"1.00","transactionNo":"t-1"}`, 422, api.CodeInvalidField, "meterNo"},
		{"recharge, unknown meter", "/api/v1/recharges", `{"meterNo":"M9999","amount":"1.00","transactionNo":"t-1"}`, 404, api.CodeNotFound, "meterNo"},
		{"refund, meter with a hash", "/api/v1/refunds", `{"meterNo":"M#1","amount":"1.00","transactionNo":"t-1"}`, 422, api.CodeInvalidField, "meterNo"},
		{"batch, second meter malformed", "/api/v1/meter-batches", `{"command":"switch_off","meterNos":["M9999","M?1"]}`, 422, api.CodeInvalidField, "meterNos[1]"},
		{"batch, unknown meter", "/api/v1/meter-batches", `{"command":"switch_off","meterNos":["M9999"]}`, 404, api.CodeNotFound, "meterNos"},
		{"vehicle, VIN with an O", "/api/v1/vehicles", `{"vin":"LVVDB11B0ND00000O","cardNo":"D0000001"}`, 422, api.CodeInvalidField, "vin"},
		{"vehicle, VIN in lower case", "/api/v1/vehicles", `{"vin":"lvvdb11b0nd000001","cardNo":"D0000001"}`, 422, api.CodeInvalidField, "vin"},
		{"vehicle, card with a space", "/api/v1/vehicles", `{"vin":"` + vin + `","cardNo":"D 1"}`, 422, api.CodeInvalidField, "cardNo"},
		{"vehicle, plate without province", "/api/v1/vehicles", `{"vin":"` + vin + `","cardNo":"NOPE","plate":"AB12345"}`, 422, api.CodeInvalidField, "plate"},
		{"vehicle, plate too long", "/api/v1/vehicles", `{"vin":"` + vin + `","cardNo":"NOPE","plate":"粤BD123456"}`, 422, api.CodeInvalidField, "plate"},
		{"vehicle, new-energy plate, unknown card", "/api/v1/vehicles", `{"vin":"` + vin + `","cardNo":"NOPE","plate":"粤BD12345"}`, 404, api.CodeNotFound, ""},
		{"vehicle, trailer plate, unknown card", "/api/v1/vehicles", `{"vin":"` + vin + `","cardNo":"NOPE","plate":"沪A1234挂"}`, 404, api.CodeNotFound, ""},
		{"card activation, Chinese card number", "/api/v1/cards", `{"cardNo":"卡0001","holder":"A"}`, 422, api.CodeInvalidField, "cardNo"},
		{"app start, card with a slash", "/api/v1/charging-orders", `{"cardNo":"D/1","connectorId":"c"}`, 422, api.CodeInvalidField, "cardNo"},
		{"app start, unknown connector", "/api/v1/charging-orders", `{"cardNo":"NOPE","connectorId":"c"}`, 404, api.CodeNotFound, ""},
		{"package, card with a percent", "/api/v1/charging-packages", `{"cardNo":"D%1","month":"2026-11","quotaKwh":"100"}`, 422, api.CodeInvalidField, "cardNo"},
		{"package, unknown card", "/api/v1/charging-packages", `{"cardNo":"NOPE","month":"2026-11","quotaKwh":"100"}`, 404, api.CodeNotFound, "cardNo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, srv.URL, admin, "POST", c.path, c.body)
			var p api.Problem
			_ = json.Unmarshal(body, &p)
			if resp.StatusCode != c.status || p.Code != c.code || p.Field != c.field {
				t.Errorf("%d %s, want %d %s %s", resp.StatusCode, body, c.status, c.code, c.field)
			}
		})
	}
}
