package salekinds

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestStatementPDFMatchesXLSX prints the demo project's energy-and-finance
// statement (电能与财务月报) for the month around today as xlsx and as PDF:
// the PDF has the same headers, as many rows, and on each meter's line
// every cell of that meter's xlsx row, in the same order.
func TestStatementPDFMatchesXLSX(t *testing.T) {
	cashier := stack.Login(t, "cashier", "cashier")
	// Something to show: a sale today.
	_, r, _ := post(t, cashier, "/api/v1/recharges", fmt.Sprintf(`{"meterNo":"M0038","amount":"45.60","transactionNo":%q}`, txNo(t)))
	wait(t, cashier, "/api/v1/recharges/", r.ID, "completed")
	china := time.FixedZone("CST", 8*3600)
	now := time.Now().In(china)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, china).Format(time.DateOnly)
	to := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, china).Format(time.DateOnly)
	q := "/api/v1/reports/statement?project=demo&from=" + from + "&to=" + to

	code, raw, _ := cashier.DoRaw(t, "GET", q+"&format=xlsx", nil)
	if code != http.StatusOK {
		t.Fatalf("xlsx: %d %.300s", code, raw)
	}
	book, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows("statement")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("xlsx has %d rows", len(rows))
	}
	text := pdfText(t, cashier, q+"&format=pdf")
	contains(t, "statement PDF", text, "电能与财务月报", "期间 Period: "+from+" — "+to, fmt.Sprintf("共 %d 行", len(rows)-1))
	for _, h := range rows[0] {
		contains(t, "statement PDF header", text, strings.Fields(h)[0]) // the Chinese part of each header
	}
	lines := strings.Split(text, "\n")
	sold := false
	for _, row := range rows[1:] {
		var line string
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == row[0] {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no PDF line for meter %s", row[0])
			continue
		}
		rest := line
		for _, cell := range row {
			i := strings.Index(rest, cell)
			if i < 0 {
				t.Errorf("meter %s: cell %q not on its PDF line (in order):\n%s\nxlsx %q", row[0], cell, line, row)
				break
			}
			rest = rest[i+len(cell):]
		}
		if row[0] == "M0038" {
			sold = strings.Contains(line, "45.6")
		}
	}
	if !sold {
		t.Error("the statement does not show M0038's sale of 45.60")
	}
}
