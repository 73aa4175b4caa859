package api_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	commonareadom "github.com/voltflow/voltflow/domain/commonarea"
	commonareastore "github.com/voltflow/voltflow/store/commonarea"
)

// TestStatementShowsCommonAreaShares: M0004 is a common-area meter shared
// by area between M0001's unit (30 m²) and M0002's (10 m²). Its readings
// (40.00 on Oct 1st, 100.00 on Nov 1st, 220.00 on Dec 1st, at 1.20 a kWh)
// give October 60 kWh = 72.00 (54.00 + 18.00) and November 120 kWh =
// 144.00 (108.00 + 36.00). November's statement shows November's shares
// and the rule on each unit's meter, the same in JSON, xlsx and PDF.
func TestStatementShowsCommonAreaShares(t *testing.T) {
	srv, db, admin, _ := reportsAPI(t)
	ctx := t.Context()
	var project string
	if err := db.QueryRow(ctx, `select id::text from projects where code='demo'`).Scan(&project); err != nil {
		t.Fatal(err)
	}
	unitOf := func(meterNo string) string {
		var id string
		if err := db.QueryRow(ctx, `select unit_id::text from meters where meter_no=$1`, meterNo).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for no, area := range map[string]string{"M0001": "30", "M0002": "10"} {
		if err := commonareastore.SetUnitArea(ctx, db, project, unitOf(no), decimal.RequireFromString(area)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `update meters set price=1.2 where meter_no='M0004'`); err != nil {
		t.Fatal(err)
	}
	if err := commonareastore.SetRules(ctx, db, project, []commonareastore.Rule{{MeterNo: "M0004", Method: commonareadom.ByArea,
		Units: []commonareastore.RuleUnit{{UnitID: unitOf("M0001")}, {UnitID: unitOf("M0002")}}}}); err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	for _, r := range []struct {
		month  time.Month
		energy string
	}{{10, "40.00"}, {11, "100.00"}, {12, "220.00"}} {
		readAt := time.Date(2026, r.month, 1, 0, 0, 0, 0, cst)
		if _, err := db.Exec(ctx, `select readings_partition($1)`, readAt); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `insert into readings(meter_id, read_at, taken_at, energy_kwh, sharp_kwh, peak_kwh, flat_kwh,
			valley_kwh, voltage_v, current_a, power_kw, remaining, purchase_count, relay, mode, status_flags)
			select id, $1, $1, $2, 0, 0, 0, 0, 220, 1, 0.2, 50, 1, 0, 0, 0 from meters where meter_no='M0004'`, readAt, r.energy); err != nil {
			t.Fatal(err)
		}
	}
	for _, period := range []string{"2026-10", "2026-11"} {
		if _, err := commonareastore.Allocate(ctx, db, commonareastore.AllocateInput{ProjectID: project, Period: period}); err != nil {
			t.Fatal(err)
		}
	}

	const path = "/api/v1/reports/statement?from=2026-11-01&to=2026-12-01"
	resp, body := get(t, srv, admin, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var page struct {
		Items []struct {
			MeterNo          string
			CommonArea       string
			CommonAreaRule   string
			CommonAreaShares []map[string]string
		}
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"M0001": {"108.00", "M0004 2026-11 按面积 area 30/40 × 144.00"},
		"M0002": {"36.00", "M0004 2026-11 按面积 area 10/40 × 144.00"},
		"M0003": {"0.00", ""},
		"M0004": {"0.00", ""},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("statement rows %s", body)
	}
	for _, it := range page.Items {
		if w := want[it.MeterNo]; it.CommonArea != w[0] || it.CommonAreaRule != w[1] {
			t.Errorf("%s: common area %q rule %q, want %q %q", it.MeterNo, it.CommonArea, it.CommonAreaRule, w[0], w[1])
		}
	}
	share := map[string]string{"meterNo": "M0004", "period": "2026-11", "method": "area", "kwh": "120.00", "price": "1.2000",
		"total": "144.00", "weight": "30", "totalWeight": "40", "amount": "108.00"}
	if got := page.Items[0].CommonAreaShares; len(got) != 1 || !maps.Equal(got[0], share) {
		t.Errorf("M0001 shares %v, want [%v]", got, share)
	}

	resp, body = get(t, srv, admin, path+"&format=xlsx")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx %d %s", resp.StatusCode, body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows("statement")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][14] != "公摊 Common area" || rows[0][15] != "公摊规则 Common-area rule" {
		t.Fatalf("workbook %v", rows)
	}
	for _, row := range rows[1:3] {
		w := want[row[0]]
		if row[14] != strings.TrimSuffix(w[0], ".00") || row[15] != w[1] {
			t.Errorf("xlsx row %v, want %v", row, w)
		}
	}

	resp, body = get(t, srv, admin, path+"&format=pdf")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pdf %d %s", resp.StatusCode, body)
	}
	text := pdfToText(t, body)
	for _, no := range []string{"M0001", "M0002"} {
		w, found := want[no], false
		for _, l := range strings.Split(text, "\n") {
			found = found || strings.Contains(l, no) && strings.Contains(l, strings.TrimSuffix(w[0], ".00")) && strings.Contains(l, w[1])
		}
		if !found {
			t.Errorf("no PDF line of %s with %v:\n%s", no, w, text)
		}
	}
	if !strings.Contains(text, "公摊") {
		t.Errorf("PDF lacks the common-area columns:\n%s", text)
	}
}
