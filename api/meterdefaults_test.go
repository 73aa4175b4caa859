package api_test

import (
	"net/http"
	"testing"

	"github.com/voltflow/voltflow/api"
)

// TestMeterImportUsesProjectDefaults imports meters whose sheet leaves the
// price and alarms out: without project settings the price is required;
// with them the project's default price and alarm amounts are stored.
func TestMeterImportUsesProjectDefaults(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	const path = "/api/v1/projects/demo/meter-imports"
	sheet := []byte("meter_no,gateway,unit_address,profile,alarm1,alarm2\n" +
		"D-1,GW-01,40,ref-prepaid-v1,,\n" +
		"D-2,GW-01,41,ref-prepaid-v1,30.00,\n")
	if code, _, body := upload(t, srv, admin, path, "text/csv", sheet); code != http.StatusUnprocessableEntity || problemCode(body) != api.CodeInvalidImport {
		t.Fatalf("no default price, no price column: %d %s, want 422 %s", code, body, api.CodeInvalidImport)
	}
	if code, b := send(t, srv, admin, "PUT", "/api/v1/projects/demo/settings",
		`{"autoApproveUpTo":"500.00","defaultPrice":"1.1000","alarm1":"20.00","alarm2":"5.00"}`); code != 200 {
		t.Fatalf("settings: %d %s", code, b)
	}
	if code, _, body := upload(t, srv, admin, path, "text/csv", sheet); code != http.StatusCreated {
		t.Fatalf("import with project defaults: %d %s", code, body)
	}
	for _, want := range []struct{ meterNo, price, alarm1, alarm2 string }{
		{"D-1", "1.1000", "20.00", "5.00"},
		{"D-2", "1.1000", "30.00", "5.00"}, // a cell given wins
	} {
		var price, alarm1, alarm2 string
		if err := db.QueryRow(t.Context(), `select price::text, alarm1::text, alarm2::text from meters where meter_no=$1`,
			want.meterNo).Scan(&price, &alarm1, &alarm2); err != nil {
			t.Fatal(err)
		}
		if price != want.price || alarm1 != want.alarm1 || alarm2 != want.alarm2 {
			t.Errorf("%s: price %s, alarms %s %s; want %s, %s %s", want.meterNo, price, alarm1, alarm2, want.price, want.alarm1, want.alarm2)
		}
	}
}
