package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

// pdfToText extracts a PDF's text with pdftotext (poppler-utils, installed
// by deploy/install-deps.sh), keeping the layout so a row stays on a line.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext missing: run deploy/install-deps.sh (poppler-utils)")
	}
	p := filepath.Join(t.TempDir(), "paper.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestFeeListPDF: the fee list of a month as JSON, xlsx and PDF shows the
// same hand-computed figures per unit; the PDF is in Chinese and adds the
// month's totals; a viewer scoped to another building sees its unit only.
func TestFeeListPDF(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	var project string
	if err := db.QueryRow(ctx, `select id::text from projects where code='demo'`).Scan(&project); err != nil {
		t.Fatal(err)
	}
	schedule := func(kind string) string {
		id := uuid.NewString()
		if _, err := db.Exec(ctx, `insert into fee_schedules(id, project_id, unit_id, kind, basis, amount, day_of_month)
			select $1, $2, unit_id, $3, 'fixed', 1, 1 from meters where meter_no='M0001'`, id, project, kind); err != nil {
			t.Fatal(err)
		}
		return id
	}
	sch := map[string]string{"rent": schedule("rent"), "management": schedule("management"), "capacity": schedule("capacity")}
	charge := func(meterNo, kind, amount, arrears string) {
		t.Helper()
		if _, err := db.Exec(ctx, `insert into fee_charges(schedule_id, unit_id, period, project_id, kind, amount, arrears,
			meter_no, account_no, ledger_key, booked_on)
			select $1, m.unit_id, '2026-04', m.project_id, $2, $3, $4, m.meter_no, a.account_no, 'fee:test:'||m.meter_no||$2, '2026-04-01'
			from meters m join prepaid_accounts a on a.id=m.account_id where m.meter_no=$5`,
			sch[kind], kind, amount, arrears, meterNo); err != nil {
			t.Fatal(err)
		}
	}
	charge("M0001", "rent", "3000.00", "0")
	charge("M0001", "management", "125.50", "0")
	charge("M0002", "management", "80.00", "0")
	charge("M0002", "capacity", "45.25", "45.25")
	charge("M0003", "rent", "1500.00", "200.00")
	// Per unit: M0001 3125.50 paid; M0002 125.25 of which 45.25 in arrears;
	// M0003 1500.00 of which 200.00 in arrears. Month: 4750.75, arrears 245.25.
	type line struct {
		UnitName, MeterNo, Rent, Management, Capacity, Total, Arrears string
	}
	want := []line{
		{"Shop M0001", "M0001", "3000.00", "125.50", "0.00", "3125.50", "0.00"},
		{"Shop M0002", "M0002", "0.00", "80.00", "45.25", "125.25", "45.25"},
		{"Shop M0003", "M0003", "1500.00", "0.00", "0.00", "1500.00", "200.00"},
	}
	const path = "/api/v1/projects/demo/fees?month=2026-04"
	list := func(token string) []line {
		t.Helper()
		resp, body := get(t, srv, token, path)
		var out struct{ Items []line }
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("fee list: %d %s", resp.StatusCode, body)
		}
		return out.Items
	}
	got := list(admin)
	if len(got) != len(want) {
		t.Fatalf("fee list %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	resp, body := get(t, srv, admin, path+"&format=xlsx")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx %d %s", resp.StatusCode, body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows("fees")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 {
		t.Fatalf("workbook rows %v", rows)
	}

	resp, body = get(t, srv, admin, path+"&format=pdf")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	text := pdfToText(t, body)
	for _, w := range []string{"物业费用清单", "月份 Month: 2026-04", "合计 Total: 4750.75", "欠费 Arrears: 245.25", "共 3 户",
		"单元", "房租", "物业费", "容量费", "欠费"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF lacks %q:\n%s", w, text)
		}
	}
	// Every xlsx row is one PDF line with the same cells in the same order,
	// and each matches the JSON line.
	lines := strings.Split(text, "\n")
	for i, row := range rows[1:] {
		if row[0] != want[i].UnitName || row[2] != want[i].MeterNo || row[3] != want[i].Rent || row[4] != want[i].Management ||
			row[5] != want[i].Capacity || row[6] != want[i].Total || row[7] != want[i].Arrears {
			t.Errorf("xlsx row %v, JSON line %+v", row, want[i])
		}
		found := false
		for _, l := range lines {
			if !strings.Contains(l, row[0]) {
				continue
			}
			rest, ok := l, true
			for _, c := range row {
				k := strings.Index(rest, c)
				if k < 0 {
					ok = false
					break
				}
				rest = rest[k+len(c):]
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no PDF line holds %v in order:\n%s", row, text)
		}
	}

	// A viewer scoped to Building B, where M0002's unit moves, sees that
	// unit only, in the list and on paper.
	building := idOf(t, must(t, srv, 201, admin, "POST", "/api/v1/projects/demo/sites", `{"name":"Building B","level":1,"parentId":null}`))
	if _, err := db.Exec(ctx, `update units set site_id=$1 where id=(select unit_id from meters where meter_no='M0002')`, building); err != nil {
		t.Fatal(err)
	}
	alice := newViewer(t, srv, admin)
	must(t, srv, 201, admin, "POST", "/api/v1/operators/alice/roles", `{"project":"demo","role":"viewer","siteIds":["`+building+`"]}`)
	if got := list(alice); len(got) != 1 || got[0] != want[1] {
		t.Errorf("scoped fee list %+v, want only %+v", got, want[1])
	}
	_, body = get(t, srv, alice, path+"&format=pdf")
	if text := pdfToText(t, body); !strings.Contains(text, "合计 Total: 125.25") || strings.Contains(text, "Shop M0001") {
		t.Errorf("scoped PDF:\n%s", text)
	}
	if resp, _ := get(t, srv, admin, path+"&format=doc"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("format=doc: %d", resp.StatusCode)
	}
}
