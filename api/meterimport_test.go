package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/api"
)

func upload(t *testing.T, srv *httptest.Server, token, path, contentType string, body []byte) (int, string, []byte) {
	t.Helper()
	return request(t, srv, token, "POST", path, contentType, body)
}

func TestMeterImportAPI(t *testing.T) {
	srv, db, admin, other := reportsAPI(t)
	ctx := context.Background()
	const path = "/api/v1/projects/demo/meter-imports"
	meters := func() int {
		var n int
		if err := db.QueryRow(ctx, `select count(*) from meters`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	result := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return m
	}
	before := meters()
	sheet := []byte("\ufeff表号,网关编号,网关地址,协议,通讯地址,型号,单价,kind\n" +
		"N-1,GW-NEW,10.1.2.3:502,modbus-tcp,1,ref-prepaid-v1,1.20,\n" +
		"N-2,GW-NEW,,,2,ref-water-valve-v1,3.5,water\n" +
		"N-3,GW-01,,,33,ref-prepaid-v1,1.20,\n") // a stored gateway of the demo

	// A dry run says what would happen and stores nothing.
	code, _, body := upload(t, srv, admin, path+"?dry_run=true", "text/csv", sheet)
	if code != http.StatusOK || result(body)["metersCreated"] != 3.0 || result(body)["dryRun"] != true || meters() != before {
		t.Fatalf("dry run: %d %s, %d meters stored", code, body, meters()-before)
	}
	code, _, body = upload(t, srv, admin, path, "text/csv; charset=utf-8", sheet)
	if code != http.StatusCreated || result(body)["gatewaysCreated"] != 1.0 || result(body)["metersCreated"] != 3.0 ||
		meters() != before+3 {
		t.Fatalf("import: %d %s, %d meters stored", code, body, meters()-before)
	}
	var kind, gw string
	if err := db.QueryRow(ctx, `select m.kind, g.code from meters m join gateways g on g.id = m.gateway_id where m.meter_no='N-2'`).
		Scan(&kind, &gw); err != nil || kind != "water" || gw != "GW-NEW" {
		t.Fatalf("N-2: %s on %s (%v)", kind, gw, err)
	}
	var audited string
	if err := db.QueryRow(ctx, `select detail->>'metersCreated' from audit_log where action='meter.import' and status=201`).
		Scan(&audited); err != nil || audited != "3" {
		t.Fatalf("audit of the import: %q %v", audited, err)
	}
	// Sent again: left alone.
	code, _, body = upload(t, srv, admin, path, "text/csv", sheet)
	if code != http.StatusCreated || result(body)["metersUnchanged"] != 3.0 || result(body)["metersCreated"] != 0.0 {
		t.Fatalf("again: %d %s", code, body)
	}

	// An Excel workbook, as operators keep their 档案.
	f := excelize.NewFile()
	for i, row := range [][]any{{"meter_no", "gateway", "gateway_address", "protocol", "unit_address", "profile", "price"},
		{"X-1", "GW-X", "10.1.2.4:8899", "dlt645-tcp", 1, "ref-prepaid-v1", 0.95},
		{"000000000042", "GW-X", nil, nil, 2, "ref-prepaid-v1", 0.95}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var xlsx bytes.Buffer
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	// X-1 is no DL/T 645 address: the whole workbook is refused.
	code, ctype, body := upload(t, srv, admin, path,
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Bytes())
	var p struct {
		api.Problem
		ProblemCount int `json:"problemCount"`
		Problems     []struct {
			Row            int
			Column, Detail string
		}
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusUnprocessableEntity || ctype != "application/problem+json" || p.Code != api.CodeInvalidImport ||
		p.ProblemCount != 1 || p.Problems[0].Row != 2 || p.Problems[0].Column != "meter_no" || meters() != before+3 {
		t.Fatalf("workbook with a bad row: %d %s %s, %d meters stored", code, ctype, body, meters()-before-3)
	}
	if err := f.SetCellValue("Sheet1", "A2", "000000000041"); err != nil {
		t.Fatal(err)
	}
	xlsx.Reset()
	if err := f.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	code, _, body = upload(t, srv, admin, path, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Bytes())
	if code != http.StatusCreated || result(body)["metersCreated"] != 2.0 || meters() != before+5 {
		t.Fatalf("workbook: %d %s", code, body)
	}

	// Refused, with nothing stored.
	for _, c := range []struct {
		name, token, path, ctype, body string
		status                         int
		code                           string
		problems                       int
	}{
		{"contradicts stored meters", admin, path, "text/csv",
			"meter_no,gateway,unit_address,profile,price\nM0001,GW-01,1,ref-prepaid-v1,9.99\nN-9,GW-01,2,ref-prepaid-v1,1\n",
			422, api.CodeInvalidImport, 2},
		{"bad cells", admin, path, "text/csv", "meter_no,gateway,unit_address,profile,price\nN-9,GW-01,300,nope,x\n",
			422, api.CodeInvalidImport, 3},
		{"dry_run neither true nor false", admin, path + "?dry_run=yes", "text/csv", "meter_no\n", 400, api.CodeInvalidField, 0},
		{"not a sheet", admin, path, "application/json", `{"meters":[]}`, 415, api.CodeMalformed, 0},
		{"broken CSV", admin, path, "text/csv", "meter_no,gateway,unit_address,profile,price\n\"N-9,GW-01\n", 400, api.CodeMalformed, 0},
		{"empty", admin, path, "text/csv", "", 400, api.CodeMalformed, 0},
		{"too large", admin, path, "text/csv", strings.Repeat("x", 65<<20), 413, api.CodeMalformed, 0},
		{"another tenant's project", other, path, "text/csv", "meter_no\n", 404, api.CodeNotFound, 0},
		{"a viewer", other, "/api/v1/projects/other/meter-imports", "text/csv", "meter_no\n", 403, api.CodeForbidden, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, body := upload(t, srv, c.token, c.path, c.ctype, []byte(c.body))
			var p struct {
				Code         string
				ProblemCount int
			}
			_ = json.Unmarshal(body, &p)
			if code != c.status || p.Code != c.code || p.ProblemCount != c.problems {
				t.Errorf("%d %s, want %d %s with %d problems", code, body, c.status, c.code, c.problems)
			}
			if meters() != before+5 {
				t.Errorf("%d meters stored", meters()-before-5)
			}
		})
	}
}
